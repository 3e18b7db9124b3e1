/**
 * ACME and MTA-STS: once mta-sts.DOMAIN points here, the next renewal check orders a certificate
 * that names it (Pebble, Debian), and the names stay put until they change again; when the
 * selection cannot be made (DNS down) the stored certificate's names stand.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { resolveConfig } from "../src/config/mod.ts";
import { openData } from "../src/server.ts";
import { acmeCertificates } from "../src/tls/mod.ts";
import { ADMIN_PASSWORD, freePort } from "./helpers.ts";
import { HAS_PEBBLE, startPebble } from "./pebble_helpers.ts";

const ignore = !HAS_PEBBLE;
if (ignore) console.warn("Skipping the ACME MTA-STS names test: apt-get install -y pebble openssl");

Deno.test({
  name:
    "ACME adds mta-sts.DOMAIN to the certificate once it points here, and keeps the names when DNS cannot tell",
  ignore,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-acme-mtasts-" });
    const pebble = await startPebble({ httpPort: freePort(), alwaysValid: true });
    const config = resolveConfig({ data: dataDir }, { POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD });
    const { services } = await openData(config, { hashWorkers: 1 });
    let extra: () => Promise<string[]> = () => Promise.resolve([]);
    const warnings: string[] = [];
    try {
      const certificates = acmeCertificates(services.store.certificates, {
        encryptionKey: services.encryptionKey,
        acme: {
          directoryUrl: pebble.directoryUrl,
          email: "admin@example.org",
          domains: ["mail.example.org"],
          caCerts: [pebble.caPem],
          retries: { attempts: 1, delaySeconds: 0.1 },
          extraNames: () => extra(),
        },
        log: { info() {}, warn: (message) => void warnings.push(message) },
      });
      const names = async () => {
        const pem = (await certificates.source().current()).files.cert;
        return new X509Certificate(pem).subjectAltName;
      };
      assert.equal(await certificates.renewer.renewDue(), "renewed");
      assert.equal(await names(), "DNS:mail.example.org");
      extra = () => Promise.resolve(["mta-sts.example.org"]);
      assert.equal(await certificates.renewer.renewDue(), "renewed", "a new name makes it due at once");
      assert.match(String(await names()), /DNS:mta-sts\.example\.org/);
      assert.equal(await certificates.renewer.renewDue(), "notDue");
      assert.equal(pebble.issued(), 2);
      // DNS down: the names of the certificate stand (nothing dropped, nothing ordered).
      extra = () => Promise.reject(new Error("DNS is down"));
      assert.equal(await certificates.renewer.renewDue(), "notDue");
      assert.match(String(await names()), /DNS:mta-sts\.example\.org/);
      assert.equal(warnings.length, 1);
      // The name withdrawn (DNS no longer points here): ordered without it.
      extra = () => Promise.resolve([]);
      assert.equal(await certificates.renewer.renewDue(), "renewed");
      assert.equal(await names(), "DNS:mail.example.org");
    } finally {
      await services.close();
      await pebble.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
