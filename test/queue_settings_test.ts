/**
 * The x:Outbound singleton (routes, relay table, retry schedule, concurrency): its defaults, the
 * upgrade that keeps a configured smarthost as the route, refusals naming the property, and that
 * only administrators read or change it. The route it gives each domain is checked on the worker's
 * own function (routeFor).
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { routeFor, usesSmarthost } from "../src/mail/mod.ts";
import type { OutboundSettings, SmarthostSettings } from "../src/model/objects/mod.ts";
import { MIGRATIONS } from "../src/store/migrations/mod.ts";
import { openStore } from "../src/store/mod.ts";
import { call, callError, createUser, notUpdated, set, withApp } from "./jmap_helpers.ts";

type Obj = Record<string, unknown>;

/** x:Outbound as a fresh server has it: route mx, Postfix-like retries, no relays. */
const DEFAULTS: OutboundSettings = {
  route: "mx",
  smarthostDomains: [],
  relays: [],
  mxPort: 25,
  firstRetrySeconds: 300,
  maxRetrySeconds: 14_400,
  maxAgeSeconds: 432_000,
  delayNoticeSeconds: 14_400,
  perDomainConcurrency: 4,
  globalConcurrency: 32,
  perDomainRateDelaySeconds: 0,
  leaseSeconds: 900,
  keepFinishedSeconds: 259_200,
};

Deno.test("x:Outbound reads its defaults: route mx, Postfix-like retries, no relays", () =>
  withApp(async (t) => {
    const [outbound] = (await call(t, "x:Outbound/get", { ids: ["singleton"] })).list as Obj[];
    assert.deepEqual({ ...outbound, id: undefined }, { id: undefined, ...DEFAULTS });
    const relay = { domain: "Split.Example", host: "192.0.2.7", port: 2525, security: "starttls" };
    const changed = await set(t, "x:Outbound", {
      update: { singleton: { smarthostDomains: ["Big.Example"], relays: [relay] } },
    });
    assert.deepEqual(changed.updated, { singleton: null }, JSON.stringify(changed));
    const stored = await t.services.settings.get("Outbound");
    assert.deepEqual(stored.smarthostDomains, ["big.example"]);
    assert.deepEqual(stored.relays, [{
      domain: "split.example",
      host: "192.0.2.7",
      port: 2525,
      security: "starttls",
    }]);
  }));

Deno.test("x:Outbound refuses bad values naming the property, and a user can neither read nor change it", () =>
  withApp(async (t) => {
    const bad: [string, unknown][] = [
      ["route", "pigeon"],
      ["smarthostDomains", ["not a domain!"]],
      ["relays", [{ domain: "x.example", host: "bad host name" }]],
      ["relays", [{ domain: "x.example", host: "192.0.2.1", port: 0 }]],
      ["relays", [{ domain: "x.example", host: "192.0.2.1", extra: true }]],
      ["firstRetrySeconds", 0],
      ["maxAgeSeconds", -1],
      ["globalConcurrency", 1.5],
      ["mxPort", 70_000],
      ["leaseSeconds", 5],
      ["leaseSeconds", 86_401],
      ["keepFinishedSeconds", -1],
    ];
    for (const [property, value] of bad) {
      const error = await notUpdated(t, "x:Outbound", "singleton", { [property]: value });
      assert.equal(error.type, "invalidProperties", `${property}: ${JSON.stringify(error)}`);
      assert.deepEqual(error.properties, [property], JSON.stringify(error));
    }
    assert.equal((await t.services.settings.get("Outbound")).route, "mx", "nothing was stored");

    const user = await createUser(t, "alice");
    const read = await callError(t, "x:Outbound/get", { accountId: user.id }, user);
    assert.equal(read.type, "forbidden");
    const change = await notUpdated(t, "x:Outbound", "singleton", { route: "smarthost" }, user);
    assert.equal(change.type, "forbidden");
    assert.equal((await t.services.settings.get("Outbound")).route, "mx");
  }));

Deno.test("upgrading a database that relays through a smarthost keeps the smarthost as the route", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const [name, host] of [["with", "smtp.example.net"], ["without", ""]]) {
      const path = `${dir}/${name}.db`;
      const db = new DatabaseSync(path);
      // The schema just before the queue's migration (later ones may follow it).
      const queue = MIGRATIONS.findIndex((sql) => sql.includes("CREATE TABLE queue_messages"));
      for (const sql of MIGRATIONS.slice(0, queue)) db.exec(sql);
      db.exec(`PRAGMA user_version = ${queue}`);
      db.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('Smarthost', ?, 0)")
        .run(JSON.stringify({ host, port: 587 }));
      db.close();
      const store = openStore(path);
      try {
        const row = await store.settings.get("Outbound") as Obj | undefined;
        assert.deepEqual(row?.route, host ? "smarthost" : undefined, name);
      } finally {
        store.close();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the route of a domain: its relay first, then the smarthost when it is the route or the domain is listed, else MX", () => {
  const outbound: OutboundSettings = {
    ...DEFAULTS,
    smarthostDomains: ["big.example"],
    relays: [{ domain: "split.example", host: "192.0.2.7", port: 2525, security: "none" }],
  };
  const smarthost: SmarthostSettings = {
    host: "smtp.example.net",
    port: 587,
    security: "starttls",
    username: "u",
    password: "p",
    timeoutSeconds: 30,
  };
  assert.deepEqual(routeFor("other.example", outbound, smarthost), { kind: "mx" });
  assert.deepEqual(routeFor("split.example", outbound, smarthost), {
    kind: "relay",
    relay: { host: "192.0.2.7", port: 2525, security: "none" },
  });
  const viaSmarthost = {
    kind: "relay",
    relay: {
      host: "smtp.example.net",
      port: 587,
      security: "starttls",
      username: "u",
      password: "p",
      timeoutSeconds: 30,
    },
  };
  assert.deepEqual(routeFor("big.example", outbound, smarthost), viaSmarthost);
  const all = { ...outbound, route: "smarthost" as const };
  assert.deepEqual(routeFor("other.example", all, smarthost), viaSmarthost);
  assert.deepEqual(routeFor("split.example", all, smarthost), {
    kind: "relay",
    relay: { host: "192.0.2.7", port: 2525, security: "none" },
  }, "the relay table wins");
  assert.match(
    (routeFor("other.example", all, { ...smarthost, host: "" }) as { unavailable: string }).unavailable,
    /^451 4\.3\.5 /,
  );
  // The worker reads the Smarthost settings only for the domains that use it.
  assert.deepEqual(
    ["other.example", "big.example", "split.example"].map((d) => usesSmarthost(d, outbound)),
    [false, true, false],
  );
  assert.deepEqual(
    ["other.example", "split.example"].map((d) => usesSmarthost(d, all)),
    [true, false],
  );
  assert.match(
    (routeFor("big.example", outbound, undefined) as { unavailable: string }).unavailable,
    /^451 /,
  );
});
