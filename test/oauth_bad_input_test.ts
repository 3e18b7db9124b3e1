/**
 * Bad input on the provider's JSON endpoints: token, introspection, revocation, device
 * authorization and registration answer missing, repeated, oversized and malformed parameters with
 * the exact error of RFC 6749 §5.2 (RFC 7009, RFC 7662, RFC 8628, RFC 7591 §3.2.2), never a 5xx,
 * and create nothing. The browser-facing endpoints are in oauth_bad_input_pages_test.ts.
 */
import { basic } from "./helpers.ts";
import { type BadInput, HUGE, json, long, NOT_UTF8, q, runTable, status } from "./oauth_bad_input_helpers.ts";

const VERIFIER = "v".repeat(43);
const TOKEN = "/auth/token";
const INTROSPECT = "/auth/introspect";
const REVOKE = "/auth/revoke";
const DEVICE = "/auth/device";
const REGISTER = "/auth/register";
const INVALID_CLIENT = json(401, "invalid_client");
const INVALID_REQUEST = json(400, "invalid_request");

Deno.test("the token endpoint answers bad input with the RFC 6749 §5.2 error, never a 5xx", (ctx) =>
  runTable(ctx, [
    { name: "missing grant_type", path: TOKEN, body: (f) => f.auth, expect: INVALID_REQUEST },
    {
      name: "grant_type twice",
      path: TOKEN,
      body: (f) => `grant_type=refresh_token&grant_type=authorization_code&refresh_token=x&${f.auth}`,
      expect: INVALID_REQUEST,
    },
    {
      name: "client_id twice",
      path: TOKEN,
      body: (f) => `grant_type=refresh_token&refresh_token=x&client_id=${f.client.clientId}&${f.auth}`,
      expect: INVALID_REQUEST,
    },
    {
      name: "code twice",
      path: TOKEN,
      body: (f) => `grant_type=authorization_code&code=a&code=b&code_verifier=${VERIFIER}&${f.auth}`,
      expect: INVALID_REQUEST,
    },
    {
      name: "refresh_token twice",
      path: TOKEN,
      body: (f) => `grant_type=refresh_token&refresh_token=a&refresh_token=b&${f.auth}`,
      expect: INVALID_REQUEST,
    },
    {
      name: "device_code twice",
      path: TOKEN,
      body: (f) =>
        `${
          q({ grant_type: "urn:ietf:params:oauth:grant-type:device_code" })
        }&device_code=a&device_code=b&${f.auth}`,
      expect: INVALID_REQUEST,
    },
    {
      name: "client authentication in the header and the body at once",
      path: TOKEN,
      body: (f) => `grant_type=refresh_token&refresh_token=x&client_secret=${f.client.secret}`,
      authorization: (f) => basic(f.client.clientId, f.client.secret!),
      expect: INVALID_REQUEST,
    },
    {
      name: "unknown grant_type",
      path: TOKEN,
      body: (f) => `grant_type=password&username=a&password=b&${f.auth}`,
      expect: json(400, "unsupported_grant_type"),
    },
    {
      name: "a grant the client may not use",
      path: TOKEN,
      body: (f) => `grant_type=client_credentials&${f.auth}`,
      expect: json(400, "unauthorized_client"),
    },
    {
      name: "authorization_code without code",
      path: TOKEN,
      body: (f) => `grant_type=authorization_code&code_verifier=${VERIFIER}&${f.auth}`,
      expect: INVALID_REQUEST,
    },
    {
      name: "an unknown code",
      path: TOKEN,
      body: (f) => `grant_type=authorization_code&code=nope&code_verifier=${VERIFIER}&${f.auth}`,
      expect: json(400, "invalid_grant"),
    },
    {
      name: "a 5000-character code",
      path: TOKEN,
      body: (f) => `grant_type=authorization_code&code=${long()}&code_verifier=${VERIFIER}&${f.auth}`,
      expect: INVALID_REQUEST,
    },
    {
      name: "a code_verifier with characters RFC 7636 forbids",
      path: TOKEN,
      body: (f) => `grant_type=authorization_code&code=nope&code_verifier=${"!".repeat(43)}&${f.auth}`,
      expect: INVALID_REQUEST,
    },
    {
      name: "an unknown refresh token",
      path: TOKEN,
      body: (f) => `grant_type=refresh_token&refresh_token=nope.nope.nope&${f.auth}`,
      expect: json(400, "invalid_grant"),
    },
    {
      name: "a 5000-character refresh token",
      path: TOKEN,
      body: (f) => `grant_type=refresh_token&refresh_token=${long()}&${f.auth}`,
      expect: INVALID_REQUEST,
    },
    {
      name: "an unknown device code",
      path: TOKEN,
      body: (f) =>
        `${q({ grant_type: "urn:ietf:params:oauth:grant-type:device_code" })}&device_code=x&${f.auth}`,
      expect: json(400, "invalid_grant"),
    },
    {
      name: "a 5000-character client_secret",
      path: TOKEN,
      body: (f) =>
        `grant_type=refresh_token&refresh_token=x&client_id=${f.client.clientId}&client_secret=${long()}`,
      expect: INVALID_REQUEST,
    },
    { name: "a 100 KB body", path: TOKEN, body: HUGE, expect: INVALID_REQUEST },
    {
      name: "a JSON body",
      path: TOKEN,
      body: '{"grant_type":"refresh_token"}',
      type: "application/json",
      expect: INVALID_REQUEST,
    },
    {
      name: "no content type",
      path: TOKEN,
      body: "grant_type=refresh_token",
      type: null,
      expect: INVALID_REQUEST,
    },
    { name: "a body that is not UTF-8", path: TOKEN, body: NOT_UTF8, expect: INVALID_REQUEST },
    {
      name: "a Basic header that is not base64",
      path: TOKEN,
      body: "grant_type=refresh_token&refresh_token=x",
      authorization: "Basic !!!",
      expect: INVALID_CLIENT,
    },
    {
      name: "Basic credentials without a colon",
      path: TOKEN,
      body: "grant_type=refresh_token&refresh_token=x",
      authorization: `Basic ${btoa("no-colon")}`,
      expect: INVALID_CLIENT,
    },
    {
      name: "Basic credentials that are not UTF-8",
      path: TOKEN,
      body: "grant_type=refresh_token&refresh_token=x",
      authorization: `Basic ${btoa("\xff\xfe:\xff")}`,
      expect: INVALID_CLIENT,
    },
    {
      name: "another authentication scheme",
      path: TOKEN,
      body: "grant_type=refresh_token&refresh_token=x",
      authorization: "Bearer abc",
      expect: INVALID_CLIENT,
    },
    {
      name: "Basic with an unknown client",
      path: TOKEN,
      body: "grant_type=refresh_token&refresh_token=x",
      authorization: basic("nobody", "secret"),
      expect: INVALID_CLIENT,
    },
    {
      name: "no client authentication",
      path: TOKEN,
      body: "grant_type=refresh_token&refresh_token=x",
      expect: INVALID_CLIENT,
    },
    { name: "GET", path: TOKEN, method: "GET", expect: status(405) },
  ]));

Deno.test("introspection and revocation answer bad input with their RFC errors, never a 5xx", (ctx) =>
  runTable(ctx, [
    { name: "introspect: missing token", path: INTROSPECT, body: (f) => f.auth, expect: INVALID_REQUEST },
    {
      name: "introspect: token twice",
      path: INTROSPECT,
      body: (f) => `token=a&token=b&${f.auth}`,
      expect: INVALID_REQUEST,
    },
    {
      name: "introspect: an unknown token is inactive",
      path: INTROSPECT,
      body: (f) => `token=nope&${f.auth}`,
      expect: json(200, undefined, { active: false }),
    },
    {
      // RFC 7662 §2.3: a well-formed query for a token the server does not know is not an error.
      name: "introspect: a 5000-character token is inactive",
      path: INTROSPECT,
      body: (f) => `token=${long()}&${f.auth}`,
      expect: json(200, undefined, { active: false }),
    },
    {
      // A public client cannot authenticate, and RFC 7662 §2.1 requires it: no client authentication.
      name: "introspect: a public client",
      path: INTROSPECT,
      body: (f) => `token=nope&client_id=${f.publicClient.clientId}`,
      expect: INVALID_CLIENT,
    },
    {
      name: "introspect: no client authentication",
      path: INTROSPECT,
      body: "token=x",
      expect: INVALID_CLIENT,
    },
    {
      name: "introspect: a JSON body",
      path: INTROSPECT,
      body: '{"token":"x"}',
      type: "application/json",
      expect: INVALID_REQUEST,
    },
    {
      name: "introspect: a 100 KB body",
      path: INTROSPECT,
      body: HUGE,
      expect: INVALID_REQUEST,
    },
    { name: "revoke: missing token", path: REVOKE, body: (f) => f.auth, expect: INVALID_REQUEST },
    {
      name: "revoke: token twice",
      path: REVOKE,
      body: (f) => `token=a&token=b&${f.auth}`,
      expect: INVALID_REQUEST,
    },
    {
      name: "revoke: an unknown token_type_hint",
      path: REVOKE,
      body: (f) => `token=x&token_type_hint=id_token&${f.auth}`,
      expect: json(400, "unsupported_token_type"),
    },
    {
      name: "revoke: an unknown token is fine",
      path: REVOKE,
      body: (f) => `token=nope&${f.auth}`,
      expect: status(200),
    },
    {
      // RFC 7009 §2.2: an invalid token is not an error; a long one is just an invalid one.
      name: "revoke: a 5000-character token is fine",
      path: REVOKE,
      body: (f) => `token=${long()}&${f.auth}`,
      expect: status(200),
    },
    { name: "revoke: no client authentication", path: REVOKE, body: "token=x", expect: INVALID_CLIENT },
    {
      name: "revoke: a garbage Basic header",
      path: REVOKE,
      body: "token=x",
      authorization: "Basic %%%",
      expect: INVALID_CLIENT,
    },
    { name: "revoke: a body that is not UTF-8", path: REVOKE, body: NOT_UTF8, expect: INVALID_REQUEST },
  ]));

Deno.test("device authorization answers bad input with the RFC 8628 / 6749 error, never a 5xx", (ctx) =>
  runTable(ctx, [
    {
      name: "an unknown scope",
      path: DEVICE,
      body: (f) => `scope=openid%20bogus&${f.auth}`,
      expect: json(400, "invalid_scope"),
    },
    {
      name: "scope twice",
      path: DEVICE,
      body: (f) => `scope=openid&scope=email&${f.auth}`,
      expect: INVALID_REQUEST,
    },
    {
      name: "a 5000-character scope",
      path: DEVICE,
      body: (f) => `scope=${long()}&${f.auth}`,
      expect: INVALID_REQUEST,
    },
    {
      name: "a client without the device grant",
      path: DEVICE,
      body: (f) => `scope=openid&${f.codeOnlyAuth}`,
      expect: json(400, "unauthorized_client"),
    },
    { name: "no client", path: DEVICE, body: "scope=openid", expect: INVALID_CLIENT },
    { name: "an unknown client", path: DEVICE, body: "client_id=nobody", expect: INVALID_CLIENT },
    { name: "a JSON body", path: DEVICE, body: "{}", type: "application/json", expect: INVALID_REQUEST },
    { name: "a 100 KB body", path: DEVICE, body: HUGE, expect: INVALID_REQUEST },
    { name: "a body that is not UTF-8", path: DEVICE, body: NOT_UTF8, expect: INVALID_REQUEST },
    {
      name: "a garbage Basic header",
      path: DEVICE,
      body: "scope=openid",
      authorization: "Basic ####",
      expect: INVALID_CLIENT,
    },
  ]));

const METADATA = json(400, "invalid_client_metadata");
const REDIRECT_URI = json(400, "invalid_redirect_uri");
const registration = (name: string, body: unknown, expect = METADATA): BadInput => ({
  name,
  path: REGISTER,
  body: typeof body === "string" ? body : JSON.stringify(body),
  type: "application/json",
  expect,
});
const GOOD = { redirect_uris: ["http://127.0.0.1/registered"] };

Deno.test("dynamic registration answers bad input with the RFC 7591 §3.2.2 error, never a 5xx", (ctx) =>
  runTable(ctx, [
    registration("invalid JSON", "{redirect_uris:"),
    registration("a JSON array", [GOOD]),
    registration("a JSON string", '"x"'),
    registration("no redirect_uris", {}),
    registration("redirect_uris not an array", { redirect_uris: "http://127.0.0.1/cb" }, REDIRECT_URI),
    registration(
      "a redirect URI with a fragment",
      { redirect_uris: ["http://127.0.0.1/cb#x"] },
      REDIRECT_URI,
    ),
    registration("a javascript: redirect URI", { redirect_uris: ["javascript:alert(1)"] }, REDIRECT_URI),
    registration(
      "a 5000-character redirect URI",
      { redirect_uris: [`http://127.0.0.1/${long()}`] },
      REDIRECT_URI,
    ),
    registration(
      "a post-logout URI that is not a URL",
      { ...GOOD, post_logout_redirect_uris: ["x"] },
      REDIRECT_URI,
    ),
    registration("an unsupported auth method", { ...GOOD, token_endpoint_auth_method: "private_key_jwt" }),
    registration("the client_credentials grant", { ...GOOD, grant_types: ["client_credentials"] }),
    registration("the token response type", { ...GOOD, response_types: ["token"] }),
    registration("an unknown scope", { ...GOOD, scope: "openid bogus" }),
    registration("a 5000-character client_name", { ...GOOD, client_name: long() }),
    registration("metadata of the wrong type", { ...GOOD, client_name: 42, scope: 7 }),
    registration("a 100 KB body", { ...GOOD, x: long(100 * 1024) }),
    {
      ...registration("a form body", ""),
      body: "redirect_uris=x",
      type: "application/x-www-form-urlencoded",
    },
    { ...registration("a body that is not UTF-8", ""), body: NOT_UTF8 },
  ]));
