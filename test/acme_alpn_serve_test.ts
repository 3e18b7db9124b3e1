/**
 * `postern serve --acme-challenge tls-alpn-01` against Debian's Pebble with real validation: Pebble's
 * VA connects to the HTTPS listener with ALPN acme-tls/1 (its HTTP-01 port is one nobody listens
 * on, so only TLS-ALPN-01 can succeed), the front answers with the challenge certificate, and the
 * issued certificate is then served on the same port to ordinary HTTPS clients.
 */
import assert from "node:assert/strict";
import { freePort, startServerProcess, until } from "./helpers.ts";
import { HAS_PEBBLE, servedCertificate, startPebble } from "./pebble_helpers.ts";

const ignore = !HAS_PEBBLE;
if (ignore) console.warn("Skipping the TLS-ALPN-01 serve test: apt-get install -y pebble openssl");

Deno.test({
  name:
    "postern serve orders a certificate with TLS-ALPN-01 answered on its HTTPS port and then serves it there",
  ignore,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-acme-alpn-" });
    const [httpPort, httpsPort, unusedPort] = [freePort(), freePort(), freePort()];
    const pebble = await startPebble({ httpPort: unusedPort, tlsPort: httpsPort });
    const server = await startServerProcess(dataDir, {}, {
      logLevel: "info",
      args: [
        "--listen",
        `127.0.0.1:${httpPort}`,
        "--https-listen",
        `127.0.0.1:${httpsPort}`,
        "--acme-directory",
        pebble.directoryUrl,
        "--acme-ca-file",
        pebble.caFile,
        "--acme-domains",
        "mail.example.org,example.org",
        "--acme-challenge",
        "tls-alpn-01",
      ],
    });
    try {
      let served;
      await until(async () => {
        served = await servedCertificate(httpsPort);
        return /Pebble Intermediate/.test(served?.issuer ?? "");
      }, "the Pebble certificate on HTTPS").catch((error) => {
        throw new Error(`${error.message}; server log:\n${server.stderr()}`);
      });
      assert.match(served!.subject, /CN\s*=\s*mail\.example\.org/);
      assert.equal(pebble.issued(), 1);
      assert.match(server.stderr(), /TLS certificate for mail\.example\.org,example\.org obtained/);
      // Both names were validated on this port, by the front's own handshake.
      for (const name of ["mail\\.example\\.org", "example\\.org"]) {
        assert.match(server.stderr(), new RegExp(`Answered a TLS-ALPN-01 validation for \\\\?"?${name}`));
      }
      // The application on the same port, verified up to Pebble's root for the name.
      const curl = await new Deno.Command("curl", {
        args: [
          "-sS",
          "--cacert",
          "/dev/stdin",
          "--resolve",
          `mail.example.org:${httpsPort}:127.0.0.1`,
          `https://mail.example.org:${httpsPort}/healthz`,
        ],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = curl.stdin.getWriter();
      await writer.write(new TextEncoder().encode(await pebble.rootPem()));
      await writer.close();
      const output = await curl.output();
      assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
      assert.equal(
        JSON.parse(new TextDecoder().decode(output.stdout)).listeners.https,
        `127.0.0.1:${httpsPort}`,
      );
    } finally {
      await server.stop();
      await pebble.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
