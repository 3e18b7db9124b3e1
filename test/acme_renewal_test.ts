/**
 * ACME renewal against Debian's Pebble, in process with an injectable clock: the certificate is
 * renewed once the clock passes expiry − 30 days and the running HTTPS and MX listeners serve the new
 * one at their next handshake; two renewers on one database order once; a worker that died
 * mid-order is taken over when its claim runs out; other names are ordered at once; a failed renewal (Pebble stopped) counts in the
 * metric, logs a warning, backs off and keeps the old certificate.
 */
import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { resolveConfig, SMTP_DEFAULTS } from "../src/config/mod.ts";
import { serveBehindFront } from "../src/http/mod.ts";
import { openData } from "../src/server.ts";
import type { Services } from "../src/services.ts";
import { type MxServer, SmtpMetrics, startMxServer } from "../src/smtp/mod.ts";
import {
  type AcmeCertificates,
  acmeCertificates,
  CertificateRenewer,
  ORDER_CLAIM_MS,
  RENEW_BEFORE_MS,
  RETRY_FIRST_MS,
} from "../src/tls/mod.ts";
import { ADMIN_PASSWORD, freePort, until } from "./helpers.ts";
import { HAS_PEBBLE, type Pebble, servedCertificate, startPebble } from "./pebble_helpers.ts";

const ignore = !HAS_PEBBLE;
if (ignore) console.warn("Skipping the ACME renewal tests: apt-get install -y pebble openssl");

const DOMAINS = ["mail.example.org"];
const DAY = 24 * 3600_000;

/** A log that keeps its warnings. */
function memoryLog() {
  const warnings: string[] = [];
  return {
    warnings,
    info() {},
    warn(message: string, properties: Record<string, unknown>) {
      warnings.push(message.replace(/\{(\w+)\}/g, (_, key) => String(properties[key])));
    },
  };
}

/** A data directory opened like `postern serve` opens it (call twice for two processes' worth). */
async function open(dataDir: string): Promise<Services> {
  const config = resolveConfig({ data: dataDir }, { POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD });
  return (await openData(config, { hashWorkers: 1 })).services;
}

/** ACME over `services` for Pebble, on the clock `now`. */
function acme(
  services: Services,
  pebble: Pebble,
  now: () => number,
  log = memoryLog(),
  domains = DOMAINS,
): AcmeCertificates {
  return acmeCertificates(services.store.certificates, {
    encryptionKey: services.encryptionKey,
    acme: {
      directoryUrl: pebble.directoryUrl,
      email: "admin@example.org",
      domains,
      caCerts: [pebble.caPem],
      // Pebble stopped answers nothing: one quick retry rather than acme-client's five over 75 s.
      retries: { attempts: 1, delaySeconds: 0.1 },
    },
    log,
    now,
  });
}

/** The HTTPS front and the MX over a certificate source, as `postern serve` runs them. */
async function listeners(services: Services, certificates: AcmeCertificates) {
  const httpsSource = certificates.source();
  const https = serveBehindFront({
    hostname: "127.0.0.1",
    port: 0,
    log: getLogger(["postern", "test"]),
    maxConnections: 100,
    maxConnectionsPerAddress: 100,
    headerTimeoutMs: 30_000,
    idleTimeoutMs: 30_000,
    tls: { files: (await httpsSource.current()).files, source: httpsSource },
  }, () => new Response("ok"));
  const mx: MxServer = await startMxServer({
    hostname: "127.0.0.1",
    port: freePort(),
    serverName: "mail.example.org",
    inbound: services.inbound,
    limits: SMTP_DEFAULTS,
    tls: certificates.source(),
    metrics: new SmtpMetrics(),
    log: getLogger(["postern", "test"]),
  });
  return {
    httpsPort: https.addr.port,
    smtpPort: mx.addr.port,
    async close() {
      await https.shutdown();
      await mx.close(0);
    },
  };
}

Deno.test({
  name:
    "a certificate renewed when the clock passes expiry − 30 days is served by HTTPS and STARTTLS without a restart",
  ignore,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-acme-renew-" });
    const pebble = await startPebble({ httpPort: freePort(), alwaysValid: true });
    const services = await open(dataDir);
    let now = Date.now();
    const certificates = acme(services, pebble, () => now);
    const served = await listeners(services, certificates);
    try {
      // Before the first order: a self-signed stand-in, so STARTTLS and HTTPS work from the start.
      const stand = await servedCertificate(served.httpsPort);
      assert.match(stand!.issuer, /mail\.example\.org/);
      assert.equal(await certificates.renewer.renewDue(), "renewed");
      const first = await servedCertificate(served.httpsPort);
      assert.match(first!.issuer, /Pebble Intermediate/);
      assert.deepEqual(await servedCertificate(served.smtpPort, { starttls: true }), first);
      const stored = (await services.store.certificates.get("server"))!;
      const notAfter = stored.notAfter;
      // Private keys are sealed under the encryption key: the database holds none in clear.
      assert.doesNotMatch(stored.keySealed, /PRIVATE KEY/);
      assert.doesNotMatch(
        (await services.store.certificates.accountKey(pebble.directoryUrl))!,
        /PRIVATE KEY/,
      );
      // A day before the renewal window: nothing ordered.
      now = notAfter - RENEW_BEFORE_MS - DAY;
      assert.equal(await certificates.renewer.renewDue(), "notDue");
      assert.equal(pebble.issued(), 1);
      // In the window: renewed, and both listeners serve the new certificate at their next handshake.
      now = notAfter - RENEW_BEFORE_MS + DAY;
      assert.equal(await certificates.renewer.renewDue(), "renewed");
      const second = await servedCertificate(served.httpsPort);
      assert.match(second!.issuer, /Pebble Intermediate/);
      assert.notEqual(second!.serial, first!.serial);
      assert.deepEqual(await servedCertificate(served.smtpPort, { starttls: true }), second);
      const metrics = certificates.renewer.samples();
      const renewed = (await services.store.certificates.get("server"))!;
      assert.ok(
        metrics.some((m) =>
          m.name === "postern_tls_certificate_expiry_seconds" &&
          m.value === Math.round((renewed.notAfter - now) / 1000)
        ),
      );
    } finally {
      await served.close();
      await services.close();
      await pebble.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "two renewers on one database order once, and a renewer that died mid-order is taken over when its claim runs out",
  ignore,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-acme-race-" });
    const pebble = await startPebble({ httpPort: freePort(), alwaysValid: true });
    const [one, two] = [await open(dataDir), await open(dataDir)];
    let now = Date.now();
    try {
      const outcomes = await Promise.all([acme(one, pebble, () => now), acme(two, pebble, () => now)]
        .map((certificates) => certificates.renewer.renewDue()));
      assert.deepEqual(outcomes.sort(), ["claimedElsewhere", "renewed"]);
      assert.equal(pebble.issued(), 1);
      // Both processes serve the same certificate from the database.
      const [a, b] = [acme(one, pebble, () => now), acme(two, pebble, () => now)];
      assert.equal((await a.source().current()).files.cert, (await b.source().current()).files.cert);

      // A renewer that claims and never finishes (its process died during the order).
      const notAfter = (await one.store.certificates.get("server"))!.notAfter;
      now = notAfter - RENEW_BEFORE_MS + DAY;
      const dying = new CertificateRenewer({
        repository: one.store.certificates,
        sealer: { seal: (text) => text, open: (text) => text },
        order: () => new Promise(() => {}),
        domains: DOMAINS,
        log: memoryLog(),
        now: () => now,
      });
      void dying.renewDue();
      await until(async () => (await one.store.certificates.get("server"))!.claimedUntil > 0, "the claim");
      assert.equal(await b.renewer.renewDue(), "claimedElsewhere");
      now += ORDER_CLAIM_MS + 1;
      assert.equal(await b.renewer.renewDue(), "renewed");
      assert.equal(pebble.issued(), 2);

      // Other names configured: ordered again at once, far from expiry.
      now = Date.now();
      const wider = acme(two, pebble, () => now, memoryLog(), ["mail.example.org", "example.org"]);
      assert.equal(await wider.renewer.renewDue(), "renewed");
      assert.equal((await two.store.certificates.get("server"))!.domains, "mail.example.org,example.org");
      assert.equal(await wider.renewer.renewDue(), "notDue");
    } finally {
      await one.close();
      await two.close();
      await pebble.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a failed renewal (CA down) counts, warns, keeps the old certificate and is retried after a backoff",
  ignore,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-acme-fail-" });
    const pebble = await startPebble({ httpPort: freePort(), alwaysValid: true });
    const services = await open(dataDir);
    let now = Date.now();
    const log = memoryLog();
    const certificates = acme(services, pebble, () => now, log);
    const served = await listeners(services, certificates);
    try {
      assert.equal(await certificates.renewer.renewDue(), "renewed");
      const before = await servedCertificate(served.httpsPort);
      const notAfter = (await services.store.certificates.get("server"))!.notAfter;
      await pebble.stopCa();
      now = notAfter - RENEW_BEFORE_MS + DAY;
      assert.equal(await certificates.renewer.renewDue(), "failed");
      const failures = () =>
        certificates.renewer.samples().find((m) =>
          m.name === "postern_tls_certificate_renewal_failures_total"
        )!.value;
      assert.equal(failures(), 1);
      assert.equal(log.warnings.length, 1);
      assert.match(
        log.warnings[0],
        /^Renewing the TLS certificate for mail\.example\.org failed \(no answer from the ACME directory https:\/\/127\.0\.0\.1:\d+\/dir\); retrying in 5 min, the current certificate .* stays in use/,
      );
      assert.deepEqual(await servedCertificate(served.httpsPort), before);
      assert.deepEqual(await servedCertificate(served.smtpPort, { starttls: true }), before);
      // Within the backoff nothing is tried; after it, the next try (CA still down) doubles the wait.
      assert.equal(await certificates.renewer.renewDue(), "backingOff");
      now += RETRY_FIRST_MS;
      assert.equal(await certificates.renewer.renewDue(), "failed");
      assert.match(log.warnings[1], /retrying in 10 min/);
      assert.equal(failures(), 2);
      // The CA is back: the retry after the backoff renews, and the listeners serve the new certificate.
      await pebble.startCa();
      now += 2 * RETRY_FIRST_MS;
      assert.equal(await certificates.renewer.renewDue(), "renewed");
      const after = await servedCertificate(served.httpsPort);
      assert.notEqual(after!.serial, before!.serial);
      assert.deepEqual(await servedCertificate(served.smtpPort, { starttls: true }), after);
      const row = (await services.store.certificates.get("server"))!;
      assert.equal(row.failures, 0);
      assert.equal(row.lastError, "");
    } finally {
      await served.close();
      await services.close();
      await pebble.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
