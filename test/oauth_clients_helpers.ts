/**
 * Helpers for the end-to-end tests that drive a real server process with the certified client
 * libraries openid-client and oauth4webapi: a server per test, discovery, the code flow through the
 * provider's pages, the device page, and Bearer calls.
 */
import assert from "node:assert/strict";
import * as client from "openid-client";
import { basic, cli, type ServerProcess, startServerProcess } from "./helpers.ts";
import { ADMIN, readForm, type TestBrowser, type TestClient } from "./oauth_helpers.ts";

/** The user-code shape of RFC 8628 §6.1 as the provider makes it: "WDJB-MJHT". */
export const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;

/**
 * Runs `run` against a new server process on a new data directory, after setting the given
 * OidcProvider fields with the CLI (the running server sees the change at once); always stops the
 * server and removes the directory.
 */
export async function withServer(
  run: (server: ServerProcess) => Promise<void>,
  options: { provider?: Record<string, string> } = {},
): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-oauth-clients-" });
  let server: ServerProcess | undefined;
  try {
    server = await startServerProcess(dataDir);
    const fields = Object.entries(options.provider ?? {}).flatMap(([k, v]) => ["--field", `${k}=${v}`]);
    if (fields.length) {
      await updateProvider(server, fields);
    }
    await run(server);
  } finally {
    await server?.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
  }
}

/** Changes OidcProvider fields with the CLI (`["--field", "name=value", …]`) on the server's data. */
export async function updateProvider(server: ServerProcess, fields: string[]): Promise<void> {
  const result = await cli(["--data", server.dataDir, "update", "oidc-provider", "singleton", ...fields]);
  assert.equal(result.code, 0, result.stderr);
}

/** openid-client's configuration for a registered client, by discovery over plain http. */
export function discover(
  server: ServerProcess,
  registered: TestClient,
  auth?: client.ClientAuth,
): Promise<client.Configuration> {
  return client.discovery(
    new URL(server.url),
    registered.clientId,
    registered.secret,
    auth ?? (registered.secret === undefined ? client.None() : undefined),
    { execute: [client.allowInsecureRequests] },
  );
}

/**
 * The authorization code flow with PKCE S256, state and nonce, run by openid-client: the browser signs
 * in and approves, the library checks the response and redeems the code (validating the ID token).
 */
export async function signIn(
  config: client.Configuration,
  registered: TestClient,
  options: { scope: string; browser: TestBrowser },
) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: registered.redirectUri,
    scope: options.scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });
  const callback = await options.browser.authorize(url.href);
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
  });
  return { tokens, nonce };
}

/**
 * What a person does with a device's code: opens verification_uri_complete, submits the code form
 * (csrf and user_code), signs in as the admin, and approves or denies; returns the last page.
 */
export async function answerDeviceCode(
  browser: TestBrowser,
  verificationUriComplete: string,
  decision: "approve" | "deny",
): Promise<string> {
  const codePage = await pageText(await browser.request(verificationUriComplete));
  assert.deepEqual(Object.keys(readForm(codePage).fields).sort(), ["csrf", "user_code"]);
  const loginPage = await pageText(await browser.submit(codePage, {}));
  assert.ok(loginPage.includes('name="password"'), `not the sign-in page: ${loginPage.slice(0, 300)}`);
  const confirmPage = await pageText(
    await browser.submit(loginPage, { username: ADMIN.username, password: ADMIN.password }),
  );
  assert.ok(confirmPage.includes('name="decision"'), `not the confirm page: ${confirmPage.slice(0, 300)}`);
  return await pageText(await browser.submit(confirmPage, { decision }));
}

async function pageText(response: Response): Promise<string> {
  const html = await response.text();
  assert.equal(response.status, 200, `unexpected page (${response.status}): ${html.slice(0, 300)}`);
  return html;
}

/**
 * Checks an ID token's at_hash against its access token (OIDC Core §3.1.3.6), which neither library
 * does for the code flow: the left half of the hash that goes with the signature's algorithm
 * (SHA-512 for Ed25519), base64url. Returns the algorithm.
 */
export async function assertAtHash(idToken: string, accessToken: string): Promise<string> {
  const [header, payload] = idToken.split(".").slice(0, 2).map((part) => {
    const bytes = Uint8Array.from(atob(part.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  });
  const hash = header.alg === "EdDSA" ? "SHA-512" : `SHA-${header.alg.slice(2)}`;
  const digest = new Uint8Array(await crypto.subtle.digest(hash, new TextEncoder().encode(accessToken)));
  const half = digest.subarray(0, digest.length / 2);
  const expected = btoa(String.fromCharCode(...half)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
  assert.equal(payload.at_hash, expected, `at_hash of a ${header.alg} ID token`);
  return header.alg;
}

/** A response read whole: status, headers and body text. */
export interface ReadResponse {
  status: number;
  headers: Headers;
  body: string;
}

/** Calls a path of the server with `Authorization: Bearer <token>`. */
export async function withBearer(
  server: ServerProcess,
  path: string,
  options: { token: string; method?: string; json?: unknown },
): Promise<ReadResponse> {
  const headers: Record<string, string> = { authorization: `Bearer ${options.token}` };
  if (options.json !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${server.url}${path}`, {
    method: options.method ?? (options.json === undefined ? "GET" : "POST"),
    headers,
    body: options.json === undefined ? undefined : JSON.stringify(options.json),
  });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** The admin's account id (wire form), asked with the admin's password. */
export async function adminId(server: ServerProcess): Promise<string> {
  const response = await fetch(`${server.url}/api/account`, {
    headers: { authorization: basic(ADMIN.username, ADMIN.password) },
  });
  assert.equal(response.status, 200);
  return (await response.json()).id;
}

/** Whether a rejection is an OAuth error response with this code (as the libraries raise it). */
export function oauthError(code: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof client.ResponseBodyError, `not an OAuth error response: ${error}`);
    assert.equal(error.error, code, error.error_description);
    return true;
  };
}

/** Asserts the 401 of a token that is no longer (or never was) valid: a Bearer invalid_token challenge. */
export function assertInvalidToken(response: ReadResponse, what: string): void {
  assert.equal(response.status, 401, `${what}: ${response.body.slice(0, 200)}`);
  const challenge = response.headers.get("www-authenticate") ?? "";
  assert.match(challenge, /^Bearer\b.*\berror="invalid_token"/, what);
  assert.doesNotMatch(challenge, /Basic/i, what);
}
