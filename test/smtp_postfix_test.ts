/**
 * Postfix (Debian package `postfix`) as the sending MTA, a private instance (scripts/bench/postfix.ts)
 * whose transport for example.org is Postern's MX: mail submitted to Postfix lands in the Postern
 * account with Postfix's trace, Postfix's queue empties (every 250 was final), and Postern's refusals
 * reach Postfix as the permanent failures they are: an unknown recipient bounces with 550 5.1.1
 * while the message still reaches the known one, a message over the size limit bounces with 5.3.4
 * (552 at MAIL FROM, or at once from the SIZE the MX announced), one over a quota with 552 5.2.2.
 * Postfix must run as root (its master process); the test is skipped otherwise.
 */
import assert from "node:assert/strict";
import { canRunPostfix, type PostfixInstance, startPostfix } from "../scripts/bench/postfix.ts";
import { freePort, until } from "./helpers.ts";
import { createUsers, mailCall, type Obj, serverTarget } from "./mail_helpers.ts";
import { rawDialogue, skipping, startMxProcess, subjects } from "./smtp_helpers.ts";

const ignore = !(await canRunPostfix()) &&
  skipping("Postfix delivers to the MX", Deno.uid() === 0 ? "postfix" : "postfix (and root to run it)");

/** Submits one message to Postfix's smtpd; its reply to the end of DATA. */
async function submit(
  postfix: PostfixInstance,
  to: string[],
  subject: string,
  body = "Hello.",
): Promise<string> {
  const replies = await rawDialogue(postfix.smtpPort, [
    "EHLO client.sender.test\r\n",
    "MAIL FROM:<sender@sender.test>\r\n",
    ...to.map((address) => `RCPT TO:<${address}>\r\n`),
    "DATA\r\n",
    `From: sender@sender.test\r\nTo: ${to.join(", ")}\r\nSubject: ${subject}\r\n\r\n${body}\r\n.\r\n`,
    "QUIT\r\n",
  ]);
  assert.match(replies, /^250 2\.0\.0 Ok: queued as /m, replies);
  return replies;
}

Deno.test({
  name: "Postfix relays to the MX: delivered and dequeued; unknown 550 5.1.1, oversize and over quota 552",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "postern-postfix-" });
    const postfixDir = await Deno.makeTempDir({ prefix: "postern-postfix-peer-" });
    try {
      await relayThroughPostfix(dir, postfixDir);
    } finally {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(postfixDir, { recursive: true });
    }
  },
});

/** The test's steps: Postern on `dir`, Postfix on `postfixDir`. */
async function relayThroughPostfix(dir: string, postfixDir: string): Promise<void> {
  const server = await startMxProcess(dir, { POSTERN_SMTP_MAX_MESSAGE_BYTES: "50000" });
  let postfix: PostfixInstance | undefined;
  try {
    const target = serverTarget(server.url);
    const [alice] = await createUsers(target, ["alice"]);
    await createUsers(target, ["frank"], { quotas: { maxDiskQuota: 3000 } });
    postfix = await startPostfix(postfixDir, {
      smtpPort: freePort(),
      // Bounces go back to sender.test, which discards them: the queue can empty.
      transports: { "example.org": `smtp:[127.0.0.1]:${server.smtpPort}`, "sender.test": "discard:" },
    });
    const pf = postfix;

    // Ten messages (Postfix reuses its connection), one of them also to an unknown address.
    for (let i = 0; i < 10; i++) {
      await submit(
        pf,
        i === 3 ? ["alice@example.org", "nobody@example.org"] : ["alice@example.org"],
        `via postfix ${i}`,
      );
    }
    await submit(
      pf,
      ["alice@example.org"],
      "too big",
      ("y".repeat(998) + "\r\n").repeat(60),
    );

    await submit(pf, ["frank@example.org"], "over quota", ("z".repeat(70) + "\r\n").repeat(80));
    const expected = Array.from({ length: 10 }, (_, i) => `via postfix ${i}`).sort();
    await until(
      async () => (await subjects(server, alice)).length >= 10,
      "ten messages in alice's account",
    );
    const unknown =
      /to=<nobody@example\.org>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+.*status=bounced \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 550 5\.1\.1 /;
    // Postfix learns the limit from the MX's EHLO (SIZE 50000): it either bounces at once, citing
    // it, or, when it declares the size at MAIL FROM, gets the MX's 552.
    const oversize = new RegExp(
      String
        .raw`to=<alice@example\.org>.*dsn=5\.3\.4, status=bounced \((host 127\.0\.0\.1\[127\.0\.0\.1\] ` +
        String.raw`said: 552 5\.3\.4 |message size \d+ exceeds size limit 50000 of server 127\.0\.0\.1)`,
    );
    const overQuota =
      /to=<frank@example\.org>.*dsn=5\.2\.2, status=bounced \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 552 5\.2\.2 /;
    await until(async () => {
      const log = await pf.log();
      return unknown.test(log) && oversize.test(log) && overQuota.test(log);
    }, "Postfix to log both bounces").catch(async (error) => {
      throw new Error(`${error.message}:\n${await pf.log()}`);
    });
    await until(() => pf.queueEmpty(), "Postfix's queue to empty");
    assert.deepEqual(await subjects(server, alice), expected);

    const log = await pf.log();
    assert.match(log, unknown);
    assert.match(log, oversize);
    assert.match(log, overQuota);
    assert.equal(log.match(/to=<alice@example\.org>.*status=sent \(250 2\.6\.0 /g)?.length, 10, log);
    assert.doesNotMatch(log, /status=deferred/);

    // Postern recorded the hop from Postfix, and the envelope Postfix gave.
    const { ids } = await mailCall(target, "Email/query", { filter: { subject: "via postfix 3" } }, alice);
    const { list } = await mailCall(target, "Email/get", {
      ids,
      properties: ["header:Received:all", "header:Return-Path", "header:Delivered-To:asText"],
    }, alice);
    const mail = (list as Obj[])[0];
    const received = (mail["header:Received:all"] as string[]).map((r) => r.replace(/\s+/g, " ").trim());
    assert.match(
      received[0],
      /^from sender\.test \(\S*\[127\.0\.0\.1\]\) by example\.org \(Postern\) with ESMTP id /,
    );
    assert.match(received[1], /by sender\.test \(Postfix\)/);
    assert.equal(String(mail["header:Return-Path"]).trim(), "<sender@sender.test>");
    assert.equal(mail["header:Delivered-To:asText"], "alice@example.org");
  } finally {
    await postfix?.stop();
    await server.stop();
  }
}
