/**
 * Helpers of the OAuth security and bad-input tests: an app with a registered client and a browser,
 * authorization URLs, token requests, and assertions on what a client or a person would see.
 */
import assert from "node:assert/strict";
import { startTestApp, type TestApp } from "./helpers.ts";
import {
  type ClientOptions,
  inProcessFetch,
  pkce,
  registerClient,
  TestBrowser,
  type TestClient,
} from "./oauth_helpers.ts";

/** The in-process app's base URL, which is also the issuer. */
export const ISSUER = "http://127.0.0.1:8080";

/** An app, one registered client and a browser that has not signed in yet. */
export interface Provider {
  t: TestApp;
  client: TestClient;
  browser: TestBrowser;
}

/** Runs `body` against a fresh app with one client (confidential unless `options` say otherwise). */
export async function withProvider(
  body: (p: Provider) => Promise<void>,
  options: ClientOptions = {},
): Promise<void> {
  const t = await startTestApp();
  try {
    const client = await registerClient(t.services, options);
    await body({ t, client, browser: newBrowser(t) });
  } finally {
    await t.close();
  }
}

/** A browser without cookies on the in-process app. */
export function newBrowser(t: TestApp): TestBrowser {
  return new TestBrowser(ISSUER, inProcessFetch(t));
}

/** An authorization request: its URL (a path of the app) and the PKCE verifier behind it. */
export interface AuthorizationRequest {
  url: string;
  verifier: string;
}

/**
 * An authorization URL of `client` with the usual parameters (code, S256 PKCE, openid scope, a
 * state); `params` add or replace some, and an undefined value removes one.
 */
export function authorizationRequest(
  client: TestClient,
  params: Record<string, string | undefined> = {},
): AuthorizationRequest {
  const { verifier, challenge } = pkce();
  const all: Record<string, string | undefined> = {
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    response_type: "code",
    scope: "openid",
    state: "state-1",
    code_challenge: challenge,
    code_challenge_method: "S256",
    ...params,
  };
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(all)) if (value !== undefined) query.set(key, value);
  return { url: `/auth/authorize?${query}`, verifier };
}

/** A POST of an x-www-form-urlencoded body (a string is sent as is). */
export function formPost(
  body: Record<string, string> | string | Uint8Array,
  headers: Record<string, string> = {},
): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: typeof body === "string" || body instanceof Uint8Array
      ? body as BodyInit
      : new URLSearchParams(body),
  };
}

/** The form fields a confidential client authenticates with (client_secret_post). */
export function clientAuth(client: TestClient): Record<string, string> {
  return client.secret === undefined
    ? { client_id: client.clientId }
    : { client_id: client.clientId, client_secret: client.secret };
}

/** A JSON answer of an OAuth endpoint. */
export interface JsonAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** POSTs a form to an endpoint and reads its JSON answer. */
export async function postForm(
  t: TestApp,
  path: string,
  body: Record<string, string> | string | Uint8Array,
  headers: Record<string, string> = {},
): Promise<JsonAnswer> {
  const response = await t.fetch(path, formPost(body, headers));
  const text = await response.text();
  assert.ok(response.status < 500, `${path} answered ${response.status}: ${text.slice(0, 300)}`);
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} };
}

/** Redeems an authorization code (client_secret_post). */
export function redeemCode(
  t: TestApp,
  client: TestClient,
  code: string,
  verifier: string | undefined,
): Promise<JsonAnswer> {
  const form: Record<string, string> = {
    grant_type: "authorization_code",
    code,
    redirect_uri: client.redirectUri,
    ...clientAuth(client),
  };
  if (verifier !== undefined) form.code_verifier = verifier;
  return postForm(t, "/auth/token", form);
}

/** Uses a refresh token (client_secret_post). */
export function refresh(t: TestApp, client: TestClient, refreshToken: string): Promise<JsonAnswer> {
  return postForm(t, "/auth/token", {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    ...clientAuth(client),
  });
}

/** What a finished code flow gave the client. */
export interface Tokens {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  scope: string;
}

/**
 * Runs a whole code flow in `p.browser` (signing in and approving when asked) and redeems the code;
 * `params` go into the authorization request.
 */
export async function obtainTokens(
  p: Provider,
  params: Record<string, string | undefined> = {},
): Promise<Tokens> {
  const request = authorizationRequest(p.client, params);
  const redirect = await p.browser.authorize(request.url);
  const code = redirect.searchParams.get("code");
  assert.ok(code, `no code in ${redirect.href}`);
  const answer = await redeemCode(p.t, p.client, code, request.verifier);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body as unknown as Tokens;
}

/** The status of GET `path` with a Bearer token (default the UserInfo endpoint). */
export async function bearerStatus(t: TestApp, token: string, path = "/auth/userinfo"): Promise<number> {
  const response = await t.fetch(path, { headers: { authorization: `Bearer ${token}` } });
  await response.body?.cancel();
  return response.status;
}

/** Asserts a 303 to `redirectUri` (origin and path) and returns the redirect's query parameters. */
export async function clientRedirect(response: Response, redirectUri: string): Promise<URLSearchParams> {
  const location = response.headers.get("location");
  const text = await response.text();
  assert.equal(response.status, 303, `expected a redirect, got ${response.status}: ${text.slice(0, 300)}`);
  assert.ok(location, "a 303 without Location");
  const url = new URL(location);
  const expected = new URL(redirectUri);
  assert.equal(url.origin + url.pathname, expected.origin + expected.pathname);
  return url.searchParams;
}

/** Asserts a redirect to the client with `error` (and the issuer as `iss`). */
export async function assertErrorRedirect(
  response: Response,
  redirectUri: string,
  error: string,
): Promise<URLSearchParams> {
  const params = await clientRedirect(response, redirectUri);
  assert.equal(params.get("error"), error, params.get("error_description") ?? "");
  assert.equal(params.get("iss"), ISSUER);
  assert.equal(params.get("code"), null);
  return params;
}

/** Asserts an HTML error page (never a redirect) and returns its text. */
export async function assertErrorPage(response: Response, status = 400): Promise<string> {
  const text = await response.text();
  assert.equal(response.status, status, text.slice(0, 300));
  assert.equal(response.headers.get("location"), null);
  assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
  return text;
}

/** Asserts an HTML page with a sign-in form. */
export async function assertLoginPage(response: Response): Promise<string> {
  const text = await response.text();
  assert.equal(response.status, 200, text.slice(0, 300));
  assert.match(text, /name="password"/);
  return text;
}
