/**
 * /metrics of one of several serving processes, in-process (the end-to-end figures: processes_test.ts):
 * `?scope=process` (what a sibling asks over loopback) is guarded as /metrics is, and a sibling that
 * does not answer leaves only its own series out.
 */
import assert from "node:assert/strict";
import { basic, startTestApp } from "./helpers.ts";
import { createUser } from "./jmap_helpers.ts";

const SIBLING = [
  "# HELP postern_up Up",
  "# TYPE postern_up gauge",
  'postern_up{process="0"} 1',
  "# HELP postern_emails Emails of every account",
  "# TYPE postern_emails gauge",
  "postern_emails 999",
].join("\n");

Deno.test("/metrics?scope=process from another address needs an administrator, as /metrics does", async () => {
  const t = await startTestApp({
    app: { process: { index: 1, count: 2 }, siblingMetrics: () => Promise.resolve([]) },
  });
  try {
    const remote = { client: "203.0.113.9" };
    const anonymous = await t.fetch("/metrics?scope=process", remote);
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();
    const user = await createUser(t, "eve");
    const refused = await t.fetch("/metrics?scope=process", {
      ...remote,
      headers: { authorization: user.auth },
    });
    assert.equal(refused.status, 403);
    await refused.body?.cancel();
    const admin = basic("admin@example.org", "admin password for tests");
    const allowed = await t.fetch("/metrics?scope=process", { ...remote, headers: { authorization: admin } });
    assert.equal(allowed.status, 200);
    assert.match(await allowed.text(), /^postern_http_requests_total\{.*process="1"\} \d+$/m);
  } finally {
    await t.close();
  }
});

Deno.test("/metrics adds the siblings' own series and keeps its own database figures", async () => {
  let asked = 0;
  const t = await startTestApp({
    app: {
      process: { index: 1, count: 2 },
      siblingMetrics: () => {
        asked++;
        return Promise.resolve([SIBLING]);
      },
    },
  });
  try {
    const whole = await (await t.fetch("/metrics")).text();
    assert.match(whole, /^postern_up\{process="0"\} 1$/m);
    assert.deepEqual(whole.match(/^postern_emails .*$/gm), ["postern_emails 0"]);
    // A sibling's question is not passed on (no scrape fans out twice).
    await (await t.fetch("/metrics?scope=process")).text();
    assert.equal(asked, 1);
  } finally {
    await t.close();
  }
});
