/**
 * The caching resolver (src/dns/cache.ts, udp_query.ts) against a real DNS server, dnsmasq on
 * loopback: the same answers as the uncached resolver, reused for their TTL (none with TTL 0); a
 * negative answer kept only when it carries the zone's SOA (dnsmasq as the zone's authoritative server,
 * as the inbound bench runs it); and a server that answers garbage, another question or from the
 * wrong id is not believed.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import dgram from "node:dgram";
// @deno-types="@types/dns-packet"
import * as packet from "dns-packet";
import { DnsResolver } from "../src/dns/mod.ts";
import { HAS_DNSMASQ, startDnsmasq } from "./dnsmasq_helpers.ts";
import { startDnsmasq as startBenchDnsmasq } from "../scripts/bench/dnsmasq.ts";
import { freePort } from "./helpers.ts";
import { skipping } from "./smtp_helpers.ts";

const ignore = !HAS_DNSMASQ && skipping("the caching resolver against dnsmasq", "dnsmasq");

const outcome = (promise: Promise<unknown>) =>
  promise.then((value) => ({ value }), (e) => ({ code: e.code }));

const QUESTIONS: [string, string][] = [
  ["zone.test", "TXT"],
  ["k._domainkey.zone.test", "TXT"],
  ["zone.test", "MX"],
  ["mx1.zone.test", "A"],
  ["mx1.zone.test", "AAAA"],
  ["mx2.zone.test", "A"],
  ["nothing.zone.test", "TXT"],
  ["mx1.zone.test", "TXT"],
];

async function dnsmasq(ttl: number) {
  return await startDnsmasq({
    "zone.test": "v=spf1 -all",
    "k._domainkey.zone.test": "v=DKIM1; p=" + "Q".repeat(600),
  }, [
    "--mx-host=zone.test,mx1.zone.test,10",
    "--host-record=mx1.zone.test,192.0.2.10,2001:db8::10",
    `--local-ttl=${ttl}`,
  ]);
}

Deno.test({
  name: "the caching resolver answers as the uncached one and asks again only when the TTL has passed",
  ignore,
  async fn() {
    const dns = await dnsmasq(300);
    try {
      const plain = new DnsResolver({ servers: [dns.server], timeoutMs: 2000, tries: 1 });
      const cached = new DnsResolver({ servers: [dns.server], timeoutMs: 2000, tries: 1, cache: true });
      for (const [name, type] of QUESTIONS) {
        let expected: unknown = await outcome(plain.resolve(name, type));
        // A name that exists without a record of the type: node:dns (c-ares) says ENODATA, as the
        // cache does; Deno's node:dns says ENOTFOUND, which mailauth's DMARC reads as "no such name".
        if (name === "mx1.zone.test" && type === "TXT") {
          assert.deepEqual(expected, { code: "ENOTFOUND" });
          expected = { code: "ENODATA" };
        }
        const misses = cached.cache!.misses;
        assert.deepEqual(await outcome(cached.resolve(name, type)), expected, `${type} ${name}`);
        assert.deepEqual(await outcome(cached.resolve(name, type)), expected, `${type} ${name} again`);
        // dnsmasq gives its records a TTL of 300 s: the second answer came from the cache. A negative
        // answer is cached only when dnsmasq sent an SOA with it.
        if ("value" in (expected as object)) {
          assert.equal(cached.cache!.misses, misses + 1, `${type} ${name}`);
        }
      }
      assert.equal(cached.cache!.hits, 5);
      assert.deepEqual(await cached.resolveTxt("zone.test"), ["v=spf1 -all"]);
    } finally {
      await dns.stop();
    }
  },
});

Deno.test({
  name: "with a TTL of 0 every question goes to the server",
  ignore,
  async fn() {
    const dns = await dnsmasq(0);
    try {
      const cached = new DnsResolver({ servers: [dns.server], timeoutMs: 2000, tries: 1, cache: true });
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(await cached.resolve("zone.test", "TXT"), [["v=spf1 -all"]]);
      }
      assert.equal(cached.cache!.misses, 3);
      assert.equal(cached.cache!.hits, 0);
    } finally {
      await dns.stop();
    }
  },
});

Deno.test({
  name: "no such name is remembered when the answer carries the zone's SOA, and asked again when it does not",
  ignore,
  async fn() {
    for (const authoritative of [false, true]) {
      const dns = await startBenchDnsmasq({
        port: freePort(),
        txt: { "_dmarc.sender.test": "v=DMARC1; p=none" },
        ttl: 300,
        authoritative,
      });
      try {
        const cached = new DnsResolver({ servers: [dns.server], timeoutMs: 2000, tries: 1, cache: true });
        // The DMARC tree walk's look-up of the organizational domain, once per message.
        for (let i = 0; i < 3; i++) {
          assert.deepEqual(await outcome(cached.resolve("_dmarc.test", "TXT")), { code: "ENOTFOUND" });
        }
        assert.deepEqual(await cached.resolve("_dmarc.sender.test", "TXT"), [["v=DMARC1; p=none"]]);
        assert.deepEqual(await cached.resolve("_dmarc.sender.test", "TXT"), [["v=DMARC1; p=none"]]);
        // Without an SOA (plain --local) each NXDOMAIN goes out again (RFC 2308 §5); with it, once.
        assert.equal(cached.cache!.misses, authoritative ? 2 : 4, `authoritative: ${authoritative}`);
      } finally {
        await dns.stop();
      }
    }
  },
});

Deno.test("a reply with another id or question is ignored, garbage with our id is EBADRESP, silence ETIMEOUT", async () => {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const port = socket.address().port;
  let honest = false;
  socket.on("message", (data: Buffer, from: { address: string; port: number }) => {
    const query = packet.decode(data);
    const reply = (id: number, name: string) =>
      packet.encode({
        type: "response",
        id,
        flags: packet.RECURSION_DESIRED,
        questions: [{ type: "TXT", name }],
        answers: [{ type: "TXT", name, ttl: 60, data: `forged for ${name}` }],
      });
    socket.send(Buffer.from("not DNS at all"), from.port, from.address);
    if (query.questions![0].name === "broken.test") {
      // The query's id, then a header promising an answer that never comes.
      const id = Buffer.alloc(2);
      id.writeUInt16BE(query.id!);
      socket.send(
        Buffer.concat([id, Buffer.from([0x81, 0x80, 0, 1, 0, 5, 0, 0, 0, 0])]),
        from.port,
        from.address,
      );
      return;
    }
    socket.send(reply((query.id! + 1) & 0xffff, query.questions![0].name), from.port, from.address);
    socket.send(reply(query.id!, "other.test"), from.port, from.address);
    if (honest) socket.send(reply(query.id!, query.questions![0].name), from.port, from.address);
  });
  try {
    const resolver = new DnsResolver({
      servers: [`127.0.0.1:${port}`],
      timeoutMs: 300,
      tries: 1,
      cache: true,
    });
    assert.deepEqual(await outcome(resolver.resolve("asked.test", "TXT")), { code: "ETIMEOUT" });
    // Garbage with the query's id fails at once rather than after the timeout.
    const broken = new DnsResolver({
      servers: [`127.0.0.1:${port}`],
      timeoutMs: 60_000,
      tries: 1,
      cache: true,
    });
    assert.deepEqual(await outcome(broken.resolve("broken.test", "TXT")), { code: "EBADRESP" });
    honest = true;
    assert.deepEqual(await resolver.resolve("asked.test", "TXT"), [["forged for asked.test"]]);
  } finally {
    socket.close();
  }
});
