/**
 * Absolute URLs (the OIDC issuer, discovery documents, session URLs) and the Host header: without
 * --public-url only loopback hosts and the configured names are believed; a proxy that is not trusted
 * is warned about once.
 */
import assert from "node:assert/strict";
import { startServerProcess, startTestApp, until } from "./helpers.ts";

const DISCOVERY = "/.well-known/openid-configuration";
const INFO = {
  remoteAddr: { hostname: "127.0.0.1", port: 40000, transport: "tcp" },
} as Deno.ServeHandlerInfo;

/** One request over a raw connection, with the Host header as given; the status line and body. */
async function rawGet(
  url: string,
  path: string,
  host: string,
  extra = "",
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    await conn.write(
      new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`),
    );
    const text = new TextDecoder().decode(await new Response(conn.readable).arrayBuffer());
    return { status: Number(text.split(" ")[1]), body: text.slice(text.indexOf("\r\n\r\n") + 4) };
  } catch (error) {
    conn.close();
    throw error;
  }
}

Deno.test("a forged Host gets no discovery document; loopback and the configured domain do", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-host-" });
  const server = await startServerProcess(dataDir);
  try {
    const forged = await rawGet(server.url, DISCOVERY, "evil.example");
    assert.equal(forged.status, 421);
    assert.doesNotMatch(forged.body, /"issuer"/);
    const port = new URL(server.url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, "example.org"]) {
      const { status, body } = await rawGet(server.url, DISCOVERY, host);
      assert.equal(status, 200, host);
      assert.equal(JSON.parse(body).issuer, `http://${host}`);
    }
    // A route that builds no absolute URL still answers any Host (health checks by address).
    assert.equal((await rawGet(server.url, "/healthz", "10.1.2.3:8080")).status, 200);
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("with a public URL the issuer is that URL whatever the Host says", async () => {
  const t = await startTestApp({ env: { POSTERN_PUBLIC_URL: "https://mail.example.org" } });
  try {
    const response = await t.app.handler(new Request(`http://evil.example${DISCOVERY}`), INFO);
    assert.equal(response.status, 200);
    assert.equal((await response.json()).issuer, "https://mail.example.org");
  } finally {
    await t.close();
  }
});

Deno.test("behind a trusted proxy a forged X-Forwarded-Host is refused like a forged Host", async () => {
  const t = await startTestApp({ env: { POSTERN_TRUSTED_PROXIES: "10.0.0.1" } });
  try {
    const proxied = {
      remoteAddr: { hostname: "10.0.0.1", port: 40000, transport: "tcp" },
    } as Deno.ServeHandlerInfo;
    const forged = await t.app.handler(
      new Request(`http://127.0.0.1:8080${DISCOVERY}`, { headers: { "x-forwarded-host": "evil.example" } }),
      proxied,
    );
    assert.equal(forged.status, 421);
    const session = await t.app.handler(new Request("http://evil.example/.well-known/jmap"), INFO);
    assert.equal(session.status, 421);
  } finally {
    await t.close();
  }
});

Deno.test("requests through a proxy that is not trusted are warned about once", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-proxy-" });
  const server = await startServerProcess(dataDir);
  try {
    for (let i = 0; i < 3; i++) {
      const { status } = await rawGet(
        server.url,
        "/healthz",
        "127.0.0.1",
        "X-Forwarded-For: 203.0.113.9\r\n",
      );
      assert.equal(status, 200);
    }
    await until(() => server.stderr().includes("not trusted"), "the warning about an untrusted proxy");
    const warnings = server.stderr().split("\n").filter((line) => line.includes("not trusted"));
    assert.equal(warnings.length, 1, server.stderr());
    assert.match(warnings[0], /--trusted-proxy 127\.0\.0\.1/);
    assert.match(warnings[0], /metrics is refused to what it forwards/);
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
