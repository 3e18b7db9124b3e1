/**
 * `postern dns check DOMAIN` against a real DNS server (dnsmasq on loopback): a zone published
 * exactly as `postern dns` prints it is all ok (exit 0); a zone with an MX elsewhere, two SPF
 * records, no DMARC, a DKIM record with another key and one missing, and an alias to another host
 * says what is missing or wrong, with what is published against what is expected (exit 1). Bad
 * input: a domain that is not ours (exit 1, no look-up), an unreachable DNS server (a clear error,
 * no stack) and a malformed --dns-server (exit 2). With --url, only administrators may check. The
 * CLI runs in-process (cli_in_process.ts); the usage mistakes and the refused user are real processes.
 */
import assert from "node:assert/strict";
import { cliInProcess } from "./cli_in_process.ts";
import { ADMIN_PASSWORD, cli, freePort, PASSWORD, startServerProcess, withTempDir } from "./helpers.ts";
import { createUsers, serverTarget } from "./mail_helpers.ts";
import { HAS_DNSMASQ, startDnsmasq } from "./dnsmasq_helpers.ts";
import { dnsmasqOptions, type Rec, txtOption } from "./dns_check_helpers.ts";
import { skipping } from "./smtp_helpers.ts";

const ignore = !HAS_DNSMASQ && skipping("postern dns check", "dnsmasq");
const MAIL_HOST = "mail.right.test";

interface Check extends Rec {
  status: string;
  expected: string;
  published: string[];
  detail: string;
}

/** A data directory for right.test and the records `postern dns` asks for. */
async function initialized(dir: string): Promise<Rec[]> {
  const init = await cliInProcess(["--data", dir, "init", "--domain", "right.test"]);
  assert.equal(init.code, 0, init.stderr);
  const dns = await cliInProcess(["--data", dir, "--json", "dns", "right.test", "--mail-host", MAIL_HOST]);
  assert.equal(dns.code, 0, dns.stderr);
  return JSON.parse(dns.stdout).records as Rec[];
}

const check = (dir: string, server: string, ...more: string[]) =>
  cliInProcess([
    "--data",
    dir,
    "dns",
    "check",
    "right.test",
    "--mail-host",
    MAIL_HOST,
    "--dns-server",
    server,
    ...more,
  ]);

Deno.test({
  name: "dns check: a zone published as postern dns prints it is all ok",
  ignore,
  async fn() {
    await withTempDir("postern-dns-check-", async (dir) => {
      const records = await initialized(dir);
      const dns = await startDnsmasq({}, dnsmasqOptions(records, MAIL_HOST));
      try {
        const text = await check(dir, dns.server);
        assert.equal(text.code, 0, text.stdout + text.stderr);
        const lines = text.stdout.trimEnd().split("\n");
        assert.equal(lines.length, records.length, text.stdout);
        assert.ok(lines.every((l) => l.startsWith("ok ")), text.stdout);
        assert.match(
          text.stdout,
          /^ok +right\.test\. TXT: passes mail from mail\.right\.test \(127\.0\.0\.1\)$/m,
        );

        const json = await check(dir, dns.server, "--json");
        assert.equal(json.code, 0, json.stderr);
        const answer = JSON.parse(json.stdout);
        assert.equal(answer.ok, true);
        assert.deepEqual(answer.dnsServers, [dns.server]);
        const checks = answer.records as Check[];
        assert.deepEqual(checks.map((c) => `${c.name} ${c.type}`), records.map((r) => `${r.name} ${r.type}`));
        assert.ok(checks.every((c) => c.status === "ok"), json.stdout);
        const dkim = checks.filter((c) => c.name.includes("._domainkey."));
        assert.equal(dkim.length, 2);
        assert.ok(dkim.every((c) => c.published.length === 1 && c.published[0].startsWith("v=DKIM1;")));
      } finally {
        await dns.stop();
      }
    });
  },
});

Deno.test({
  name: "dns check: missing and wrong records are named with what is published and expected (exit 1)",
  ignore,
  async fn() {
    await withTempDir("postern-dns-check-", async (dir) => {
      const records = await initialized(dir);
      const [ed, rsa] = records.filter((r) => r.name.includes("._domainkey."));
      const kept = records.filter((r) =>
        r.type !== "MX" && !r.name.startsWith("_dmarc.") && !r.name.includes("._domainkey.") &&
        !r.name.startsWith("autoconfig.") && !(r.type === "TXT" && r.name === "right.test.")
      );
      const otherKey = "v=DKIM1; k=ed25519; p=" + btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));
      const dns = await startDnsmasq({}, [
        ...dnsmasqOptions(kept, MAIL_HOST),
        "--host-record=elsewhere.test,192.0.2.9",
        "--mx-host=right.test,elsewhere.test,10",
        txtOption("right.test", ["v=spf1 mx -all"]),
        txtOption("right.test", ["v=spf1 a -all"]),
        txtOption(ed.name.replace(/\.$/, ""), [otherKey]),
        "--cname=autoconfig.right.test,elsewhere.test",
      ]);
      try {
        const json = await check(dir, dns.server, "--json");
        assert.equal(json.code, 1, json.stdout + json.stderr);
        const answer = JSON.parse(json.stdout);
        assert.equal(answer.ok, false);
        const byName = new Map((answer.records as Check[]).map((c) => [`${c.name} ${c.type}`, c]));
        const at = (name: string, type: string) => byName.get(`${name} ${type}`)!;
        assert.equal(at("right.test.", "MX").status, "wrong");
        assert.deepEqual(at("right.test.", "MX").published, ["10 elsewhere.test."]);
        assert.match(at("right.test.", "MX").detail, /no MX points at mail\.right\.test/);
        const spf = at("right.test.", "TXT");
        assert.equal(spf.status, "wrong");
        assert.deepEqual(spf.published.sort(), ["v=spf1 a -all", "v=spf1 mx -all"]);
        assert.match(spf.detail, /2 SPF records.*RFC 7208 §4\.5/);
        assert.equal(at("_dmarc.right.test.", "TXT").status, "missing");
        assert.equal(at(ed.name, "TXT").status, "wrong");
        assert.match(at(ed.name, "TXT").detail, /not this server's key/);
        assert.deepEqual(at(ed.name, "TXT").published, [otherKey]);
        assert.equal(at(rsa.name, "TXT").status, "missing");
        assert.equal(at("autoconfig.right.test.", "CNAME").status, "wrong");
        assert.deepEqual(at("autoconfig.right.test.", "CNAME").published, ["elsewhere.test."]);
        assert.equal(at("autodiscover.right.test.", "CNAME").status, "ok");
        assert.match(
          json.stderr,
          /DNS of right\.test \(asked 127\.0\.0\.1:\d+\): 2 missing, 4 wrong of 14 records/,
        );

        const text = await check(dir, dns.server);
        assert.equal(text.code, 1);
        assert.match(
          text.stdout,
          /^missing _dmarc\.right\.test\. TXT\n {8}expected: {2}"v=DMARC1; p=quarantine; [^\n]+\n {8}published: nothing$/m,
        );
        assert.match(
          text.stdout,
          /^wrong +right\.test\. MX: no MX points at mail\.right\.test\n {8}expected: {2}10 mail\.right\.test\.\n {8}published: 10 elsewhere\.test\.$/m,
        );
        assert.match(text.stderr, /^postern: DNS of right\.test/);
        assert.doesNotMatch(text.stderr, /\n\s+at /, "no stack trace");
      } finally {
        await dns.stop();
      }
    });
  },
});

Deno.test({
  name: "dns check refuses a domain that is not ours, an unreachable DNS server and a malformed --dns-server",
  ignore,
  async fn() {
    await withTempDir("postern-dns-check-", async (dir) => {
      await initialized(dir);
      const foreign = await cliInProcess([
        "--data",
        dir,
        "dns",
        "check",
        "other.test",
        "--dns-server",
        "127.0.0.1:1",
      ]);
      assert.equal(foreign.code, 1, foreign.stderr);
      assert.match(foreign.stderr, /^postern: Domain "other\.test" does not exist\n$/);

      const down = await check(dir, `127.0.0.1:${freePort()}`);
      assert.equal(down.code, 1, down.stdout + down.stderr);
      assert.match(
        down.stderr,
        /^postern: DNS server 127\.0\.0\.1:\d+ answered no look-up \(right\.test\. MX: no answer: [^\n]*E[A-Z]+/,
      );
      assert.doesNotMatch(down.stderr, /\n\s+at /, "no stack trace");
      assert.equal(down.stdout, "");

      const bad = await check(dir, "not-an-address");
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /Invalid --dns-server/);
      const usage = await cli(["--data", dir, "dns", "right.test", "extra"]);
      assert.equal(usage.code, 2, usage.stderr);
      const alone = await cli(["--data", dir, "dns", "check"]);
      assert.equal(alone.code, 2, alone.stderr);
      assert.match(alone.stderr, /use "dns DOMAIN" to print the records or "dns check DOMAIN"/);
    });
  },
});

Deno.test({
  name: "dns check --url checks the server's records for administrators only",
  ignore,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-dns-check-url-" });
    const server = await startServerProcess(dataDir, { POSTERN_MAIL_HOST: "mx.example.org" });
    const dns = await startDnsmasq({});
    try {
      await createUsers(serverTarget(server.url), ["alice"]);
      const as = (
        user: string,
        password: string,
      ) => ["--url", server.url, "--user", user, "--password", password];
      const checked = ["dns", "check", "example.org", "--dns-server", dns.server];
      const admin = await cliInProcess([...as("admin@example.org", ADMIN_PASSWORD), ...checked]);
      assert.equal(admin.code, 1, admin.stderr);
      assert.match(
        admin.stdout,
        /^missing example\.org\. MX: no MX record[^\n]*\n {8}expected: {2}10 mx\.example\.org\.$/m,
      );
      const user = await cli([...as("alice@example.org", PASSWORD), ...checked]);
      assert.equal(user.code, 1, user.stderr);
      assert.match(user.stderr, /Only an administrator can run actions/);
      assert.equal(user.stdout, "");
    } finally {
      await dns.stop();
      await server.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
    }
  },
});
