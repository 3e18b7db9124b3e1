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
const FLOOD_CAP = 8;
if (ignore) console.warn("Skipping the TLS-ALPN-01 serve test: apt-get install -y pebble openssl");

Deno.test({
  name:
    "postern serve orders a certificate with TLS-ALPN-01 answered on its HTTPS port and then serves it there",
  ignore,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-acme-alpn-" });
    const [httpPort, httpsPort, unusedPort] = [freePort(), freePort(), freePort()];
    const pebble = await startPebble({ httpPort: unusedPort, tlsPort: httpsPort });
    // A small cap and header timeout, for the flood of idle connections below.
    const server = await startServerProcess(dataDir, {
      POSTERN_MAX_CONNECTIONS_PER_ADDRESS: String(FLOOD_CAP),
      POSTERN_HEADER_TIMEOUT: "2",
    }, {
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
      // Info lines are written in batches (up to 25 ms after they are logged).
      await until(
        () => /TLS certificate for mail\.example\.org,example\.org obtained/.test(server.stderr()),
        "the certificate's log line",
      );
      // Both names were validated on this port, by the front's own handshake.
      for (const name of ["mail\\.example\\.org", "example\\.org"]) {
        assert.match(server.stderr(), new RegExp(`Answered a TLS-ALPN-01 validation for \\\\?"?${name}`));
      }
      // The application on the same port, verified up to Pebble's root for the name.
      const output = await curlHealth(httpsPort, await pebble.rootPem());
      assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
      assert.equal(
        JSON.parse(new TextDecoder().decode(output.stdout)).listeners.https,
        `127.0.0.1:${httpsPort}`,
      );
      await idleFloodIsCut(httpsPort, `http://127.0.0.1:${httpPort}`);
      assert.equal(
        (await curlHealth(httpsPort, await pebble.rootPem())).code,
        0,
        "HTTPS serves again after the flood",
      );
    } finally {
      await server.stop();
      await pebble.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

/**
 * A flood of connections that never finish (or never start) a ClientHello, which the TLS-ALPN-01
 * front reads before anything else: the per-address cap refuses those past it, and the responder's
 * read timeout (the header timeout) closes the held ones, so the flood holds nothing for long.
 */
async function idleFloodIsCut(httpsPort: number, httpUrl: string): Promise<void> {
  const held: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < FLOOD_CAP; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: httpsPort });
      // Half of them start a TLS record header and stop there.
      if (i % 2) await conn.write(new Uint8Array([0x16, 0x03, 0x01]));
      held.push(conn);
    }
    // Past the cap: the front refuses at once (it answers and closes).
    const extra = await Deno.connect({ hostname: "127.0.0.1", port: httpsPort });
    held.push(extra);
    assert.equal(await readUntilClosed(extra), true, "a connection past the per-address cap is closed");
    // The held ones are closed by the header timeout (2 s), each read ending in EOF or a reset.
    for (const conn of held.slice(0, FLOOD_CAP)) assert.equal(await readUntilClosed(conn), true);
    const metrics = await (await fetch(`${httpUrl}/metrics`)).text();
    const refused = /^postern_connections_refused_total\{cap="address",listener="https"\} (\d+)$/m.exec(
      metrics,
    );
    assert.ok(Number(refused?.[1]) >= 1, `refusals at the per-address cap: ${refused?.[0]}`);
  } finally {
    for (const conn of held) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
  }
}

/** Reads until the server closes the connection (true), or gives up after a generous guard (false). */
async function readUntilClosed(conn: Deno.TcpConn): Promise<boolean> {
  const buffer = new Uint8Array(4096);
  const guard = setTimeout(() => {
    try {
      conn.close();
    } catch { /* closed */ }
  }, 60_000);
  try {
    for (;;) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) return true;
    }
  } finally {
    clearTimeout(guard);
  }
}

/** curl of /healthz over HTTPS with Pebble's root. */
async function curlHealth(httpsPort: number, rootPem: string): Promise<Deno.CommandOutput> {
  const curl = new Deno.Command("curl", {
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
  await writer.write(new TextEncoder().encode(rootPem));
  await writer.close();
  return await curl.output();
}
