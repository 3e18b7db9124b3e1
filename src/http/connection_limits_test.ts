import assert from "node:assert/strict";
import { addressKey, capForDescriptors, refusalBytes } from "./connection_limits.ts";

Deno.test("IPv4 addresses are counted one by one, IPv6 addresses by their /64", () => {
  const cases: [string, string][] = [
    ["192.0.2.7", "192.0.2.7"],
    ["::ffff:192.0.2.7", "192.0.2.7"],
    ["::FFFF:192.0.2.7", "192.0.2.7"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:db8:1:2::9", "2001:db8:1:2::/64"],
    ["2001:0db8:0001:0002:ffff::1", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["2001:db8::1:2:3:4:5", "2001:db8:0:1::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["::", "0:0:0:0::/64"],
    ["64:ff9b::192.0.2.1", "64:ff9b:0:0::/64"],
  ];
  for (const [address, key] of cases) assert.equal(addressKey(address), key, address);
  // Two addresses of one /64 share a key; of neighbouring /64s, they do not.
  assert.equal(addressKey("2001:db8:a:b::1"), addressKey("2001:db8:a:b:ffff:ffff:ffff:ffff"));
  assert.notEqual(addressKey("2001:db8:a:b::1"), addressKey("2001:db8:a:c::1"));
});

Deno.test("the default overall cap fits the open-file limit, three descriptors a connection", () => {
  assert.equal(capForDescriptors(1024), 320);
  assert.equal(capForDescriptors(65536), 21_824);
  assert.equal(capForDescriptors(100), 16);
});

Deno.test("a refusal is a complete HTTP/1.1 503 with a problem body, Retry-After and Connection: close", () => {
  const text = new TextDecoder().decode(refusalBytes("Too many connections"));
  const [head, body] = text.split("\r\n\r\n");
  assert.match(head, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
  assert.match(head, /\r\nConnection: close(\r\n|$)/);
  assert.match(head, /\r\nRetry-After: \d+(\r\n|$)/);
  assert.match(head, /\r\nContent-Type: application\/problem\+json(\r\n|$)/);
  assert.equal(Number(/Content-Length: (\d+)/.exec(head)?.[1]), new TextEncoder().encode(body).length);
  assert.deepEqual(JSON.parse(body), {
    type: "about:blank",
    title: "Service Unavailable",
    status: 503,
    detail: "Too many connections",
  });
});
