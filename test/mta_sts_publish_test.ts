/**
 * The MTA-STS policy this server publishes (RFC 8461 §3.3): `GET /.well-known/mta-sts.txt` on the
 * host mta-sts.DOMAIN, public (no credentials) but only for local domains; the mode is the domain's
 * `mtaStsMode` (testing by default), set by administrators only; the `_mta-sts` TXT id of
 * `postern dns` changes with the policy.
 */
import assert from "node:assert/strict";
import { parsePolicy } from "../src/outbound/mod.ts";
import { cli, startTestApp, type TestApp } from "./helpers.ts";
import { applyText, withInit } from "./cli_plan_helpers.ts";
import { call, createUser, notUpdated, set } from "./jmap_helpers.ts";

const info = { remoteAddr: { hostname: "192.0.2.7", port: 40000, transport: "tcp" as const } };

/** GETs `path` on `host` as a client from the Internet would. */
function get(app: TestApp, host: string, path = "/.well-known/mta-sts.txt", init: RequestInit = {}) {
  return app.app.handler(new Request(`https://${host}${path}`, init), info as Deno.ServeHandlerInfo);
}

async function withMailApp(body: (app: TestApp) => Promise<void>): Promise<void> {
  const app = await startTestApp({ env: { POSTERN_MAIL_HOST: "mail.example.org" } });
  try {
    await body(app);
  } finally {
    await app.close();
  }
}

/** The _mta-sts TXT id `postern dns` publishes for example.org now. */
async function publishedId(app: TestApp): Promise<string> {
  const done = await set(app, "x:Action", {
    create: { a: { "@type": "DnsRecords", domain: "example.org" } },
  });
  const records = ((done.created as Record<string, Record<string, unknown>>).a.records) as {
    name: string;
    value: string;
  }[];
  const txt = records.find((r) => r.name === "_mta-sts.example.org.")!;
  return /id=([0-9a-f]+)/.exec(txt.value)![1];
}

Deno.test("a local domain's policy is served without credentials on mta-sts.DOMAIN, in testing mode by default", async () => {
  await withMailApp(async (app) => {
    const response = await get(app, "mta-sts.example.org");
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
    const text = await response.text();
    assert.equal(text, "version: STSv1\nmode: testing\nmx: mail.example.org\nmax_age: 604800\n");
    const id = await publishedId(app);
    // What a sender (our own fetcher's parser) reads from it.
    assert.deepEqual(parsePolicy(text, id), {
      id,
      mode: "testing",
      mx: ["mail.example.org"],
      maxAge: 604800,
    });
    const upper = await get(app, "MTA-STS.Example.ORG.");
    assert.equal(await upper.text(), text, "host names are case-insensitive, a final dot ignored");
    const head = await get(app, "mta-sts.example.org", undefined, { method: "HEAD" });
    assert.equal(head.status, 200);
    await head.body?.cancel();
  });
});

Deno.test("an administrator sets the mode; the policy and its TXT id change; others cannot", async () => {
  await withMailApp(async (app) => {
    const before = await publishedId(app);
    const user = await createUser(app, "alice");
    const refused = await notUpdated(app, "x:Domain", "b", { mtaStsMode: "enforce" }, user);
    assert.equal(refused.type, "forbidden");
    assert.match(await (await get(app, "mta-sts.example.org")).text(), /^mode: testing$/m);

    const done = await set(app, "x:Domain", { update: { b: { mtaStsMode: "enforce" } } });
    assert.ok(done.updated, JSON.stringify(done));
    assert.match(await (await get(app, "mta-sts.example.org")).text(), /^mode: enforce$/m);
    const after = await publishedId(app);
    assert.notEqual(after, before);
    const read = await call(app, "x:Domain/get", { ids: ["b"], properties: ["mtaStsMode"] }, user);
    assert.deepEqual(
      read.list,
      [{ id: "b", mtaStsMode: "enforce" }],
      "anyone who reads domains sees the mode",
    );

    for (const value of ["strict", "", 1, null, "ENFORCE"]) {
      const bad = await set(app, "x:Domain", { update: { b: { mtaStsMode: value } } });
      if (value === null) {
        // null resets to the default, as for the other defaulted fields.
        assert.ok(bad.updated, JSON.stringify(bad));
        assert.match(await (await get(app, "mta-sts.example.org")).text(), /^mode: testing$/m);
        continue;
      }
      const error = (bad.notUpdated as Record<string, Record<string, unknown>>)?.b;
      assert.equal(error?.type, "invalidProperties", `${JSON.stringify(value)}: ${JSON.stringify(bad)}`);
      assert.deepEqual(error.properties, ["mtaStsMode"]);
    }
  });
});

Deno.test("another host, an unknown domain or another path is 404; a write method is refused", async () => {
  await withMailApp(async (app) => {
    for (
      const host of [
        "mail.example.org",
        "mta-sts.other.test",
        "mta-sts.",
        "mta-sts.mta-sts.example.org",
        "example.org",
      ]
    ) {
      const response = await get(app, host);
      assert.equal(response.status, 404, host);
      assert.match(response.headers.get("content-type") ?? "", /problem\+json/, host);
      await response.body?.cancel();
    }
    const other = await get(app, "mta-sts.example.org", "/.well-known/mta-sts.txt/../x");
    assert.equal(other.status, 404);
    await other.body?.cancel();
    const post = await get(app, "mta-sts.example.org", undefined, { method: "POST", body: "mode: none" });
    assert.equal(post.status, 405);
    assert.match(post.headers.get("content-type") ?? "", /problem\+json/);
    await post.body?.cancel();
  });
});

Deno.test("outbound TLS outcomes the transport records show on /metrics and in the day's counts", async () => {
  await withMailApp(async (app) => {
    // Counted under the UTC day of recording (the unit tests move the clock across midnight).
    const reporter = app.services.tlsReports;
    const day = new Date().toISOString().slice(0, 10);
    reporter.record({ domain: "example.net", mx: "mx.example.net", policy: "sts" });
    reporter.record({
      domain: "example.net",
      mx: "mx.example.net",
      policy: "sts",
      failure: "validation-failure",
    });
    const text = await (await app.fetch("/metrics", { client: "127.0.0.1" })).text();
    assert.match(text, /^postern_outbound_tls_total\{result="success"\} 1$/m);
    assert.match(text, /^postern_outbound_tls_total\{result="validation-failure"\} 1$/m);
    const counts = await app.services.store.mtaSts.tlsCounts(day);
    assert.deepEqual(counts.map((c) => [c.domain, c.result, c.count]), [
      ["example.net", "", 1],
      ["example.net", "validation-failure", 1],
    ]);
  });
});

Deno.test("snapshot and apply carry a domain's MTA-STS mode", async () => {
  await withInit(async (source) => {
    const plan =
      `{"op":"create","type":"domain","ref":"d","fields":{"name":"snap.example","mtaStsMode":"enforce"}}`;
    const populated = await applyText(["--data", source], plan);
    assert.equal(populated.code, 0, populated.stdout + populated.stderr);
    const snapshot = await cli(["--data", source, "snapshot"]);
    assert.equal(snapshot.code, 0, snapshot.stderr);
    const line = snapshot.stdout.split("\n").find((l) => l.includes('"snap.example"'));
    assert.equal(JSON.parse(line!).fields.mtaStsMode, "enforce", snapshot.stdout);
    await withInit(async (target) => {
      const applied = await applyText(["--data", target], snapshot.stdout);
      assert.equal(applied.code, 0, applied.stdout + applied.stderr);
      const again = await cli(["--data", target, "snapshot"]);
      const copied = again.stdout.split("\n").find((l) => l.includes('"snap.example"'));
      assert.equal(JSON.parse(copied!).fields.mtaStsMode, "enforce");
    });
  });
});
