/**
 * ACME and HTTPS in `postern serve`: a certificate ordered from Debian's Pebble with real HTTP-01
 * validation (Pebble's VA resolves the name to 127.0.0.1 through pebble-challtestsrv and connects to
 * the HTTP listener) and served on HTTPS, the MX's STARTTLS and submission's (587) and implicit TLS (465); the challenge route serves pending
 * answers and nothing else; bad flags and unreadable files stop the start with one line naming the flag.
 */
import assert from "node:assert/strict";
import { resolveConfig } from "../src/config/mod.ts";
import { createApp, openData } from "../src/server.ts";
import { acmeCertificates, alpnChallengeKey } from "../src/tls/mod.ts";
import { ADMIN_PASSWORD, freePort, startServerProcess, until } from "./helpers.ts";
import { failedStart, jsonLines } from "./log_helpers.ts";
import { HAS_PEBBLE, servedCertificate, startPebble } from "./pebble_helpers.ts";

const ignore = !HAS_PEBBLE;
if (ignore) console.warn("Skipping the ACME serve tests: apt-get install -y pebble openssl");

Deno.test({
  name:
    "postern serve orders a certificate with HTTP-01 and serves it on HTTPS, the MX and submission (587, 465)",
  ignore,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-acme-serve-" });
    const [httpPort, httpsPort, smtpPort, submissionPort, submissionsPort] = [
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ];
    // Real validation: no PEBBLE_VA_ALWAYS_VALID.
    const pebble = await startPebble({ httpPort });
    const server = await startServerProcess(dataDir, {}, {
      logLevel: "info",
      args: [
        "--listen",
        `127.0.0.1:${httpPort}`,
        "--https-listen",
        `127.0.0.1:${httpsPort}`,
        "--smtp-listen",
        `127.0.0.1:${smtpPort}`,
        "--submission-listen",
        `127.0.0.1:${submissionPort}`,
        "--submissions-listen",
        `127.0.0.1:${submissionsPort}`,
        "--acme-directory",
        pebble.directoryUrl,
        "--acme-ca-file",
        pebble.caFile,
        "--acme-domains",
        "mail.example.org",
        "--acme-email",
        "admin@example.org",
      ],
    });
    try {
      assert.match(
        server.startup,
        new RegExp(`listening on http://127\\.0\\.0\\.1:${httpPort}, https://127\\.0\\.0\\.1:${httpsPort}`),
      );
      let served;
      await until(async () => {
        served = await servedCertificate(httpsPort);
        return /Pebble Intermediate/.test(served?.issuer ?? "");
      }, "the Pebble certificate on HTTPS").catch((error) => {
        throw new Error(`${error.message}; server log:\n${server.stderr()}`);
      });
      assert.match(served!.subject, /CN\s*=\s*mail\.example\.org/);
      assert.deepEqual(await servedCertificate(smtpPort, { starttls: true }), served);
      // Submission: STARTTLS on 587 and implicit TLS on 465, the first handshake after the order.
      assert.deepEqual(await servedCertificate(submissionPort, { starttls: true }), served);
      assert.deepEqual(await servedCertificate(submissionsPort), served);
      assert.equal(pebble.issued(), 1);
      // Info lines are written in batches (up to 25 ms after they are logged).
      await until(
        () => /TLS certificate for mail\.example\.org obtained/.test(server.stderr()),
        "the log line",
      );
      // The same application on HTTPS, the chain verified up to Pebble's root for the name.
      const rootFile = `${dataDir}/pebble-root.pem`;
      await Deno.writeTextFile(rootFile, await pebble.rootPem());
      const curl = await new Deno.Command("curl", {
        args: [
          "-sS",
          "--cacert",
          rootFile,
          "--resolve",
          `mail.example.org:${httpsPort}:127.0.0.1`,
          `https://mail.example.org:${httpsPort}/healthz`,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(curl.code, 0, new TextDecoder().decode(curl.stderr));
      assert.deepEqual(JSON.parse(new TextDecoder().decode(curl.stdout)).listeners, {
        http: `127.0.0.1:${httpPort}`,
        https: `127.0.0.1:${httpsPort}`,
        smtp: `127.0.0.1:${smtpPort}`,
        submission: `127.0.0.1:${submissionPort}`,
        submissions: `127.0.0.1:${submissionsPort}`,
      });
      const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      assert.match(metrics, /^postern_tls_certificate_expiry_seconds \d+$/m);
      assert.match(metrics, /^postern_tls_certificate_renewal_failures_total 0$/m);
    } finally {
      await server.stop();
      await pebble.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test("the HTTP-01 route serves a pending answer without credentials, and nothing else", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-acme-route-" });
  const config = resolveConfig({ data: dataDir, acmeDirectory: "https://127.0.0.1:9/dir" }, {
    POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD,
  });
  const { services } = await openData(config, { hashWorkers: 1 });
  const acme = acmeCertificates(services.store.certificates, {
    encryptionKey: services.encryptionKey,
    acme: { directoryUrl: "https://127.0.0.1:9/dir", email: undefined, domains: ["example.org"] },
    log: { info() {}, warn() {} },
  });
  const app = createApp(config, services, { accessLog: false, acme });
  const plain = createApp(config, services, { accessLog: false });
  const get = (path: string, init: RequestInit = {}, which = app) =>
    which.handler(
      new Request(`http://mail.example.org${path}`, init),
      { remoteAddr: { hostname: "192.0.2.7", port: 40000, transport: "tcp" } } as Deno.ServeHandlerInfo,
    );
  try {
    const token = "pending-token-0123456789_ABCDEFG";
    await services.store.certificates.putChallenge(token, `${token}.thumbprint`, Date.now() + 60_000);
    await services.store.certificates.putChallenge("expired-token-0123456789_ABCDEF", "old", Date.now() - 1);
    // A TLS-ALPN-01 answer is kept by name, for the HTTPS front only: never served here.
    await services.store.certificates.putChallenge(
      alpnChallengeKey("mail.example.org"),
      "alpn.thumbprint",
      Date.now() + 60_000,
    );
    assert.equal(await acme.alpnChallenge("MAIL.example.org"), "alpn.thumbprint");
    const ok = await get(`/.well-known/acme-challenge/${token}`);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), `${token}.thumbprint`);
    // Credentials play no part: a wrong one changes nothing.
    const withBad = await get(`/.well-known/acme-challenge/${token}`, {
      headers: { authorization: "Basic eDp5" },
    });
    assert.equal(withBad.status, 200);
    await withBad.body?.cancel();
    for (
      const path of [
        "/.well-known/acme-challenge/unknown-token-0123456789_ABCDEF",
        "/.well-known/acme-challenge/expired-token-0123456789_ABCDEF",
        "/.well-known/acme-challenge/",
        "/.well-known/acme-challenge",
        "/.well-known/acme-challenge/short",
        "/.well-known/acme-challenge/..%2F..%2Fpostern.db",
        `/.well-known/acme-challenge/${token}/more`,
        `/.well-known/acme-challenge/${alpnChallengeKey("mail.example.org")}`,
        "/.well-known/acme-challenge/tls-alpn-01%3Amail.example.org",
      ]
    ) {
      const response = await get(path);
      assert.equal(response.status, 404, path);
      assert.doesNotMatch(await response.text(), /thumbprint/, path);
    }
    const post = await get(`/.well-known/acme-challenge/${token}`, { method: "POST" });
    assert.equal(post.status, 405);
    await post.body?.cancel();
    // Without ACME the route does not exist.
    const none = await get(`/.well-known/acme-challenge/${token}`, {}, plain);
    assert.equal(none.status, 404);
    await none.body?.cancel();
  } finally {
    await app.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a bad --acme-directory, unreadable certificate files or a busy HTTPS port stop the start with one line naming the flag", async () => {
  const parent = await Deno.makeTempDir({ prefix: "postern-tls-bad-" });
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const busyPort = (busy.addr as Deno.NetAddr).port;
  try {
    const port = String(freePort());
    const https = ["--listen", `127.0.0.1:${port}`, "--https-listen", `127.0.0.1:${freePort()}`];
    // A flag that cannot be parsed is a usage error (2), a file that cannot be read a failed start (1).
    const cases: [string[], RegExp, number][] = [
      [
        ["--acme-directory", "ftp://ca.example/dir"],
        /^Invalid --acme-directory \(POSTERN_ACME_DIRECTORY\) "ftp:\/\/ca\.example\/dir": an https URL/,
        2,
      ],
      [
        [...https, "--tls-cert", `${parent}/missing.pem`, "--tls-key", `${parent}/missing.key`],
        /^Cannot read --tls-cert \(POSTERN_TLS_CERT\) ".*missing\.pem": no such file$/,
        1,
      ],
      [
        ["--acme-directory", "https://127.0.0.1:9/dir", "--acme-ca-file", `${parent}/none.pem`],
        /^Cannot read --acme-ca-file \(POSTERN_ACME_CA_FILE\) ".*none\.pem": no such file$/,
        1,
      ],
      [
        ["--acme-directory", "https://127.0.0.1:9/dir", "--https-listen", `127.0.0.1:${busyPort}`],
        new RegExp(
          `^Cannot listen on 127\\.0\\.0\\.1:${busyPort}: the address is already in use .*; ` +
            "change --https-listen \\(POSTERN_HTTPS_LISTEN\\)$",
        ),
        1,
      ],
    ];
    for (const [args, pattern, exitCode] of cases) {
      const { code, stderr } = await failedStart(["--data", `${parent}/data`, ...args]);
      assert.equal(code, exitCode, stderr);
      const lines = stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, stderr);
      const message = lines[0].startsWith("{")
        ? jsonLines(stderr)[0].message
        : lines[0].replace(/^postern: /, "");
      assert.match(String(message), pattern);
      // Nothing was created.
      await assert.rejects(Deno.stat(`${parent}/data`), Deno.errors.NotFound);
    }
  } finally {
    busy.close();
    await Deno.remove(parent, { recursive: true });
  }
});
