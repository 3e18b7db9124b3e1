import assert from "node:assert/strict";
import { openStore } from "../store/mod.ts";
import { TlsReportRecorder } from "./tls_report.ts";

Deno.test("TLS outcomes are counted per domain, UTC day, policy, MX and result, and in the metric", async () => {
  const store = openStore(":memory:");
  try {
    let now = Date.parse("2026-12-06T23:59:59Z");
    const recorder = new TlsReportRecorder({ store: store.mtaSts, now: () => now });
    recorder.record({ domain: "Example.NET", mx: "MX.example.net.", policy: "sts" });
    recorder.record({ domain: "example.net", mx: "mx.example.net", policy: "sts" });
    recorder.record({
      domain: "example.net",
      mx: "mx.example.net",
      policy: "sts",
      failure: "certificate-host-mismatch",
    });
    now += 1000;
    recorder.record({
      domain: "example.org",
      mx: "mx.example.org",
      policy: "no-policy-found",
      failure: "starttls-not-supported",
    });
    assert.deepEqual(await store.mtaSts.tlsCounts("2026-12-06"), [
      { domain: "example.net", day: "2026-12-06", policy: "sts", mx: "mx.example.net", result: "", count: 2 },
      {
        domain: "example.net",
        day: "2026-12-06",
        policy: "sts",
        mx: "mx.example.net",
        result: "certificate-host-mismatch",
        count: 1,
      },
    ]);
    assert.equal((await store.mtaSts.tlsCounts("2026-12-07")).length, 1, "the next UTC day is counted apart");
    assert.deepEqual(
      recorder.samples().map((s) => [s.name, s.labels?.result, s.value]),
      [
        ["postern_outbound_tls_total", "success", 2],
        ["postern_outbound_tls_total", "certificate-host-mismatch", 1],
        ["postern_outbound_tls_total", "starttls-not-supported", 1],
      ],
    );
    assert.equal(await store.mtaSts.deleteTlsCountsBefore("2026-12-07"), 2);
  } finally {
    store.close();
  }
});

Deno.test("a count the database refuses is logged, never thrown at the transport", () => {
  const recorder = new TlsReportRecorder({
    store: {
      countTls: () => {
        throw new Error("database is locked");
      },
    },
  });
  recorder.record({
    domain: "example.net",
    mx: "mx.example.net",
    policy: "sts",
    failure: "validation-failure",
  });
  assert.equal(recorder.samples()[0].value, 1);
});
