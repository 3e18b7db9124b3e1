import assert from "node:assert/strict";
import { isHostName, mxHostsOf, mxMatchesPolicy, type MxResolver } from "./mx.ts";
import { flattenReply, kindOf } from "./replies.ts";

/** A resolver answering from tables; a name missing from both is ENOTFOUND. */
function fakeResolver(
  mx: Record<string, { exchange: string; priority: number }[] | Error>,
  addresses: Record<string, string[]> = {},
): MxResolver {
  const notFound = () => Object.assign(new Error("not found"), { code: "ENOTFOUND" });
  return {
    resolveMx(name) {
      const answer = mx[name];
      if (answer instanceof Error) return Promise.reject(answer);
      return answer ? Promise.resolve(answer) : Promise.reject(notFound());
    },
    addresses(name) {
      return Promise.resolve(addresses[name] ?? []);
    },
  };
}

Deno.test("MX hosts come by preference; equal ones are shuffled, duplicates tried once", async () => {
  const resolver = fakeResolver({
    "d.test": [
      { exchange: "c.d.test", priority: 20 },
      { exchange: "A.d.test.", priority: 10 },
      { exchange: "b.d.test", priority: 10 },
      { exchange: "a.d.test", priority: 30 },
    ],
  });
  const names = async (random: () => number) => {
    const lookup = await mxHostsOf(resolver, "d.test", { random });
    assert.ok("hosts" in lookup);
    return lookup.hosts.map((h) => `${h.preference} ${h.name}`);
  };
  assert.deepEqual(await names(() => 0.999), ["10 a.d.test", "10 b.d.test", "20 c.d.test"]);
  assert.deepEqual(await names(() => 0), ["10 b.d.test", "10 a.d.test", "20 c.d.test"]);
});

Deno.test("a lone null MX fails for good; a null MX among others is skipped", async () => {
  const lone = await mxHostsOf(fakeResolver({ "n.test": [{ exchange: "", priority: 0 }] }), "n.test");
  assert.deepEqual(lone, {
    failure: { kind: "permanent", reply: "550 5.1.10 n.test accepts no mail (null MX, RFC 7505)" },
  });
  const mixed = await mxHostsOf(
    fakeResolver({ "n.test": [{ exchange: "", priority: 0 }, { exchange: "mx.n.test", priority: 5 }] }),
    "n.test",
  );
  assert.ok("hosts" in mixed);
  assert.deepEqual(mixed.hosts.map((h) => h.name), ["mx.n.test"]);
});

Deno.test("malformed MX data is skipped; nothing usable left is a temporary failure", async () => {
  const bad = [
    { exchange: "192.0.2.1", priority: 10 },
    { exchange: "mx\r\nRCPT TO:<x@y>", priority: 10 },
    { exchange: "-bad-.test", priority: 10 },
    { exchange: "ok.test", priority: 70000 },
    { exchange: "x".repeat(64) + ".test", priority: 10 },
  ];
  const lookup = await mxHostsOf(fakeResolver({ "m.test": bad }), "m.test");
  assert.ok("failure" in lookup);
  assert.equal(lookup.failure.kind, "temporary");
  assert.match(lookup.failure.reply, /^451 4\.4\.4 The MX records of m\.test are malformed: /);
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(lookup.failure.reply, /[\r\n\x00-\x1f]/);
  const some = await mxHostsOf(
    fakeResolver({ "m.test": [...bad, { exchange: "good.m.test", priority: 90 }] }),
    "m.test",
  );
  assert.ok("hosts" in some);
  assert.deepEqual(some.hosts.map((h) => h.name), ["good.m.test"]);
});

Deno.test("no MX: the domain's addresses; none either: permanent; a DNS error: temporary", async () => {
  const implicit = await mxHostsOf(fakeResolver({}, { "i.test": ["192.0.2.7"] }), "i.test");
  assert.deepEqual(implicit, { hosts: [{ name: "i.test", preference: -1, addresses: ["192.0.2.7"] }] });
  const none = await mxHostsOf(fakeResolver({}), "none.test");
  assert.ok("failure" in none && none.failure.kind === "permanent");
  const servfail = Object.assign(new Error("server failure"), { code: "ESERVFAIL" });
  const failing = await mxHostsOf(fakeResolver({ "f.test": servfail }), "f.test");
  assert.deepEqual(failing, {
    failure: { kind: "temporary", reply: "451 4.4.3 DNS lookup of MX for f.test failed: ESERVFAIL" },
  });
});

Deno.test("host names: LDH labels, not an address, within DNS's limits", () => {
  for (const good of ["mx.example.net", "mx-1.example.net", "a.b", "xn--bcher-kva.example"]) {
    assert.ok(isHostName(good), good);
  }
  for (const bad of ["", "192.0.2.1", "a..b", "-a.b", "a-.b", "a b.c", "a\r\n.b", "x".repeat(64) + ".b"]) {
    assert.ok(!isHostName(bad), bad);
  }
});

Deno.test("MTA-STS MX patterns match the host or one leftmost label of a wildcard (RFC 8461 §4.1)", () => {
  assert.ok(mxMatchesPolicy("mx.example.net", ["mx.example.net"]));
  assert.ok(mxMatchesPolicy("MX.Example.NET.", ["mx.example.net"]));
  assert.ok(mxMatchesPolicy("mx1.example.net", ["*.example.net"]));
  assert.ok(!mxMatchesPolicy("a.mx.example.net", ["*.example.net"]));
  assert.ok(!mxMatchesPolicy("example.net", ["*.example.net"]));
  assert.ok(!mxMatchesPolicy("mx.example.org", ["mx.example.net", "*.example.net"]));
});

Deno.test("replies are flattened to one line with an enhanced code, controls removed", () => {
  assert.equal(
    flattenReply(
      "550-5.1.1 The email account that you tried to reach does not exist.\r\n550 5.1.1 Please check",
    ),
    "550 5.1.1 The email account that you tried to reach does not exist. Please check",
  );
  assert.equal(flattenReply("451 Try later"), "451 4.0.0 Try later");
  assert.equal(flattenReply("250 2.0.0 Ok: queued as 4XyZ"), "250 2.0.0 Ok: queued as 4XyZ");
  assert.equal(flattenReply("\u0000garbage\u001b[0m"), "garbage [0m");
  assert.equal(kindOf("250 2.0.0 Ok"), "delivered");
  assert.equal(kindOf("452 4.2.2 Full"), "temporary");
  assert.equal(kindOf("554 5.7.1 No"), "permanent");
  assert.equal(kindOf("garbage"), "temporary");
});
