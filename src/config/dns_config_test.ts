import assert from "node:assert/strict";
import { ConfigError } from "./errors.ts";
import { resolveDnsServers } from "./dns_config.ts";

Deno.test("DNS servers: addresses with and without ports, IPv6 bracketed, several comma-separated", () => {
  assert.deepEqual(resolveDnsServers(undefined, {}), []);
  assert.deepEqual(resolveDnsServers("", { POSTERN_DNS_SERVER: "192.0.2.1" }), []);
  assert.deepEqual(
    resolveDnsServers(undefined, {
      POSTERN_DNS_SERVER: " 192.0.2.1 , 127.0.0.1:5353,[::1]:53, 2001:db8::1,[::1]",
    }),
    ["192.0.2.1", "127.0.0.1:5353", "[::1]:53", "2001:db8::1", "::1"],
  );
  assert.deepEqual(resolveDnsServers("127.0.0.1:1053", { POSTERN_DNS_SERVER: "192.0.2.1" }), [
    "127.0.0.1:1053",
  ]);
});

Deno.test("DNS servers: a name, a bad port or a bad address is refused with the value quoted", () => {
  for (
    const bad of [
      "dns.example",
      "127.0.0.1:0",
      "127.0.0.1:65536",
      "127.0.0.1:x",
      "[::1]:",
      "300.1.1.1",
      "[nope]:53",
    ]
  ) {
    assert.throws(() => resolveDnsServers(bad, {}), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.ok(error.message.includes(`"${bad}"`), error.message);
      return true;
    });
  }
});
