/**
 * TLS-ALPN-01 (RFC 8737) on the HTTPS front: a ClientHello offering only acme-tls/1 for a name with a
 * pending challenge gets the challenge certificate (critical acmeIdentifier, SHA-256 of the key
 * authorization) from tls/alpn/, as `openssl s_client` sees it; every other connection is Deno's TLS
 * as before; bad input gets an alert or a close and the listener keeps serving.
 */
import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { sha256 } from "@noble/hashes/sha2.js";
import { serveBehindFront } from "../src/http/mod.ts";
import { acmeAlpnResponder, selfSignedCertificate } from "../src/tls/mod.ts";
import { until } from "./helpers.ts";
import { hasCommand } from "./smtp_helpers.ts";

const HAS_OPENSSL = await hasCommand("openssl");
if (!HAS_OPENSSL) console.warn("Skipping the openssl TLS-ALPN-01 test: apt-get install -y openssl");

const KEY_AUTHORIZATION = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.thumbprint";

/** The HTTPS front with its usual certificate, answering TLS-ALPN-01 for mail.example.org. */
async function front() {
  const files = await selfSignedCertificate(["localhost"]);
  const asked: string[] = [];
  const server = serveBehindFront({
    hostname: "127.0.0.1",
    port: 0,
    log: getLogger(["postern", "test"]),
    maxConnections: 100,
    maxConnectionsPerAddress: 100,
    headerTimeoutMs: 30_000,
    idleTimeoutMs: 30_000,
    tls: { files, source: { current: () => Promise.resolve({ files, changed: false }) } },
    intercept: acmeAlpnResponder((name) => {
      asked.push(name);
      if (name === "broken.example.org") return Promise.reject(new Error("database is locked"));
      return Promise.resolve(name === "mail.example.org" ? KEY_AUTHORIZATION : undefined);
    }, { timeoutMs: 1_000 }),
  }, () => new Response("served by the application"));
  const client = Deno.createHttpClient({ caCerts: [files.cert] });
  return {
    port: server.addr.port,
    asked,
    /** A normal HTTPS request through the front. */
    async fetchText() {
      const response = await fetch(`https://localhost:${server.addr.port}/`, { client });
      return await response.text();
    },
    async close() {
      client.close();
      await server.shutdown();
    },
  };
}

/** Writes `bytes` on a new connection and returns everything the server sends until it closes. */
async function exchange(port: number, bytes: Uint8Array): Promise<Uint8Array> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    if (bytes.length) await conn.write(bytes);
    const chunks: number[] = [];
    const buffer = new Uint8Array(4096);
    while (true) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      chunks.push(...buffer.subarray(0, n));
    }
    return Uint8Array.from(chunks);
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

async function sClient(port: number, args: string[]): Promise<string> {
  const { stdout, stderr } = await new Deno.Command("openssl", {
    args: ["s_client", "-connect", `127.0.0.1:${port}`, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
}

async function certificateText(pem: string): Promise<string> {
  const x509 = new Deno.Command("openssl", {
    args: ["x509", "-noout", "-text", "-certopt", "ext_dump"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = x509.stdin.getWriter();
  await writer.write(new TextEncoder().encode(pem));
  await writer.close();
  return new TextDecoder().decode((await x509.output()).stdout);
}

Deno.test({
  name:
    "openssl s_client offering acme-tls/1 gets the challenge certificate; other clients get the usual one",
  ignore: !HAS_OPENSSL,
  async fn() {
    const server = await front();
    try {
      const out = await sClient(server.port, ["-alpn", "acme-tls/1", "-servername", "mail.example.org"]);
      assert.match(out, /ALPN protocol: acme-tls\/1/);
      assert.match(out, /New, TLSv1\.3, Cipher is TLS_AES_128_GCM_SHA256/);
      const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(out)![0];
      const text = await certificateText(pem);
      assert.match(text, /Subject: CN = mail\.example\.org/);
      assert.match(text, /DNS:mail\.example\.org/);
      // The extension is critical and holds OCTET STRING (04 20) of SHA-256(key authorization).
      const digest = Array.from(
        sha256(new TextEncoder().encode(KEY_AUTHORIZATION)),
        (b) => b.toString(16).padStart(2, "0"),
      ).join("");
      assert.match(text, /1\.3\.6\.1\.5\.5\.7\.1\.31: critical/);
      const dump = text.split("1.3.6.1.5.5.7.1.31: critical")[1].split("\n").slice(1, 4).join(" ");
      const dumped = [...dump.matchAll(/ - ((?:[0-9a-f]{2}[ -]){1,16})/g)].map((m) => m[1]).join("")
        .replace(/[ -]/g, "");
      assert.equal(dumped, `0420${digest}`);
      // A secp256r1 share works too; what cannot be answered is refused with TLS's alert.
      const acme = ["-alpn", "acme-tls/1", "-servername", "mail.example.org"];
      const p256 = await sClient(server.port, ["-groups", "P-256", ...acme]);
      assert.match(p256, /Server Temp Key: ECDH, prime256v1/);
      assert.match(p256, /ALPN protocol: acme-tls\/1/);
      assert.match(await sClient(server.port, ["-groups", "X448", ...acme]), /alert handshake failure/);
      assert.match(await sClient(server.port, ["-tls1_2", ...acme]), /alert protocol version/);
      // With another protocol offered too, or none: Deno's TLS and the usual certificate.
      for (const args of [["-alpn", "acme-tls/1,http/1.1"], []]) {
        const usual = await sClient(server.port, [...args, "-servername", "mail.example.org"]);
        assert.match(usual, /subject=CN = localhost/, args.join(" "));
      }
      assert.equal(await server.fetchText(), "served by the application");
    } finally {
      await server.close();
    }
  },
});

/** A TLS record header, then `body`. */
function tlsRecord(type: number, body: Uint8Array, length = body.length): Uint8Array {
  return Uint8Array.from([type, 3, 1, length >> 8, length & 0xff, ...body]);
}

/** A ClientHello offering only acme-tls/1 for `name`, x25519 share of `share`. */
function acmeClientHello(name: string, share = new Uint8Array(32).fill(9)): Uint8Array {
  const u16 = (n: number) => [n >> 8, n & 0xff];
  const nameBytes = new TextEncoder().encode(name);
  const alpn = new TextEncoder().encode("acme-tls/1");
  const ext = (type: number, data: number[]) => [...u16(type), ...u16(data.length), ...data];
  const extensions = [
    ...ext(0, [...u16(nameBytes.length + 3), 0, ...u16(nameBytes.length), ...nameBytes]),
    ...ext(16, [...u16(alpn.length + 1), alpn.length, ...alpn]),
    ...ext(43, [2, 3, 4]),
    ...ext(13, [...u16(2), 4, 3]),
    ...ext(51, [...u16(share.length + 4), 0, 0x1d, ...u16(share.length), ...share]),
  ];
  const body = [
    3,
    3,
    ...new Uint8Array(32),
    0,
    ...u16(2),
    0x13,
    0x01,
    1,
    0,
    ...u16(extensions.length),
    ...extensions,
  ];
  return Uint8Array.from([1, 0, body.length >> 8, body.length & 0xff, ...body]);
}

const ALERT = (code: number) => [21, 3, 3, 0, 2, 2, code];

Deno.test("bad ClientHellos get an alert or a close, never a crash, and the listener keeps serving", async () => {
  const server = await front();
  try {
    // Garbage after a handshake record header: unexpected_message (10), or decode_error (50) when short.
    const garbage = tlsRecord(22, new TextEncoder().encode("not a client hello at all"));
    assert.deepEqual([...await exchange(server.port, garbage)], ALERT(10));
    assert.deepEqual([...await exchange(server.port, tlsRecord(22, Uint8Array.from([1, 0])))], ALERT(50));
    // A ClientHello whose inner lengths overrun: decode_error.
    const hello = acmeClientHello("mail.example.org");
    const overrun = hello.slice();
    overrun[4 + 2 + 32 + 1 + 1] = 0xff; // cipher suites' length
    assert.deepEqual([...await exchange(server.port, tlsRecord(22, overrun))], ALERT(50));
    // acme-tls/1 for a name with no pending challenge: handshake_failure (40), and the name was asked.
    assert.deepEqual(
      [...await exchange(server.port, tlsRecord(22, acmeClientHello("other.example.org")))],
      ALERT(40),
    );
    assert.ok(server.asked.includes("other.example.org"));
    // The lookup failing (a database error) is a handshake_failure too, not a crash.
    assert.deepEqual(
      [...await exchange(server.port, tlsRecord(22, acmeClientHello("broken.example.org")))],
      ALERT(40),
    );
    // A key share of the wrong size for a pending name: illegal_parameter (47).
    const badShare = acmeClientHello("mail.example.org", new Uint8Array(5));
    assert.deepEqual([...await exchange(server.port, tlsRecord(22, badShare))], ALERT(47));
    // A record announced longer than TLS allows goes on to Deno's TLS, which refuses it.
    const huge = await exchange(server.port, tlsRecord(22, new Uint8Array(100), 0x4800));
    assert.ok(huge.length === 0 || huge[0] === 21, `an alert or a close, got ${huge}`);
    // Truncated: the record header promises more than comes, then nothing: closed at the deadline.
    const truncated = await exchange(server.port, tlsRecord(22, hello.subarray(0, 40), hello.length));
    assert.equal(truncated.length, 0);
    // Plain HTTP on the HTTPS port still reaches Deno's TLS (which answers it as before).
    await exchange(server.port, new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    await until(
      async () => await server.fetchText() === "served by the application",
      "HTTPS after bad input",
    );
  } finally {
    await server.close();
  }
});
