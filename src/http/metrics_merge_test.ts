import assert from "node:assert/strict";
import { labelSamples, mergeExpositions } from "./metrics_merge.ts";

const ONE = `# HELP postern_http_requests_total HTTP requests
# TYPE postern_http_requests_total counter
postern_http_requests_total{method="GET",route="/healthz",status="200"} 3
# HELP postern_http_request_duration_seconds Time to answer a request
# TYPE postern_http_request_duration_seconds histogram
postern_http_request_duration_seconds_bucket{route="/healthz",le="0.005"} 3
postern_http_request_duration_seconds_bucket{route="/healthz",le="+Inf"} 3
postern_http_request_duration_seconds_sum{route="/healthz"} 0.001
postern_http_request_duration_seconds_count{route="/healthz"} 3
# HELP postern_emails Emails of every account
# TYPE postern_emails gauge
postern_emails 12
# HELP postern_up Up
# TYPE postern_up gauge
postern_up 1
`;
const SHARED = new Set(["postern_emails"]);

Deno.test("each process's own samples get its label; samples read from the database do not", () => {
  const labelled = labelSamples(ONE, "process", "1", SHARED);
  assert.match(
    labelled,
    /^postern_http_requests_total\{method="GET",route="\/healthz",status="200",process="1"\} 3$/m,
  );
  assert.match(
    labelled,
    /^postern_http_request_duration_seconds_sum\{route="\/healthz",process="1"\} 0.001$/m,
  );
  assert.match(labelled, /^postern_up\{process="1"\} 1$/m);
  assert.match(labelled, /^postern_emails 12$/m);
  // Nothing else changes: same lines, same order.
  assert.equal(labelled.split("\n").length, ONE.split("\n").length);
});

Deno.test("merged expositions keep each family together with its HELP and TYPE once", () => {
  const zero = labelSamples(ONE, "process", "0", SHARED);
  const one = labelSamples(ONE.replace("postern_emails 12", "postern_emails 99"), "process", "1", SHARED);
  const merged = mergeExpositions(zero, [one], SHARED);
  const lines = merged.trimEnd().split("\n");
  assert.equal(lines.filter((l) => l === "# TYPE postern_http_requests_total counter").length, 1);
  // The family's samples follow its header without another family between them.
  const start = lines.indexOf("# TYPE postern_http_request_duration_seconds histogram");
  const block = lines.slice(start + 1, start + 9);
  assert.ok(block.every((l) => l.startsWith("postern_http_request_duration_seconds_")), block.join("\n"));
  assert.equal(block.filter((l) => l.includes('process="1"')).length, 4);
  // The database's figure once, from the process that answered.
  assert.deepEqual(lines.filter((l) => l.startsWith("postern_emails")), ["postern_emails 12"]);
  assert.deepEqual(lines.filter((l) => l.startsWith("postern_up")), [
    'postern_up{process="0"} 1',
    'postern_up{process="1"} 1',
  ]);
});
