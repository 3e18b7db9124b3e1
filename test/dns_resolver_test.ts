/**
 * The server's resolver (src/dns/) against a real DNS server, dnsmasq on loopback with a port of its
 * own: TXT strings joined, MX records by preference, IPv4 and IPv6 addresses, and "no such record"
 * told apart from "cannot tell now".
 */
import assert from "node:assert/strict";
import { DnsResolver, isNoRecord } from "../src/dns/mod.ts";
import { HAS_DNSMASQ, startDnsmasq } from "./dnsmasq_helpers.ts";
import { skipping } from "./smtp_helpers.ts";
import { freePort } from "./helpers.ts";

const ignore = !HAS_DNSMASQ && skipping("the resolver against dnsmasq", "dnsmasq");

Deno.test({
  name: "the resolver asks the configured server and port, and tells no record from no answer",
  ignore,
  async fn() {
    const long = "v=DKIM1; k=rsa; p=" + "Q".repeat(600);
    const dns = await startDnsmasq({ "zone.test": "v=spf1 -all", "k._domainkey.zone.test": long }, [
      "--mx-host=zone.test,mx2.zone.test,20",
      "--mx-host=zone.test,mx1.zone.test,10",
      "--host-record=mx1.zone.test,192.0.2.10,2001:db8::10",
    ]);
    try {
      const resolver = new DnsResolver({ servers: [dns.server], timeoutMs: 2000, tries: 1 });
      assert.deepEqual(resolver.servers, [dns.server]);
      assert.deepEqual(await resolver.resolveTxt("zone.test"), ["v=spf1 -all"]);
      // A record longer than 255 bytes comes in several strings; resolveTxt joins them (RFC 7208 §3.3).
      assert.deepEqual(await resolver.resolveTxt("k._domainkey.zone.test"), [long]);
      assert.deepEqual((await resolver.resolveMx("zone.test")).map((m) => [m.priority, m.exchange]), [
        [10, "mx1.zone.test"],
        [20, "mx2.zone.test"],
      ]);
      assert.deepEqual((await resolver.addresses("mx1.zone.test")).sort(), ["192.0.2.10", "2001:db8::10"]);
      assert.deepEqual(await resolver.addresses("mx2.zone.test"), []);
      const missing = await resolver.resolve("nothing.zone.test", "TXT").then(() => undefined, (e) => e);
      assert.ok(isNoRecord(missing), String(missing));
    } finally {
      await dns.stop();
    }
    // Nothing listens there: an error that is not "no record" (the callers' temperror).
    const silent = new DnsResolver({ servers: [`127.0.0.1:${freePort()}`], timeoutMs: 300, tries: 1 });
    const down = await silent.resolve("zone.test", "TXT").then(() => undefined, (e) => e);
    assert.ok(down instanceof Error && !isNoRecord(down), String(down));
  },
});
