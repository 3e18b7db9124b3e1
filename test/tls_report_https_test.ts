/**
 * TLS reports to an https: rua (RFC 8460 §5.3.2): POSTed as application/tlsrpt+gzip to a loopback
 * HTTPS receiver whose certificate a test CA (openssl) signed, and gunzipped there to the report.
 */
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { Buffer } from "node:buffer";
import { openStore } from "../src/store/mod.ts";
import { TlsReportRecorder } from "../src/outbound/tls_report.ts";
import { TlsReportSender } from "../src/outbound/tls_report_send.ts";
import { makeCertificates } from "./outbound_helpers.ts";
import { hasCommand, skipping } from "./smtp_helpers.ts";

const ignore = !await hasCommand("openssl") && skipping("TLS reports over HTTPS", "openssl");

Deno.test({
  name: "a TLS report reaches an https: rua by POST, gzipped JSON of the day",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "postern-tlsrpt-" });
    const { ca, cert, key } = await makeCertificates(dir, "IP:127.0.0.1");
    const posts: { type: string | null; body: Uint8Array }[] = [];
    const receiver = Deno.serve(
      { hostname: "127.0.0.1", port: 0, cert, key, onListen() {} },
      async (request) => {
        if (request.method !== "POST") return new Response(null, { status: 405 });
        posts.push({
          type: request.headers.get("content-type"),
          body: new Uint8Array(await request.arrayBuffer()),
        });
        return new Response(null, { status: 201 });
      },
    );
    const client = Deno.createHttpClient({ caCerts: [ca] });
    const store = openStore(":memory:");
    try {
      const day = Date.parse("2026-12-06T10:00:00Z");
      const clock = { now: day };
      new TlsReportRecorder({ store: store.mtaSts, now: () => clock.now })
        .record({ domain: "example.net", mx: "mx.example.net", policy: "no-policy-found" });
      clock.now += 86_400_000;
      const url = `https://127.0.0.1:${receiver.addr.port}/tlsrpt`;
      const mailed: unknown[] = [];
      const sender = new TlsReportSender({
        store: store.mtaSts,
        resolver: { resolveTxt: () => Promise.resolve([`v=TLSRPTv1; rua=${url}`]) },
        send: (message) => {
          mailed.push(message);
          return Promise.resolve();
        },
        fetch: (input, init) => fetch(input, { ...init, client }),
        submitter: {
          organization: "mail.example.org",
          host: "mail.example.org",
          contact: "postmaster@example.org",
        },
        from: "postmaster@example.org",
        now: () => clock.now,
      });
      assert.equal(await sender.sendDue(), 1);
      assert.equal(posts.length, 1);
      assert.equal(mailed.length, 0, "no mailto: in the record, nothing mailed");
      assert.equal(posts[0].type, "application/tlsrpt+gzip");
      const report = JSON.parse(gunzipSync(Buffer.from(posts[0].body)).toString("utf-8"));
      assert.equal(report["organization-name"], "mail.example.org");
      assert.equal(report["date-range"]["start-datetime"], "2026-12-06T00:00:00Z");
      assert.equal(report.policies[0].policy["policy-domain"], "example.net");
      // Sent: a second run posts nothing more.
      assert.equal(await sender.sendDue(), 0);
      assert.equal(posts.length, 1);
    } finally {
      store.close();
      client.close();
      await receiver.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
