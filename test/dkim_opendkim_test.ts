/**
 * OpenDKIM (Debian `opendkim-tools`) checks what Postern signs: `opendkim-testmsg` verifies the
 * message the smarthost received and `opendkim-testkey` checks the RSA private key against the
 * record `postern dns` publishes. Both look keys up through the system resolver (port 53, no
 * setting for another), so dnsmasq serves the records on 127.53.x.y:53 and the tools run in a
 * private mount namespace whose /etc/resolv.conf names it (`unshare --mount`, root only); the
 * machine's own resolv.conf is never touched. Skipped without the tools, dnsmasq or the namespace.
 */
import assert from "node:assert/strict";
import { ADMIN, set, withApp } from "./jmap_helpers.ts";
import { createUsers, type Obj } from "./mail_helpers.ts";
import { draft, send } from "./submission_helpers.ts";
import { txtStrings } from "./dkim_helpers.ts";
import { smarthost } from "./smtp_helpers.ts";
import { HAS_OPENDKIM_TOOLS, privateDnsAddress, withResolver } from "./opendkim_helpers.ts";
import { DnsResolver } from "../src/dns/mod.ts";

/** dnsmasq on `address`:53 serving the TXT records; stopped by its PID. */
async function dnsmasq(address: string, records: Obj[]) {
  const txt = records.filter((r) => r.type === "TXT").map((r) =>
    `--txt-record=${String(r.name).replace(/\.$/, "")},${txtStrings(String(r.value)).join(",")}`
  );
  const child = new Deno.Command("/usr/sbin/dnsmasq", {
    args: [
      "--keep-in-foreground",
      "--conf-file=/dev/null",
      "--no-resolv",
      "--no-hosts",
      "--bind-interfaces",
      `--listen-address=${address}`,
      "--port=53",
      "--local=/org/",
      "--cache-size=0",
      ...txt,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
  };
  // Ready when it answers one of the names it serves.
  const resolver = new DnsResolver({ servers: [`${address}:53`], timeoutMs: 500, tries: 1 });
  const probe = String(records.find((r) => r.type === "TXT")?.name).replace(/\.$/, "");
  for (let i = 0; i < 200; i++) {
    if (await resolver.resolve(probe, "TXT").then(() => true, () => false)) return { stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`dnsmasq did not answer on ${address}:53`);
}

Deno.test({
  name: "opendkim verifies the RSA signature of mail Postern signs, and its key against the published record",
  ignore: !HAS_OPENDKIM_TOOLS,
  async fn() {
    const host = await smarthost();
    const dir = await Deno.makeTempDir({ prefix: "postern-opendkim-" });
    const address = privateDnsAddress();
    let dns: { stop(): Promise<void> } | undefined;
    try {
      await withApp(async (t) => {
        const [alice] = await createUsers(t, ["alice"]);
        await set(t, "x:Smarthost", {
          update: { singleton: { host: "127.0.0.1", port: host.port, security: "none" } },
        });
        await set(t, "x:Outbound", { update: { singleton: { route: "smarthost" } } });
        const emailId = await draft(t, alice, {
          to: [{ name: null, email: "friend@elsewhere.example" }],
          subject: "For OpenDKIM",
        });
        await send(t, alice, emailId);
        await t.services.queue.runDue();
        assert.equal(host.received.length, 1);
        const done = await set(t, "x:Action", {
          create: { a: { "@type": "DnsRecords", domain: "example.org" } },
        }, {
          auth: ADMIN,
        });
        const records = ((done.created as Obj).a as Obj).records as Obj[];
        dns = await dnsmasq(address, records);
        // The RSA key as a key file: opendkim-testkey checks it matches the published record.
        const rsa = (await t.services.dkimKeys.signingKeys("example.org")).find((k) =>
          k.algorithm === "rsa"
        )!;
        const keyFile = `${dir}/rsa.pem`;
        await Deno.writeTextFile(keyFile, rsa.privateKey);
        await Deno.writeTextFile(`${dir}/testkey.conf`, `Nameservers ${address}\n`);
        const key = await withResolver(
          dir,
          address,
          `opendkim-testkey -d example.org -s ${rsa.selector} -k ${keyFile} -x ${dir}/testkey.conf -vvv`,
        );
        assert.equal(key.code, 0, key.text);
        assert.match(key.text, /key OK/);

        const message = host.received[0].data;
        const verified = await withResolver(dir, address, "opendkim-testmsg -C", message);
        assert.equal(verified.code, 0, verified.text);
        // A changed Subject (a signed field) fails: the verifier is really checking.
        const forged = message.replace("For OpenDKIM", "For OpenDKIM, changed");
        const failed = await withResolver(dir, address, "opendkim-testmsg -C", forged);
        assert.notEqual(failed.code, 0, failed.text);
      });
    } finally {
      await dns?.stop();
      await host.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
