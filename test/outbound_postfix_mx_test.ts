/**
 * Postfix (Debian) as the receiving MTA of another domain, found by MX (issue 23): a private Postfix
 * stores mail for remote.test in a Maildir (its `virtual` delivery agent), dnsmasq serves the MX
 * record of remote.test and Postern's DKIM records, and `postern serve` sends a message to
 * bob@remote.test through its queue, direct by MX. The message arrives once, and both the mailauth
 * and the OpenDKIM verifier (opendkim-testmsg) pass the signatures on the bytes Postfix stored.
 * Skipped unless Postfix can run (installed, root) and dnsmasq, opendkim-tools and unshare are here.
 */
import assert from "node:assert/strict";
import { canRunPostfix, type PostfixInstance, startPostfix, userIds } from "../scripts/bench/postfix.ts";
import { freePort, until } from "./helpers.ts";
import { type Dnsmasq, startDnsmasq } from "./dnsmasq_helpers.ts";
import { dnsmasqOptions } from "./dns_check_helpers.ts";
import { resolverOf, verifyDkim } from "./dkim_helpers.ts";
import { ADMIN } from "./jmap_helpers.ts";
import { managementCall } from "./live_connection_helpers.ts";
import { createUsers, type Obj, serverTarget } from "./mail_helpers.ts";
import { initMailData } from "./outbound_helpers.ts";
import { HAS_OPENDKIM_TOOLS, privateDnsAddress, withResolver } from "./opendkim_helpers.ts";
import { type MxProcess, skipping, startMxProcess } from "./smtp_helpers.ts";
import { call, draft, send } from "./submission_helpers.ts";

const ignore = !(HAS_OPENDKIM_TOOLS && await canRunPostfix()) &&
  skipping("Postfix as the receiving MTA by MX", "postfix, dnsmasq, opendkim-tools and root");

const MAIL_HOST = "mail.example.org";

/** A Postfix storing mail for bob@remote.test in `dir`/mail/bob/ (a Maildir). */
async function receivingPostfix(dir: string): Promise<PostfixInstance> {
  const { uid, gid } = await userIds("postfix");
  await Deno.mkdir(`${dir}/mail`, { recursive: true });
  await Deno.chown(`${dir}/mail`, uid, gid);
  return await startPostfix(dir, {
    smtpPort: freePort(),
    transports: { "unused.test": "discard:" },
    extra: {
      myhostname: "mx.remote.test",
      virtual_mailbox_domains: "remote.test",
      virtual_mailbox_base: `${dir}/mail`,
      virtual_mailbox_maps: "inline:{ bob@remote.test=bob/ }",
      virtual_uid_maps: `static:${uid}`,
      virtual_gid_maps: `static:${gid}`,
      virtual_minimum_uid: "1",
    },
    services: ["virtual   unix  -       n       n       -       -       virtual"],
  });
}

/** The messages in a Maildir's new/ folder. */
async function maildir(path: string): Promise<string[]> {
  const texts: string[] = [];
  try {
    for await (const entry of Deno.readDir(`${path}/new`)) {
      texts.push(await Deno.readTextFile(`${path}/new/${entry.name}`));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return texts;
}

Deno.test({
  name: "Postfix found by MX receives a queued message once, and mailauth and opendkim verify what it stored",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "postern-postfix-mx-" });
    const postfixDir = await Deno.makeTempDir({ prefix: "postern-postfix-mx-peer-" });
    let postfix: PostfixInstance | undefined;
    let dns: Dnsmasq | undefined;
    let server: MxProcess | undefined;
    try {
      const records = await initMailData(dir, MAIL_HOST);
      postfix = await receivingPostfix(postfixDir);
      // On port 53 of an address of its own: opendkim-testmsg asks the system resolver.
      const address = privateDnsAddress();
      dns = await startDnsmasq({}, [
        ...dnsmasqOptions(records, MAIL_HOST),
        "--mx-host=remote.test,mx.remote.test,10",
        "--host-record=mx.remote.test,127.0.0.1",
      ], { address, port: 53 });
      server = await startMxProcess(dir, { POSTERN_DNS_SERVER: dns.server, POSTERN_MAIL_HOST: MAIL_HOST });
      const target = serverTarget(server.url);
      await managementCall(target, ADMIN, "x:Outbound/set", {
        accountId: "b",
        update: { singleton: { mxPort: postfix.smtpPort } },
      });
      const [alice] = await createUsers(target, ["alice"]);
      const emailId = await draft(target as never, alice, {
        to: [{ name: null, email: "bob@remote.test" }],
        subject: "To Postfix by MX",
      });
      const id =
        (((await send(target as never, alice, emailId)).created as Record<string, Obj>).s.id) as string;
      const statusOf = async () =>
        (((await call(target as never, alice, "EmailSubmission/get", { ids: [id] })).list as Obj[])[0]
          .deliveryStatus as Record<string, Obj>)["bob@remote.test"];
      await until(async () => (await statusOf()).delivered === "yes", "Postfix to take the message");
      await until(async () => (await maildir(`${postfixDir}/mail/bob`)).length > 0, "Postfix to store it");
      await until(() => postfix!.queueEmpty(), "Postfix's queue to be empty");
      const stored = await maildir(`${postfixDir}/mail/bob`);
      assert.equal(stored.length, 1, "stored once");
      assert.match(stored[0], /^Subject: To Postfix by MX$/m);
      const message = stored[0].replace(/\r?\n/g, "\r\n");
      const verdicts = await verifyDkim(message, resolverOf(records as unknown as Obj[]));
      assert.deepEqual(verdicts.map((v) => [v.domain, v.result]), [["example.org", "pass"], [
        "example.org",
        "pass",
      ]]);
      const opendkim = await withResolver(postfixDir, address, "opendkim-testmsg -C", message);
      assert.equal(opendkim.code, 0, opendkim.text);
    } finally {
      await server?.stop();
      await dns?.stop();
      await postfix?.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => undefined);
      await Deno.remove(postfixDir, { recursive: true }).catch(() => undefined);
    }
  },
});
