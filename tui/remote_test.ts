import assert from "node:assert/strict";
import { parseMetrics, sumOverProcesses } from "./remote.ts";

Deno.test("the dashboard sums the series of several serving processes into the server's", () => {
  const samples = sumOverProcesses(parseMetrics(
    [
      'postern_cache_hits_total{cache="account",process="0"} 3',
      'postern_cache_hits_total{cache="account",process="1"} 4',
      'postern_cache_hits_total{cache="token",process="1"} 1',
      "postern_emails 12",
    ].join("\n"),
  ));
  assert.deepEqual(samples, [
    { name: "postern_cache_hits_total", labels: { cache: "account" }, value: 7 },
    { name: "postern_cache_hits_total", labels: { cache: "token" }, value: 1 },
    { name: "postern_emails", labels: {}, value: 12 },
  ]);
});
