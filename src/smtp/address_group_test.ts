import assert from "node:assert/strict";
import { addressGroup } from "./address_group.ts";

Deno.test("an IPv4 client counts under its own address", () => {
  assert.equal(addressGroup("192.0.2.1"), "192.0.2.1");
  assert.notEqual(addressGroup("192.0.2.1"), addressGroup("192.0.2.2"));
});

Deno.test("an IPv4-mapped IPv6 address counts as its IPv4 address", () => {
  assert.equal(addressGroup("::ffff:192.0.2.1"), "192.0.2.1");
  assert.equal(addressGroup("::FFFF:192.0.2.1"), "192.0.2.1");
  assert.equal(addressGroup("0:0:0:0:0:ffff:192.0.2.1"), "192.0.2.1");
});

Deno.test("IPv6 clients of one /64 count together, whatever the spelling", () => {
  const group = addressGroup("2001:db8:1:2::1");
  assert.equal(group, "2001:db8:1:2::/64");
  for (
    const same of [
      "2001:db8:1:2:ffff:ffff:ffff:ffff",
      "2001:0DB8:0001:0002:0:0:0:99",
      "2001:db8:1:2::a:b",
      "2001:db8:1:2::1%eth0",
    ]
  ) {
    assert.equal(addressGroup(same), group, same);
  }
  assert.notEqual(addressGroup("2001:db8:1:3::1"), group);
  assert.equal(addressGroup("::1"), "0:0:0:0::/64");
  assert.equal(addressGroup("fe80::1"), "fe80:0:0:0::/64");
  assert.equal(addressGroup("2001:db8::192.0.2.1"), "2001:db8:0:0::/64");
});

Deno.test("a string that is no address is its own group (never a crash)", () => {
  for (const bad of ["", "1:2:3", "1::2::3", "g::1", "1:2:3:4:5:6:7:8:9", "::1.2.3.999"]) {
    assert.equal(typeof addressGroup(bad), "string", bad);
  }
  assert.notEqual(addressGroup("1::2::3"), addressGroup("1::2::4"));
});
