import assert from "node:assert/strict";
import { SmtpMetrics } from "./metrics.ts";

Deno.test("connections and refusals are labelled with their listener; a listener only used has zeros", () => {
  const metrics = new SmtpMetrics();
  const mx = metrics.listener("mx");
  mx.connectionsTotal += 2;
  mx.refused("unknownRecipient");
  mx.refused("unknownRecipient");
  metrics.listener("submissions").refused("forbiddenSender");
  metrics.listener("submission");
  assert.equal(metrics.listener("mx"), mx, "one set of counters per listener");
  const lines = metrics.samples()
    .filter((s) => s.name.startsWith("postern_smtp_connections") || s.name === "postern_smtp_refusals_total")
    .map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`);
  assert.deepEqual(lines, [
    'postern_smtp_connections_total{"listener":"mx"} 2',
    'postern_smtp_connections_total{"listener":"submissions"} 0',
    'postern_smtp_connections_total{"listener":"submission"} 0',
    'postern_smtp_connections{"listener":"mx"} 0',
    'postern_smtp_connections{"listener":"submissions"} 0',
    'postern_smtp_connections{"listener":"submission"} 0',
    'postern_smtp_refusals_total{"listener":"mx","reason":"unknownRecipient"} 2',
    'postern_smtp_refusals_total{"listener":"submissions","reason":"forbiddenSender"} 1',
  ]);
});

Deno.test("without any SMTP listener there are no connection or refusal series", () => {
  const names = new SmtpMetrics().samples().map((s) => s.name);
  assert.ok(!names.includes("postern_smtp_connections_total"));
  assert.ok(!names.includes("postern_smtp_refusals_total"));
  assert.ok(names.includes("postern_smtp_messages_accepted_total"), "the other names stay");
});

Deno.test("each accepted message adds its time in every stage, in seconds, to the stage's series", () => {
  const metrics = new SmtpMetrics();
  const stages = () =>
    metrics.samples()
      .filter((s) => s.name === "postern_smtp_message_stage_seconds_total")
      .map((s) => `${s.labels!.stage} ${s.value}`);
  assert.deepEqual(stages(), ["receive 0", "authenticate 0", "store 0"], "zeros before the first message");
  metrics.accepted({ receive: 1500, authenticate: 250, store: 4 });
  metrics.accepted({ receive: 500, authenticate: 750, store: 6 });
  assert.deepEqual(stages(), ["receive 2", "authenticate 1", "store 0.01"]);
  const accepted = metrics.samples().find((s) => s.name === "postern_smtp_messages_accepted_total");
  assert.equal(accepted?.value, 2);
});
