/**
 * `encryptionKey` as a SecretKey read from an environment variable or a file, through real server
 * processes: the same key keeps tokens across restarts, another key revokes them all, a key that cannot
 * be read stops the start naming the variable or file, and one that becomes unreadable while the server
 * runs gets an explicit server error (and a log line naming the file), never a crash or a 401.
 */
import assert from "node:assert/strict";
import * as client from "openid-client";
import { basic, type ServerProcess, startServerProcess } from "./helpers.ts";
import { ADMIN, registerClientWithCli, TestBrowser, type TestClient } from "./oauth_helpers.ts";
import {
  assertInvalidToken,
  discover,
  oauthError,
  signIn,
  updateProvider,
  withBearer,
} from "./oauth_clients_helpers.ts";

const VARIABLE = "POSTERN_TEST_TOKEN_KEY";
const KEY_A = "a-token-key-for-tests-".repeat(4);
const KEY_B = "another-token-key-for-tests-".repeat(4);

/** Sets OidcProvider.encryptionKey with the CLI on the server's data. */
function setKey(server: ServerProcess, key: Record<string, string>): Promise<void> {
  return updateProvider(server, ["--field", `encryptionKey=${JSON.stringify(key)}`]);
}

/** Signs in with a code flow through openid-client; returns its configuration and the tokens. */
async function signedIn(server: ServerProcess, registered: TestClient) {
  const config = await discover(server, registered);
  const browser = new TestBrowser(server.url);
  const { tokens } = await signIn(config, registered, { scope: "openid offline_access", browser });
  assert.equal((await withBearer(server, "/auth/userinfo", { token: tokens.access_token })).status, 200);
  return { config, tokens };
}

/** Asserts that tokens issued under another key are refused: 401 for the access token, invalid_grant. */
async function assertRevoked(
  server: ServerProcess,
  registered: TestClient,
  tokens: client.TokenEndpointResponse,
) {
  assertInvalidToken(
    await withBearer(server, "/auth/userinfo", { token: tokens.access_token }),
    "access token",
  );
  const config = await discover(server, registered);
  await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), oauthError("invalid_grant"));
}

/** Runs `body` with a new data directory and a directory for key files; stops what it started. */
async function withData(
  body: (dirs: { data: string; keys: string; servers: ServerProcess[] }) => Promise<void>,
) {
  const data = await Deno.makeTempDir({ prefix: "postern-key-" });
  const keys = await Deno.makeTempDir({ prefix: "postern-key-files-" });
  const servers: ServerProcess[] = [];
  try {
    await body({ data, keys, servers });
  } finally {
    for (const server of servers) if (server.exitCode === undefined) await server.stop();
    await Deno.remove(data, { recursive: true }).catch(() => undefined);
    await Deno.remove(keys, { recursive: true }).catch(() => undefined);
  }
}

Deno.test("an encryptionKey from an environment variable keeps tokens across restarts, a new value revokes them all, and a missing variable stops the start naming it", () =>
  withData(async ({ data, servers }) => {
    const start = async (value: string) => {
      const server = await startServerProcess(data, { [VARIABLE]: value });
      servers.push(server);
      return server;
    };
    let server = await start(KEY_A);
    await setKey(server, { "@type": "EnvironmentVariable", variableName: VARIABLE });
    const registered = await registerClientWithCli(data);
    const { tokens } = await signedIn(server, registered);
    await server.stop();

    server = await start(KEY_A);
    assert.equal((await withBearer(server, "/auth/userinfo", { token: tokens.access_token })).status, 200);
    const config = await discover(server, registered);
    assert.ok((await client.refreshTokenGrant(config, tokens.refresh_token!)).access_token);
    await server.stop();

    server = await start(KEY_B);
    await assertRevoked(server, registered, tokens);
    await signedIn(server, registered);
    await server.stop();

    await assert.rejects(
      startServerProcess(data),
      (error: Error) => error.message.includes(`environment variable ${VARIABLE} is not set`),
    );
  }));

Deno.test("an encryptionKey from a file: an unreadable file is a server_error while running and stops the start, new contents revoke every token", () =>
  withData(async ({ data, keys, servers }) => {
    const keyFile = `${keys}/token.key`;
    await Deno.writeTextFile(keyFile, `${KEY_A}\n`);
    const server = await startServerProcess(data);
    servers.push(server);
    await setKey(server, { "@type": "File", filePath: keyFile });
    const registered = await registerClientWithCli(data);
    const { tokens } = await signedIn(server, registered);

    // While running, the setting comes to name a file that does not exist.
    const missing = `${keys}/missing.key`;
    await setKey(server, { "@type": "File", filePath: missing });
    const refreshed = await fetch(`${server.url}/auth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: tokens.refresh_token!,
        client_id: registered.clientId,
        client_secret: registered.secret!,
      }),
    });
    assert.equal(refreshed.status, 500);
    assert.equal(refreshed.headers.get("cache-control"), "no-store");
    const error = await refreshed.json();
    assert.equal(error.error, "server_error");
    assert.match(error.error_description, /token encryption key .* is unavailable/);
    assert.ok(!error.error_description.includes(missing), "the path is for the log, not for clients");
    for (const path of ["/auth/userinfo", "/jmap/session", "/api/account"]) {
      const bearer = await withBearer(server, path, { token: tokens.access_token });
      assert.equal(bearer.status, 500, `${path}: ${bearer.body.slice(0, 200)}`);
      assert.match(bearer.headers.get("content-type") ?? "", /^application\/problem\+json/);
      assert.match(JSON.parse(bearer.body).detail, /token encryption key .* is unavailable/);
      assert.equal(bearer.headers.get("www-authenticate"), null, "not a credentials problem");
    }
    const withPassword = await fetch(`${server.url}/api/account`, {
      headers: { authorization: basic(ADMIN.username, ADMIN.password) },
    });
    assert.equal(withPassword.status, 200, "passwords do not need the token key");
    await withPassword.body?.cancel();
    assert.match(server.stderr(), new RegExp(`Tokens cannot be issued or checked: .*${missing}`));

    // Back to the file, which now holds another key: what the first key sealed is revoked.
    await Deno.writeTextFile(keyFile, KEY_B);
    await setKey(server, { "@type": "File", filePath: keyFile });
    await assertRevoked(server, registered, tokens);
    await signedIn(server, registered);
    await server.stop();

    await Deno.remove(keyFile);
    await assert.rejects(
      startServerProcess(data),
      (error: Error) => error.message.includes(`cannot read ${keyFile}`),
    );
  }));
