import assert from "node:assert/strict";
import { ConfigError, resolveConfig } from "../src/config/mod.ts";
import { ADMIN_PASSWORD, basic, startTestApp } from "./helpers.ts";

const WEBMAIL = "https://webmail.example.org";
const ADMIN = basic("admin@example.org", ADMIN_PASSWORD);

async function withCors(run: (t: Awaited<ReturnType<typeof startTestApp>>) => Promise<void>) {
  const t = await startTestApp({ env: { POSTERN_CORS_ORIGINS: `${WEBMAIL}, http://localhost:5173` } });
  try {
    await run(t);
  } finally {
    await t.close();
  }
}

Deno.test("a preflight from an allowed origin is answered without credentials, with a max age", () =>
  withCors(async (t) => {
    const response = await t.fetch("/jmap/session", {
      method: "OPTIONS",
      headers: {
        origin: WEBMAIL,
        "access-control-request-method": "GET",
        "access-control-request-headers": "authorization",
      },
    });
    assert.equal(response.status, 204);
    assert.equal(response.headers.get("access-control-allow-origin"), WEBMAIL);
    assert.match(response.headers.get("access-control-allow-headers")!, /authorization/);
    assert.match(response.headers.get("access-control-allow-methods")!, /POST/);
    assert.equal(response.headers.get("access-control-max-age"), "7200");
    assert.equal(response.headers.get("www-authenticate"), null);
  }));

Deno.test("a preflight from an origin not on the list is refused and carries no allowance", () =>
  withCors(async (t) => {
    const response = await t.fetch("/jmap/", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    assert.equal(response.status, 403);
    assert.equal(response.headers.get("access-control-allow-origin"), null);
  }));

Deno.test("responses to an allowed origin, a 401 included, can be read by the page's script", () =>
  withCors(async (t) => {
    const ok = await t.fetch("/jmap/session", { headers: { origin: WEBMAIL, authorization: ADMIN } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("access-control-allow-origin"), WEBMAIL);
    assert.match(ok.headers.get("access-control-expose-headers")!, /www-authenticate/);
    assert.match(ok.headers.get("vary")!, /Origin/);
    await ok.body?.cancel();
    const denied = await t.fetch("/jmap/session", {
      headers: { origin: WEBMAIL, authorization: "Bearer nope-nope-nope" },
    });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get("access-control-allow-origin"), WEBMAIL);
    assert.match(denied.headers.get("www-authenticate")!, /^Bearer /);
    await denied.body?.cancel();
    const other = await t.fetch("/jmap/session", {
      headers: { origin: "https://evil.example", authorization: ADMIN },
    });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    await other.body?.cancel();
  }));

Deno.test("without configured origins no CORS header is ever sent", async () => {
  const t = await startTestApp();
  try {
    const response = await t.fetch("/jmap/session", { headers: { origin: WEBMAIL, authorization: ADMIN } });
    assert.equal(response.headers.get("access-control-allow-origin"), null);
    await response.body?.cancel();
    const preflight = await t.fetch("/jmap/session", {
      method: "OPTIONS",
      headers: { origin: WEBMAIL, "access-control-request-method": "GET" },
    });
    assert.equal(preflight.status, 405);
    await preflight.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("a CORS origin with a path, or not a URL, is a configuration error naming it", () => {
  for (const bad of ["https://webmail.example.org/app", "webmail.example.org", "ftp://x.example"]) {
    assert.throws(
      () => resolveConfig({ corsOrigin: [bad] }, {}),
      (error: Error) => error instanceof ConfigError && error.message.includes(bad),
    );
  }
  assert.deepEqual(resolveConfig({}, { POSTERN_CORS_ORIGINS: "*" }).corsOrigins, ["*"]);
});
