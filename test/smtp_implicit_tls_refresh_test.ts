/**
 * Port 465 after a renewal: the certificate in the store (src/tls/stored_tls_source.ts) changes, and
 * the very next implicit-TLS handshake presents the new one, whether or not the client sends a
 * server name (`openssl s_client -noservername`: no SNI, so no SNICallback to refresh in).
 */
import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { SMTP_DEFAULTS } from "../src/config/mod.ts";
import { textSealer } from "../src/oauth/sealer.ts";
import { SmtpMetrics, startSubmissionServer } from "../src/smtp/mod.ts";
import { openStore, type Store } from "../src/store/mod.ts";
import { selfSignedCertificate } from "../src/tls/self_signed.ts";
import { StoredTlsSource } from "../src/tls/stored_tls_source.ts";
import { hasCommand, skipping } from "./smtp_helpers.ts";

const ignore = !await hasCommand("openssl") && skipping("465 after a renewal", "openssl");

/** The PEM certificate the listener on `port` presents, with or without SNI. */
async function presented(port: number, serverName?: string): Promise<string> {
  const { stdout } = await new Deno.Command("openssl", {
    args: [
      "s_client",
      "-connect",
      `127.0.0.1:${port}`,
      ...(serverName ? ["-servername", serverName] : ["-noservername"]),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(
    new TextDecoder().decode(stdout),
  );
  return pem ? pem[0].replace(/\s+/g, "") : "(no certificate)";
}

/** Stores `cert` as the server's certificate, as an ACME renewal does (claim, then save). */
async function renew(store: Store, sealer: ReturnType<typeof textSealer>, now: number) {
  const files = await selfSignedCertificate(["mail.example.org"], now);
  const claim = await store.certificates.claim("server", now, now + 60_000);
  assert.ok(claim, "the row is free to claim");
  const saved = await store.certificates.save("server", now + 60_000, {
    domains: "mail.example.org",
    certPem: files.cert,
    keySealed: sealer.seal(files.key),
    notAfter: now + 7 * 86_400_000,
    now,
  });
  assert.ok(saved);
  return files.cert.replace(/\s+/g, "");
}

Deno.test({
  name: "465 presents a renewed certificate on the first handshake after it, with SNI or without",
  ignore,
  async fn() {
    const store = openStore(":memory:");
    const sealer = textSealer(crypto.getRandomValues(new Uint8Array(64)), "test certificates");
    await store.certificates.ensure("server", "mail.example.org");
    let now = Date.now();
    const first = await renew(store, sealer, now);
    const source = new StoredTlsSource(store.certificates, {
      name: "server",
      sealer,
      fallback: () => selfSignedCertificate(["mail.example.org"]),
    });
    const refused = () => Promise.reject(new Error("no logins in this test"));
    const server = await startSubmissionServer({
      hostname: "127.0.0.1",
      port: 0,
      implicitTls: true,
      serverName: "mail.example.org",
      auth: { authenticate: refused, accountIdOf: () => Promise.resolve(undefined) },
      recheck: refused,
      submission: { maySendAs: () => Promise.resolve(false), submit: refused },
      isRecipientAddress: () => true,
      limits: SMTP_DEFAULTS,
      tls: source,
      metrics: new SmtpMetrics(),
      log: getLogger(["postern", "smtp"]),
    });
    try {
      const port = server.addr.port;
      assert.equal(await presented(port), first);
      for (const sni of [undefined, "mail.example.org"]) {
        // A later updatedAt than the last save: a new certificate, as a renewal stores it.
        now += 1000;
        const renewed = await renew(store, sealer, now);
        assert.notEqual(renewed, first);
        assert.equal(await presented(port, sni), renewed, `the first handshake after, SNI ${sni ?? "none"}`);
        assert.equal(await presented(port), renewed);
      }
    } finally {
      await server.close(0);
      store.close();
    }
  },
});
