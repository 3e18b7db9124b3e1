import assert from "node:assert/strict";
import { HttpMetrics } from "./metrics.ts";

Deno.test("latency buckets are cumulative, +Inf counts everything, and counters split by status", () => {
  const metrics = new HttpMetrics();
  metrics.observe("GET", "/x", 200, 0.0005);
  metrics.observe("GET", "/x", 200, 0.003);
  metrics.observe("GET", "/x", 404, 20);
  const text = metrics.render([]);
  const bucket = (le: string) =>
    Number(
      new RegExp(`_bucket\\{route="/x",le="${le.replace(".", "\\.").replace("+", "\\+")}"\\} (\\d+)`).exec(
        text,
      )![1],
    );
  assert.equal(bucket("0.001"), 1);
  assert.equal(bucket("0.005"), 2);
  assert.equal(bucket("10"), 2);
  assert.equal(bucket("+Inf"), 3);
  assert.match(text, /postern_http_requests_total\{method="GET",route="\/x",status="200"\} 2/);
  assert.match(text, /postern_http_requests_total\{method="GET",route="\/x",status="404"\} 1/);
});
