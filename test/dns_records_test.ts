/**
 * `postern dns DOMAIN` and the DnsRecords action behind it: the records in zone-file form and as
 * JSON, locally and over JMAP; only administrators may list them; an unknown domain is a failure
 * (exit 1, notFound) and a malformed name a usage error (exit 2, invalidProperties). The CLI runs
 * in-process (cli_in_process.ts) but for the malformed name and the refused user: real processes.
 */
import assert from "node:assert/strict";
import { cliInProcess } from "./cli_in_process.ts";
import { ADMIN_PASSWORD, cli, PASSWORD, startServerProcess, withTempDir } from "./helpers.ts";
import { ADMIN } from "./jmap_helpers.ts";
import { managementCall } from "./live_connection_helpers.ts";
import { createUsers, type Obj, serverTarget, withAliceAndBob } from "./mail_helpers.ts";

Deno.test("the DnsRecords action lists a domain's records for administrators only", async () => {
  await withAliceAndBob(async (app, alice) => {
    const run = (auth: string, accountId: string, args: Obj) =>
      managementCall(app, auth, "x:Action/set", {
        accountId,
        create: { a: { "@type": "DnsRecords", ...args } },
      });
    const done = await run(ADMIN, "b", { domain: "EXAMPLE.org" });
    const action = (done.created as Obj).a as Obj;
    assert.equal(action.domain, "example.org");
    const records = action.records as Obj[];
    const month = new Date().toISOString().slice(0, 7).replace("-", "");
    assert.deepEqual(records.map((r) => `${r.name} ${r.type}`), [
      "example.org. MX",
      "example.org. TXT",
      "_dmarc.example.org. TXT",
      `pe${month}._domainkey.example.org. TXT`,
      `pr${month}._domainkey.example.org. TXT`,
      "_mta-sts.example.org. TXT",
      "mta-sts.example.org. CNAME",
      "_smtp._tls.example.org. TXT",
      "_submission._tcp.example.org. SRV",
      "_submissions._tcp.example.org. SRV",
      "_imap._tcp.example.org. SRV",
      "_imaps._tcp.example.org. SRV",
      "autoconfig.example.org. CNAME",
      "autodiscover.example.org. CNAME",
    ]);

    const refused = await run(alice.auth, alice.accountId, { domain: "example.org" });
    assert.equal(((refused.notCreated as Obj).a as Obj).type, "forbidden", JSON.stringify(refused));

    const unknown = await run(ADMIN, "b", { domain: "nowhere.test" });
    assert.equal(((unknown.notCreated as Obj).a as Obj).type, "notFound", JSON.stringify(unknown));
    for (const domain of ["not a name", 42, null]) {
      const bad = await run(ADMIN, "b", { domain });
      const error = (bad.notCreated as Obj).a as Obj;
      assert.equal(error.type, "invalidProperties", JSON.stringify(bad));
      assert.deepEqual(error.properties, ["domain"]);
    }
    const extra = await run(ADMIN, "b", { domain: "example.org", selector: "x" });
    assert.equal(((extra.notCreated as Obj).a as Obj).type, "invalidProperties");
  });
});

Deno.test("postern dns prints zone-file lines and JSON; unknown domain exit 1, bad name exit 2", async () => {
  await withTempDir("postern-dns-", async (dir) => {
    const init = await cliInProcess(["--data", dir, "init", "--domain", "example.org"]);
    assert.equal(init.code, 0, init.stderr);
    // The submission listeners' settings, as `postern serve` has them, name the ports published.
    const zone = await cliInProcess(
      ["--data", dir, "dns", "example.org", "--mail-host", "mail.example.org"],
      {
        POSTERN_SUBMISSION_LISTEN: "0.0.0.0:587",
        POSTERN_TLS_CERT: `${dir}/cert.pem`,
        POSTERN_TLS_KEY: `${dir}/key.pem`,
      },
    );
    assert.equal(zone.code, 0, zone.stderr);
    assert.match(zone.stdout, /^example\.org\.\t3600\tIN\tMX\t10 mail\.example\.org\.$/m);
    assert.match(
      zone.stdout,
      /^_submission\._tcp\.example\.org\.\t3600\tIN\tSRV\t0 1 587 mail\.example\.org\.$/m,
    );
    // No 465 listener configured: published as not offered (RFC 6186 §3.4).
    assert.match(zone.stdout, /^_submissions\._tcp\.example\.org\.\t3600\tIN\tSRV\t0 0 0 \.$/m);
    assert.match(zone.stdout, /^autoconfig\.example\.org\.\t3600\tIN\tCNAME\tmail\.example\.org\.$/m);
    assert.match(zone.stdout, /^; SPF: /m);
    // MTA-STS (RFC 8461) and TLS-RPT (RFC 8460): the policy id, its host, and where reports go.
    assert.match(zone.stdout, /^_mta-sts\.example\.org\.\t3600\tIN\tTXT\t"v=STSv1; id=[0-9a-f]{20}"$/m);
    assert.match(zone.stdout, /^mta-sts\.example\.org\.\t3600\tIN\tCNAME\tmail\.example\.org\.$/m);
    assert.match(
      zone.stdout,
      /^_smtp\._tls\.example\.org\.\t3600\tIN\tTXT\t"v=TLSRPTv1; rua=mailto:postmaster@example\.org"$/m,
    );

    const json = await cliInProcess(["--data", dir, "--json", "dns", "example.org"], {
      POSTERN_MAIL_HOST: "mx.example.net",
    });
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout);
    assert.equal(parsed.domain, "example.org");
    assert.deepEqual(parsed.records[0], {
      name: "example.org.",
      type: "MX",
      ttl: 3600,
      value: "10 mx.example.net.",
      purpose: "Mail for the domain is delivered to this server",
    });

    const unknown = await cliInProcess(["--data", dir, "dns", "nowhere.test"]);
    assert.equal(unknown.code, 1, unknown.stderr);
    assert.match(unknown.stderr, /Domain "nowhere\.test" does not exist/);
    const bad = await cli(["--data", dir, "dns", "not_a..name"]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /"not_a\.\.name" is not a domain name/);
    const badHost = await cliInProcess(["--data", dir, "dns", "example.org", "--mail-host", "bad host"]);
    assert.equal(badHost.code, 2, badHost.stderr);
    assert.match(badHost.stderr, /Invalid --mail-host/);
  });
});

Deno.test("postern dns --url asks the server, which answers with its own mail host, to administrators only", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-dns-url-" });
  const server = await startServerProcess(dataDir, { POSTERN_MAIL_HOST: "mx.example.org" });
  try {
    await createUsers(serverTarget(server.url), ["alice"]);
    const as = (
      user: string,
      password: string,
    ) => ["--url", server.url, "--user", user, "--password", password];
    const admin = await cliInProcess([...as("admin@example.org", ADMIN_PASSWORD), "dns", "example.org"], {
      POSTERN_MAIL_HOST: "ignored.example.net",
    });
    assert.equal(admin.code, 0, admin.stderr);
    assert.match(admin.stdout, /^example\.org\.\t3600\tIN\tMX\t10 mx\.example\.org\.$/m);
    const user = await cli([...as("alice@example.org", PASSWORD), "dns", "example.org"]);
    assert.equal(user.code, 1, user.stderr);
    assert.match(user.stderr, /Only an administrator can run actions/);
    const unknown = await cliInProcess([...as("admin@example.org", ADMIN_PASSWORD), "dns", "nowhere.test"]);
    assert.equal(unknown.code, 1, unknown.stderr);
    assert.match(unknown.stderr, /Domain "nowhere\.test" does not exist/);
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
  }
});
