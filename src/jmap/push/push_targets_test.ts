import assert from "node:assert/strict";
import { isPublicAddress, refusedTarget } from "./push_targets.ts";

Deno.test("public and private addresses, v4 and v6, mapped and NAT64 forms included", () => {
  for (
    const a of ["8.8.8.8", "93.184.216.34", "2606:4700::1111", "2a00:1450:4001:81b::200e", "::ffff:8.8.8.8"]
  ) {
    assert.equal(isPublicAddress(a), true, a);
  }
  for (
    const a of [
      "127.0.0.1",
      "10.1.2.3",
      "172.31.255.255",
      "192.168.0.10",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "255.255.255.255",
      "224.0.0.1",
      "::1",
      "::",
      "fd00::1",
      "fe80::1",
      "ff02::1",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "64:ff9b::10.0.0.1",
      "2001:db8::1",
      "not an address",
    ]
  ) {
    assert.equal(isPublicAddress(a), false, a);
  }
  assert.equal(isPublicAddress("172.32.0.1"), true, "just past 172.16/12");
});

Deno.test("a push target is refused for a private address in the URL or behind its name", async () => {
  const dns = (answers: Record<string, string[]>) => (host: string, type: "A" | "AAAA") =>
    Promise.resolve((answers[`${host} ${type}`] ?? []).slice());
  const none = dns({});
  assert.match(
    String(await refusedTarget("http://127.0.0.1:8080/push", none)),
    /127\.0\.0\.1 is not a public/,
  );
  assert.match(String(await refusedTarget("https://[::1]/push", none)), /::1 is not a public/);
  assert.match(String(await refusedTarget("https://localhost/push", none)), /this machine/);
  assert.equal(await refusedTarget("https://8.8.8.8/push", none), undefined);
  const rebinding = dns({ "push.example A": ["93.184.216.34"], "push.example AAAA": ["fd00::7"] });
  assert.match(String(await refusedTarget("https://push.example/x", rebinding)), /resolves to fd00::7/);
  const fine = dns({ "push.example A": ["93.184.216.34"] });
  assert.equal(await refusedTarget("https://push.example/x", fine), undefined);
  // A name that does not resolve is left to the request to fail (and be retried).
  assert.equal(
    await refusedTarget("https://nowhere.example/x", () => Promise.reject(new Error("NXDOMAIN"))),
    undefined,
  );
});
