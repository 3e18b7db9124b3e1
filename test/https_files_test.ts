/**
 * HTTPS from certificate files: `postern serve --https-listen` with --tls-cert/--tls-key serves the
 * application over TLS, and when the files are replaced (a renewal by certbot) the next handshake on
 * HTTPS and on the MX's STARTTLS uses the new certificate, without a restart.
 */
import assert from "node:assert/strict";
import { freePort, startServerProcess, until } from "./helpers.ts";
import { servedCertificate } from "./pebble_helpers.ts";
import { hasCommand } from "./smtp_helpers.ts";

const ignore = !(await hasCommand("openssl"));
if (ignore) console.warn("Skipping the HTTPS file tests: apt-get install -y openssl");

/** Writes a self-signed certificate for mail.example.org with subject `name` to cert.pem/key.pem in `dir`. */
async function writeCertificate(dir: string, name: string): Promise<void> {
  // Written beside, then renamed over: a reader never sees half a file.
  const { code, stderr } = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      `${dir}/key.new`,
      "-out",
      `${dir}/cert.new`,
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
      "-addext",
      "subjectAltName=DNS:mail.example.org",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  await Deno.rename(`${dir}/key.new`, `${dir}/key.pem`);
  await Deno.rename(`${dir}/cert.new`, `${dir}/cert.pem`);
}

Deno.test({
  name: "replaced certificate files are served by the next HTTPS and STARTTLS handshake without a restart",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "postern-https-files-" });
    await writeCertificate(dir, "first.example.org");
    const [httpsPort, smtpPort] = [freePort(), freePort()];
    const server = await startServerProcess(`${dir}/data`, {}, {
      args: [
        "--https-listen",
        `127.0.0.1:${httpsPort}`,
        "--smtp-listen",
        `127.0.0.1:${smtpPort}`,
        "--tls-cert",
        `${dir}/cert.pem`,
        "--tls-key",
        `${dir}/key.pem`,
      ],
    });
    try {
      const first = await servedCertificate(httpsPort);
      assert.match(first!.subject, /first\.example\.org/);
      assert.deepEqual(await servedCertificate(smtpPort, { starttls: true }), first);
      // The application itself answers over TLS.
      const curl = await new Deno.Command("curl", {
        args: ["-sSk", `https://127.0.0.1:${httpsPort}/healthz`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(JSON.parse(new TextDecoder().decode(curl.stdout)).status, "ok");

      await writeCertificate(dir, "second.example.org");
      let served;
      await until(async () => {
        served = await servedCertificate(httpsPort);
        return /second\.example\.org/.test(served?.subject ?? "");
      }, "the new certificate on HTTPS");
      assert.deepEqual(await servedCertificate(smtpPort, { starttls: true }), served);
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
