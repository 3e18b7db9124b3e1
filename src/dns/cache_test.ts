import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { DnsCache } from "./cache.ts";
import type { UdpAnswer } from "./udp_query.ts";

const txt = (name: string, ttl: number, text: string) => ({
  type: "TXT" as const,
  name,
  ttl,
  data: [Buffer.from(text, "latin1")],
});
const soa = (ttl: number, minimum: number) => ({
  type: "SOA" as const,
  name: "test",
  ttl,
  data: { mname: "ns.test", rname: "host.test", serial: 1, refresh: 1, retry: 1, expire: 1, minimum },
});

/** A cache over scripted answers and a clock the test moves; counts the questions that went out. */
function cacheOver(answer: (name: string, type: string) => UdpAnswer | Error) {
  let now = 1_000_000;
  const asked: string[] = [];
  const fallback: string[] = [];
  const cache = new DnsCache({
    query: (name, type) => {
      asked.push(`${type} ${name}`);
      const a = answer(name, type);
      return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
    },
    fallback: (name, type) => {
      fallback.push(`${type} ${name}`);
      return Promise.resolve(["from the fallback"]);
    },
    now: () => now,
    maxEntries: 3,
  });
  return { cache, asked, fallback, advance: (ms: number) => now += ms };
}

const ok = (answers: UdpAnswer["answers"], authorities: UdpAnswer["authorities"] = []): UdpAnswer => ({
  rcode: "NOERROR",
  truncated: false,
  answers,
  authorities,
});
const codeOf = (promise: Promise<unknown>) => promise.then(() => "resolved", (e) => e.code);

Deno.test("an answer is reused for its TTL and asked again after it", async () => {
  const { cache, asked, advance } = cacheOver((name) => ok([txt(name, 60, "v=spf1 -all")]));
  assert.deepEqual(await cache.resolve("Sender.TEST.", "TXT"), [["v=spf1 -all"]]);
  assert.deepEqual(await cache.resolve("sender.test", "TXT"), [["v=spf1 -all"]]);
  assert.equal(asked.length, 1);
  advance(59_999);
  await cache.resolve("sender.test", "TXT");
  assert.equal(asked.length, 1);
  advance(1);
  await cache.resolve("sender.test", "TXT");
  assert.equal(asked.length, 2);
  assert.equal(cache.hits, 2);
});

Deno.test("a TTL of 0 is never cached, and a long one is cut to the cap", async () => {
  let ttl = 0;
  const { cache, asked, advance } = cacheOver((name) => ok([txt(name, ttl, "x")]));
  await cache.resolve("a.test", "TXT");
  await cache.resolve("a.test", "TXT");
  assert.equal(asked.length, 2);
  ttl = 86_400 * 7;
  await cache.resolve("b.test", "TXT");
  advance(3_600_000);
  await cache.resolve("b.test", "TXT");
  assert.equal(asked.length, 4);
});

Deno.test("the smallest TTL of a CNAME chain counts, and only records of the type asked are given", async () => {
  const { cache, asked, advance } = cacheOver((name) =>
    ok([{ type: "CNAME", name, ttl: 5, data: "real.test" }, txt("real.test", 300, "y")])
  );
  assert.deepEqual(await cache.resolve("alias.test", "TXT"), [["y"]]);
  advance(5000);
  await cache.resolve("alias.test", "TXT");
  assert.equal(asked.length, 2);
});

Deno.test("no such name or record is cached for the SOA's negative TTL, and only with an SOA", async () => {
  const { cache, asked, advance } = cacheOver((name) =>
    name === "gone.test"
      ? { rcode: "NXDOMAIN", truncated: false, answers: [], authorities: [soa(300, 30)] }
      : ok([], name === "empty.test" ? [soa(10, 600)] : [])
  );
  assert.equal(await codeOf(cache.resolve("gone.test", "TXT")), "ENOTFOUND");
  assert.equal(await codeOf(cache.resolve("gone.test", "TXT")), "ENOTFOUND");
  assert.equal(await codeOf(cache.resolve("empty.test", "TXT")), "ENODATA");
  assert.equal(await codeOf(cache.resolve("empty.test", "TXT")), "ENODATA");
  assert.equal(await codeOf(cache.resolve("nosoa.test", "TXT")), "ENODATA");
  assert.equal(await codeOf(cache.resolve("nosoa.test", "TXT")), "ENODATA");
  assert.deepEqual(asked, ["TXT gone.test", "TXT empty.test", "TXT nosoa.test", "TXT nosoa.test"]);
  advance(10_000);
  await codeOf(cache.resolve("empty.test", "TXT"));
  advance(20_000);
  await codeOf(cache.resolve("gone.test", "TXT"));
  assert.equal(asked.length, 6);
});

Deno.test("failures are never cached: SERVFAIL, REFUSED, a timeout", async () => {
  let outcome: UdpAnswer | Error = { rcode: "SERVFAIL", truncated: false, answers: [], authorities: [] };
  const { cache, asked } = cacheOver(() => outcome);
  assert.equal(await codeOf(cache.resolve("x.test", "TXT")), "ESERVFAIL");
  outcome = { ...outcome, rcode: "REFUSED" };
  assert.equal(await codeOf(cache.resolve("x.test", "TXT")), "EREFUSED");
  outcome = Object.assign(new Error("timeout"), { code: "ETIMEOUT" });
  assert.equal(await codeOf(cache.resolve("x.test", "TXT")), "ETIMEOUT");
  outcome = ok([txt("x.test", 60, "back")]);
  assert.deepEqual(await cache.resolve("x.test", "TXT"), [["back"]]);
  assert.equal(asked.length, 4);
});

Deno.test("questions asked together share one query", async () => {
  const { cache, asked } = cacheOver((name) => ok([txt(name, 0, "z")]));
  const answers = await Promise.all([1, 2, 3].map(() => cache.resolve("same.test", "TXT")));
  assert.deepEqual(answers, [[["z"]], [["z"]], [["z"]]]);
  assert.equal(asked.length, 1);
});

Deno.test("other types and truncated replies go to the uncached resolver", async () => {
  const { cache, asked, fallback } = cacheOver(() => ({ ...ok([]), truncated: true }));
  assert.deepEqual(await cache.resolve("big.test", "TXT"), ["from the fallback"]);
  assert.deepEqual(await cache.resolve("1.0.0.127.in-addr.arpa", "PTR"), ["from the fallback"]);
  assert.deepEqual(asked, ["TXT big.test"]);
  assert.deepEqual(fallback, ["TXT big.test", "PTR 1.0.0.127.in-addr.arpa"]);
});

Deno.test("the cache holds at most maxEntries answers, the oldest leaving first", async () => {
  const { cache, asked } = cacheOver((name) => ok([txt(name, 60, name)]));
  for (const name of ["1.test", "2.test", "3.test", "4.test"]) await cache.resolve(name, "TXT");
  await cache.resolve("4.test", "TXT");
  await cache.resolve("2.test", "TXT");
  assert.equal(asked.length, 4);
  await cache.resolve("1.test", "TXT");
  assert.equal(asked.length, 5);
});

Deno.test("MX and address answers have node:dns's shapes", async () => {
  const { cache } = cacheOver((name, type) =>
    ok(
      type === "MX"
        ? [{ type: "MX", name, ttl: 60, data: { preference: 10, exchange: "mx.test" } }]
        : [{ type: "A", name, ttl: 60, data: "192.0.2.1" }],
    )
  );
  assert.deepEqual(await cache.resolve("m.test", "MX"), [{ exchange: "mx.test", priority: 10 }]);
  assert.deepEqual(await cache.resolve("m.test", "A"), ["192.0.2.1"]);
});
