import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { Buffer } from "node:buffer";
import { openStore, type Store } from "../store/mod.ts";
import { TlsReportRecorder } from "./tls_report.ts";
import { reportAddresses, reportUrls } from "./tls_report_json.ts";
import { REPORT_CLAIM_MS, type ReportMessage, TlsReportSender } from "./tls_report_send.ts";

const DAY = Date.parse("2026-12-06T10:00:00Z");
const TXT: Record<string, string[]> = {
  "_smtp._tls.example.net": ["v=TLSRPTv1; rua=mailto:tlsrpt@example.net,https://reports.example.net/x"],
};

/** A fetch standing in for the https: rua of TXT: every POST answered 200. */
const accepting: typeof fetch = (_input, init) => {
  void init?.body;
  return Promise.resolve(new Response(null, { status: 200 }));
};

function sender(
  store: Store,
  clock: { now: number },
  sent: ReportMessage[],
  fail = { times: 0 },
  post: typeof fetch = accepting,
) {
  return new TlsReportSender({
    fetch: post,
    store: store.mtaSts,
    resolver: {
      resolveTxt: (name) =>
        TXT[name]
          ? Promise.resolve(TXT[name])
          : Promise.reject(Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: "ENOTFOUND" })),
    },
    send: (message) => {
      if (fail.times-- > 0) return Promise.reject(new Error("queue unavailable"));
      sent.push(message);
      return Promise.resolve();
    },
    submitter: {
      organization: "mail.example.org",
      host: "mail.example.org",
      contact: "postmaster@example.org",
    },
    from: "postmaster@example.org",
    now: () => clock.now,
  });
}

/** The report JSON inside a sent message. */
function reportOf(message: ReportMessage): Record<string, unknown> {
  const text = new TextDecoder().decode(message.message);
  assert.match(text, /^Content-Type: multipart\/report; report-type="?tlsrpt"?;/m);
  assert.match(text, /^Subject: Report Domain: example\.net Submitter: mail\.example\.org Report-ID:/m);
  assert.match(text, /^Tls-Report-Domain: example\.net$/im);
  const part = text.split(/^Content-Type: application\/tlsrpt\+gzip;/m)[1];
  const base64 = part.split(/\r?\n\r?\n/)[1].split(/\r?\n--/)[0].replace(/\s+/g, "");
  return JSON.parse(gunzipSync(Buffer.from(base64, "base64")).toString("utf-8"));
}

async function recordDay(store: Store, clock: { now: number }) {
  await store.mtaSts.savePolicy({
    domain: "example.net",
    id: "one",
    mode: "enforce",
    mx: ["mx.example.net"],
    maxAge: 86400,
    fetchedAt: clock.now,
  });
  const recorder = new TlsReportRecorder({ store: store.mtaSts, now: () => clock.now });
  recorder.record({ domain: "example.net", mx: "mx.example.net", policy: "sts" });
  recorder.record({ domain: "example.net", mx: "mx.example.net", policy: "sts" });
  recorder.record({
    domain: "example.net",
    mx: "mx.example.net",
    policy: "sts",
    failure: "certificate-expired",
  });
  recorder.record({ domain: "example.org", mx: "mx.example.org", policy: "no-policy-found" });
}

Deno.test("the report of a finished day is mailed once to the domain's rua, as RFC 8460 JSON", async () => {
  const store = openStore(":memory:");
  try {
    const clock = { now: DAY };
    const sent: ReportMessage[] = [];
    await recordDay(store, clock);
    assert.equal(await sender(store, clock, sent).sendDue(), 0, "the day is not over");
    clock.now += 86_400_000;
    assert.equal(await sender(store, clock, sent).sendDue(), 1, "example.org publishes no _smtp._tls");
    assert.deepEqual(sent.map((m) => [m.mailFrom, m.recipients]), [["postmaster@example.org", [
      "tlsrpt@example.net",
    ]]]);
    assert.deepEqual(reportOf(sent[0]), {
      "organization-name": "mail.example.org",
      "date-range": { "start-datetime": "2026-12-06T00:00:00Z", "end-datetime": "2026-12-06T23:59:59Z" },
      "contact-info": "postmaster@example.org",
      "report-id": "2026-12-06_example.net@mail.example.org",
      policies: [{
        policy: {
          "policy-type": "sts",
          "policy-string": ["version: STSv1", "mode: enforce", "mx: mx.example.net", "max_age: 86400"],
          "mx-host": ["mx.example.net"],
          "policy-domain": "example.net",
        },
        summary: { "total-successful-session-count": 2, "total-failure-session-count": 1 },
        "failure-details": [{
          "result-type": "certificate-expired",
          "receiving-mx-hostname": "mx.example.net",
          "failed-session-count": 1,
        }],
      }],
    });
    assert.equal(await sender(store, clock, sent).sendDue(), 0, "sent once");
    assert.equal(sent.length, 1);
  } finally {
    store.close();
  }
});

Deno.test("two processes mailing reports at once send each once; a failed send is retried after its claim", async () => {
  const dir = await Deno.makeTempDir({ prefix: "postern-tlsrpt-" });
  const first = openStore(`${dir}/db`);
  const second = openStore(`${dir}/db`);
  try {
    const clock = { now: DAY };
    await recordDay(first, clock);
    clock.now += 86_400_000;
    const sent: ReportMessage[] = [];
    const failing = { times: 1 };
    const counts = await Promise.all([
      sender(first, clock, sent, failing).sendDue(),
      sender(second, clock, sent, failing).sendDue(),
    ]);
    assert.deepEqual(counts, [0, 0], "the one claim's send failed");
    assert.equal(await sender(second, clock, sent).sendDue(), 0, "still claimed by the failed worker");
    clock.now += REPORT_CLAIM_MS + 1;
    assert.equal(await sender(second, clock, sent).sendDue(), 1);
    assert.equal(await sender(first, clock, sent).sendDue(), 0);
    assert.equal(sent.length, 1);
    clock.now += 8 * 86_400_000;
    await sender(first, clock, sent).sendDue();
    assert.deepEqual(await first.mtaSts.tlsCounts("2026-12-06"), [], "old counts are dropped");
  } finally {
    first.close();
    second.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("report addresses come from exactly one v=TLSRPTv1 record's mailto: URIs", () => {
  assert.deepEqual(reportAddresses(["v=TLSRPTv1; rua=mailto:a@example.net,mailto:b%40x@example.net"]), [
    "a@example.net",
  ]);
  assert.deepEqual(reportAddresses(["v=TLSRPTv1;rua=mailto:a@example.net?subject=x, mailto:c@example.com"]), [
    "a@example.net",
    "c@example.com",
  ]);
  assert.deepEqual(reportAddresses(["v=spf1 -all", "v=TLSRPTv1; rua=https://r.example.net/"]), []);
  assert.deepEqual(
    reportAddresses(["v=TLSRPTv1; rua=mailto:a@example.net", "v=TLSRPTv1; rua=mailto:b@example.net"]),
    [],
  );
  assert.deepEqual(reportAddresses(["v=TLSRPTv1 rua=mailto:a@example.net"]), []);
  assert.deepEqual(reportAddresses(["v=TLSRPTv1; rua=mailto:%E0%A4%A"]), []);
  assert.deepEqual(reportAddresses([]), []);
});

Deno.test("https: URIs of the record are where reports are POSTed; http: and malformed ones are not", () => {
  assert.deepEqual(reportUrls(["v=TLSRPTv1; rua=mailto:a@example.net,https://r.example.net/tls"]), [
    "https://r.example.net/tls",
  ]);
  assert.deepEqual(reportUrls(["v=TLSRPTv1; rua=http://r.example.net/, https://"]), []);
  assert.deepEqual(
    reportUrls(["v=TLSRPTv1; rua=https://r.example.net/", "v=TLSRPTv1; rua=https://s.example.net/"]),
    [],
  );
});

Deno.test("a POST that fails leaves the report unsent (nothing mailed), and it is sent whole after its claim", async () => {
  const store = openStore(":memory:");
  try {
    const clock = { now: DAY };
    const sent: ReportMessage[] = [];
    await recordDay(store, clock);
    clock.now += 86_400_000;
    const posts: string[] = [];
    let status = 503;
    const post: typeof fetch = (input) => {
      posts.push(String(input));
      return Promise.resolve(new Response(null, { status }));
    };
    assert.equal(await sender(store, clock, sent, undefined, post).sendDue(), 0);
    assert.deepEqual([posts, sent.length], [["https://reports.example.net/x"], 0]);
    status = 202;
    clock.now += REPORT_CLAIM_MS + 1;
    assert.equal(await sender(store, clock, sent, undefined, post).sendDue(), 1);
    assert.equal(posts.length, 2);
    assert.equal(sent.length, 1);
  } finally {
    store.close();
  }
});
