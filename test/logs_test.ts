/** The real server's log: JSON lines only, one per request at info, failed logins fail2ban can read. */
import assert from "node:assert/strict";
import { ADMIN_PASSWORD, basic, startServerProcess } from "./helpers.ts";
import { fail2banHosts, jsonLines } from "./log_helpers.ts";
import { pkce, registerClientWithCli, TestBrowser } from "./oauth_helpers.ts";

const SECRET_QUERY = "access_token=query-secret-value";

Deno.test("with info logging every stderr line is JSON, each request is one line, and no secret is logged", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-logs-" });
  const server = await startServerProcess(dataDir, {}, { args: ["--log-level", "info"] });
  let adminId: unknown;
  try {
    const ok = await fetch(`${server.url}/api/account`, {
      headers: { authorization: basic("admin@example.org", ADMIN_PASSWORD), "x-request-id": "req-ok" },
    });
    assert.equal(ok.status, 200);
    adminId = (await ok.json()).id;
    const wrong = await fetch(`${server.url}/api/account?${SECRET_QUERY}`, {
      headers: { authorization: basic("nobody@example.org", "wrong password"), "x-request-id": "req-bad" },
    });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    const client = await fetch(`${server.url}/auth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials&client_id=no-such-client&client_secret=guessed-secret",
    });
    assert.equal(client.status, 401);
    await client.body?.cancel();
    // Bad input: an unknown path is logged like any request, as a 404.
    const missing = await fetch(`${server.url}/no/such/path`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const seen = () => jsonLines(server.stderr()).filter((l) => l.message.startsWith("HTTP ")).length;
    for (let i = 0; i < 200 && seen() < 4; i++) await new Promise((r) => setTimeout(r, 50));
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
  const stderr = server.stderr();
  const lines = jsonLines(stderr);
  for (const secret of [ADMIN_PASSWORD, "wrong password", "query-secret-value", "guessed-secret"]) {
    assert.ok(!stderr.includes(secret), `the log holds a secret: ${secret}`);
  }
  assert.ok(!stderr.includes(basic("admin@example.org", ADMIN_PASSWORD).slice(6)), "an Authorization header");
  // Values are rendered as they are, not quoted again inside the message.
  const listening = lines.find((l) => l.message.includes("listening on"));
  assert.match(listening?.message ?? "", /listening on http:\/\/127\.0\.0\.1:\d+$/);
  const access = lines.filter((l) => l.logger === "postern.http" && l.message.startsWith("HTTP "));
  assert.equal(access.length, 4, stderr);
  const ok = access.find((l) => l.properties?.requestId === "req-ok")!;
  assert.equal(ok.level, "INFO");
  assert.equal(ok.message, "HTTP GET /api/account 200");
  assert.deepEqual(Object.keys(ok.properties!).sort(), [
    "accountId",
    "client",
    "method",
    "ms",
    "path",
    "requestId",
    "status",
  ]);
  assert.equal(ok.properties!.client, "127.0.0.1");
  assert.equal(ok.properties!.accountId, adminId, "the account id as the API shows it");
  assert.equal(typeof ok.properties!.ms, "number");
  const bad = access.find((l) => l.properties?.requestId === "req-bad")!;
  assert.equal(bad.properties!.path, "/api/account", "the query string is left out");
  assert.equal(bad.properties!.accountId, null);
  const failures = lines.filter((l) => l.properties?.event === "login_failed");
  assert.deepEqual(failures.map((l) => [l.level, l.message]), [
    ["WARN", 'Failed login from 127.0.0.1 (password) for "nobody@example.org"'],
    ["WARN", 'Failed login from 127.0.0.1 (oauth-client) for "no-such-client"'],
  ]);
});

Deno.test("the shipped fail2ban filter finds the address of each failed login and nothing else", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-f2b-" });
  // A login name that imitates a failure line from another address must not get that address banned.
  const forged = 'x","level":"WARN","message":"Failed login from 198.51.100.9 (password) for "';
  const server = await startServerProcess(dataDir, {}, { args: ["--log-level", "info"] });
  try {
    const client = await registerClientWithCli(dataDir);
    for (const user of ["alice@example.org", forged]) {
      const response = await fetch(`${server.url}/jmap/session`, {
        headers: { authorization: basic(user, "nope") },
      });
      assert.equal(response.status, 401);
      await response.body?.cancel();
    }
    // A wrong password typed into the sign-in page.
    const browser = new TestBrowser(server.url);
    const { challenge } = pkce();
    const page = await browser.request(
      `/auth/authorize?${new URLSearchParams({
        response_type: "code",
        client_id: client.clientId,
        redirect_uri: client.redirectUri,
        scope: "openid",
        state: "s",
        code_challenge: challenge,
        code_challenge_method: "S256",
      })}`,
    );
    const signIn = await browser.submit(await page.text(), { username: "bob@example.org", password: "nope" });
    assert.match(await signIn.text(), /name="password"/, "the sign-in page again");
    // A wrong client secret at the token endpoint.
    const token = await fetch(`${server.url}/auth/token`, {
      method: "POST",
      headers: { authorization: basic(client.clientId, "not the secret") },
      body: new URLSearchParams({ grant_type: "client_credentials" }),
    });
    assert.equal(token.status, 401);
    await token.body?.cancel();
    const good = await fetch(`${server.url}/jmap/session`, {
      headers: { authorization: basic("admin@example.org", ADMIN_PASSWORD) },
    });
    assert.equal(good.status, 200);
    await good.body?.cancel();
    const failed = () => jsonLines(server.stderr()).filter((l) => l.properties?.event === "login_failed");
    for (let i = 0; i < 200 && failed().length < 4; i++) await new Promise((r) => setTimeout(r, 50));
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
  const lines = server.stderr().split("\n").filter(Boolean);
  assert.deepEqual(
    jsonLines(server.stderr()).filter((l) => l.properties?.event === "login_failed").map((l) =>
      l.properties?.kind
    ),
    ["password", "password", "password", "oauth-client"],
  );
  const { hosts, tool } = await fail2banHosts(lines);
  assert.deepEqual(
    hosts,
    ["127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1"],
    `${tool}: ${hosts.join(", ")}`,
  );
});
