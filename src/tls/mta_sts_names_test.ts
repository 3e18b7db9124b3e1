import assert from "node:assert/strict";
import { mtaStsNames } from "./mta_sts_names.ts";

Deno.test("mta-sts names: added when published and pointing here; left out when withdrawn, elsewhere or absent", async () => {
  const dns: Record<string, string[]> = {
    "mail.example.org": ["192.0.2.10"],
    "mta-sts.example.org": ["192.0.2.10"],
    "mta-sts.elsewhere.example": ["198.51.100.7"],
    "mta-sts.off.example": ["192.0.2.10"],
  };
  const names = await mtaStsNames({
    configured: ["mail.example.org"],
    addresses: (name) =>
      dns[name]
        ? Promise.resolve(dns[name])
        : Promise.reject(Object.assign(new Error("nx"), { code: "ENOTFOUND" })),
    domains: () =>
      Promise.resolve([
        { name: "example.org", mtaStsMode: "testing" },
        { name: "elsewhere.example", mtaStsMode: "enforce" },
        { name: "off.example", mtaStsMode: "none" },
        { name: "nodns.example", mtaStsMode: "enforce" },
      ]),
  });
  assert.deepEqual(names, ["mta-sts.example.org"]);
});
