/**
 * Bad input on the provider's browser-facing endpoints: authorize, login, consent, device verify
 * and logout answer missing, repeated, oversized and malformed parameters with an HTML error page
 * or, once the client and redirect URI are known good, an error redirect (RFC 6749 §4.1.2.1; OIDC
 * Core §3.1.2.6, §6); UserInfo with a Bearer error (RFC 6750 §3.1). Never a 5xx, nothing created.
 */
import type { TestClient } from "./oauth_helpers.ts";
import {
  type BadInput,
  bearer,
  type Expected,
  type Fixtures,
  HUGE,
  long,
  NOT_UTF8,
  page,
  q,
  redirect,
  runTable,
  status,
} from "./oauth_bad_input_helpers.ts";
import { authorizationRequest } from "./oauth_security_helpers.ts";

const LOGIN = "/auth/login";
const CONSENT = "/auth/consent";
const VERIFY = "/auth/device/verify";
const LOGOUT = "/auth/logout";
const USERINFO = "/auth/userinfo";

/** A GET of an authorization URL of the main client with some parameters changed. */
const authorize = (
  name: string,
  params: Record<string, string | undefined>,
  expect: Expected,
  extra = "",
  client: (f: Fixtures) => TestClient = (f) => f.client,
): BadInput => ({
  name,
  path: (f) => authorizationRequest(client(f), params).url + extra,
  expect,
});

/** A POST to /auth/authorize. */
const authorizePost = (name: string, body: string | Uint8Array, type?: string): BadInput => ({
  name,
  path: "/auth/authorize",
  body,
  type,
  expect: page(),
});

Deno.test("authorize answers bad input with an error page or an error redirect, never a 5xx", (ctx) =>
  runTable(ctx, [
    authorize("client_id twice", {}, page(), "&client_id=other"),
    authorize(
      "redirect_uri twice",
      {},
      page(),
      `&redirect_uri=${encodeURIComponent("http://127.0.0.1/callback")}`,
    ),
    authorize("a 5000-character client_id", { client_id: long() }, page()),
    authorize("a 5000-character redirect_uri", { redirect_uri: `http://127.0.0.1/${long()}` }, page()),
    authorize("scope twice", {}, redirect("invalid_request"), "&scope=email"),
    authorize("state twice", {}, redirect("invalid_request"), "&state=again"),
    authorize("code_challenge twice", {}, redirect("invalid_request"), `&code_challenge=${"c".repeat(43)}`),
    authorize("a 5000-character state", { state: long() }, redirect("invalid_request")),
    authorize("a 5000-character nonce", { nonce: long() }, redirect("invalid_request")),
    authorize("a 5000-character login_hint", { login_hint: long() }, redirect("invalid_request")),
    authorize("an unknown scope", { scope: "openid bogus" }, redirect("invalid_scope")),
    authorize("no scope", { scope: undefined }, redirect("invalid_scope")),
    authorize("a negative max_age", { max_age: "-1" }, redirect("invalid_request")),
    authorize("an unknown prompt", { prompt: "bogus" }, redirect("invalid_request")),
    authorize("prompt=none with login", { prompt: "none login" }, redirect("invalid_request")),
    authorize("response_mode=fragment", { response_mode: "fragment" }, redirect("invalid_request")),
    authorize(
      "a request object (OIDC Core §6.1)",
      { request: "e30.e30." },
      redirect("request_not_supported"),
    ),
    authorize(
      "a request_uri (OIDC Core §6.2)",
      { request_uri: "https://client.example/r" },
      redirect("request_uri_not_supported"),
    ),
    authorize(
      "a client without the code grant",
      {},
      redirect("unauthorized_client"),
      "",
      (f) => f.deviceOnly,
    ),
    authorizePost("POST: a JSON body", '{"client_id":"x"}', "application/json"),
    authorizePost("POST: a 100 KB body", HUGE),
    authorizePost("POST: a body that is not UTF-8", NOT_UTF8),
  ]));

const login = (name: string, body: (f: Fixtures) => string, expect: Expected = page()): BadInput => ({
  name,
  path: LOGIN,
  body,
  expect,
});

Deno.test("the sign-in form answers bad input with an HTML page, never a 5xx", (ctx) =>
  runTable(ctx, [
    login("an empty body", () => ""),
    login("no flow", () => q({ username: "admin@example.org", password: "x" })),
    login("an unknown flow", (f) => `${f.login.replace(/flow=[^&]*/, "flow=nope")}&username=a&password=b`),
    login("flow twice", (f) => `${f.login}&flow=other&username=a&password=b`),
    login("a 5000-character flow", () => `flow=${long()}&csrf=x&username=a&password=b`),
    login("csrf twice", (f) => `${f.login}&csrf=other&username=a&password=b`),
    login("username twice", (f) => `${f.login}&username=a&username=b&password=x`),
    login("a 5000-character username", (f) => `${f.login}&username=${long()}&password=x`),
    login("a 5000-character password", (f) => `${f.login}&username=admin&password=${long()}`),
    { name: "a JSON body", path: LOGIN, body: "{}", type: "application/json", expect: page() },
    { name: "a 100 KB body", path: LOGIN, body: HUGE, expect: page() },
    { name: "a body that is not UTF-8", path: LOGIN, body: NOT_UTF8, expect: page() },
    {
      name: "without the browser cookie",
      path: LOGIN,
      body: (f) => `${f.login}&username=a&password=b`,
      cookie: false,
      expect: page(),
    },
  ]));

const consent = (name: string, body: (f: Fixtures) => string): BadInput => ({
  name,
  path: CONSENT,
  body,
  expect: page(),
});

Deno.test("the consent form answers bad input with an HTML page, never a 5xx", (ctx) =>
  runTable(ctx, [
    consent("an empty body", () => ""),
    consent("an unknown decision", (f) => `${f.consent}&decision=maybe`),
    consent("decision twice", (f) => `${f.consent}&decision=approve&decision=deny`),
    consent("a 5000-character decision", (f) => `${f.consent}&decision=${long()}`),
    consent("flow twice", (f) => `${f.consent}&flow=other&decision=approve`),
    consent("a 5000-character csrf", (f) =>
      `${f.consent.replace(/csrf=[^&]*/, `csrf=${long()}`)}&decision=approve`),
    {
      ...consent("a JSON body", () =>
        "{}"),
      type: "application/json",
    },
    { ...consent("a body that is not UTF-8", () => ""), body: NOT_UTF8 },
    { ...consent("without the browser cookie", (f) => `${f.consent}&decision=approve`), cookie: false },
  ]));

const verify = (name: string, body: (f: Fixtures) => string): BadInput => ({
  name,
  path: VERIFY,
  body,
  expect: page(),
});

Deno.test("the device code pages answer bad input with an HTML page, never a 5xx", (ctx) =>
  runTable(ctx, [
    verify("an unknown code", (f) => `csrf=${f.deviceCsrf}&user_code=BCDF-GHJK`),
    verify("no code", (f) => `csrf=${f.deviceCsrf}`),
    verify("user_code twice", (f) => `csrf=${f.deviceCsrf}&user_code=BCDF-GHJK&user_code=LMNP-QRST`),
    verify("a 5000-character code", (f) => `csrf=${f.deviceCsrf}&user_code=${long()}`),
    verify("csrf twice", (f) => `csrf=${f.deviceCsrf}&csrf=${f.deviceCsrf}&user_code=BCDF-GHJK`),
    verify("a 5000-character csrf", () => `csrf=${long()}&user_code=BCDF-GHJK`),
    verify("a wrong csrf", () => "csrf=wrong&user_code=BCDF-GHJK"),
    {
      ...verify("without the browser cookie", (f) => `csrf=${f.deviceCsrf}&user_code=BCDF-GHJK`),
      cookie: false,
    },
    { ...verify("a JSON body", () => "{}"), type: "application/json" },
    verify("a 100 KB body", () => HUGE),
    { ...verify("a body that is not UTF-8", () => ""), body: NOT_UTF8 },
    {
      name: "GET: user_code twice",
      path: "/auth/device?user_code=BCDF-GHJK&user_code=LMNP-QRST",
      expect: page(),
    },
    { name: "GET: a 5000-character user_code", path: `/auth/device?user_code=${long()}`, expect: page() },
    {
      name: "GET: a 21-character user_code",
      path: `/auth/device?user_code=${"B".repeat(21)}`,
      expect: page(),
    },
  ]));

const logout = (name: string, query: string, expect: Expected = page()): BadInput => ({
  name,
  path: `${LOGOUT}?${query}`,
  expect,
});

Deno.test("logout answers bad input with an HTML page, never a 5xx or a redirect", (ctx) =>
  runTable(ctx, [
    logout("state twice", "state=a&state=b"),
    logout("id_token_hint twice", "id_token_hint=a&id_token_hint=b"),
    logout("an id_token_hint that is not a JWT", "id_token_hint=nope"),
    logout("a forged id_token_hint", `id_token_hint=${btoa('{"alg":"none"}')}.${btoa('{"sub":"b"}')}.`),
    logout("a 5000-character id_token_hint", `id_token_hint=${long()}`),
    logout("a 5000-character post_logout_redirect_uri", `post_logout_redirect_uri=http://x/${long()}`),
    logout("a 5000-character state", `state=${long()}`),
    logout("a 5000-character client_id", `client_id=${long()}`),
    logout("a post_logout_redirect_uri without a client", "post_logout_redirect_uri=http://127.0.0.1/x"),
    { name: "POST: a JSON body", path: LOGOUT, body: "{}", type: "application/json", expect: page() },
    { name: "POST: a body that is not UTF-8", path: LOGOUT, body: NOT_UTF8, expect: page() },
    { name: "POST: a decision without csrf", path: LOGOUT, body: "decision=logout", expect: page() },
  ]));

const userinfo = (
  name: string,
  authorization: string | undefined,
  expect: Expected = bearer(401, "invalid_token"),
): BadInput => ({
  name,
  path: USERINFO,
  authorization,
  expect,
});

Deno.test("userinfo answers bad credentials with the RFC 6750 §3.1 challenge, never a 5xx", (ctx) =>
  runTable(ctx, [
    userinfo("no credentials", undefined, bearer(401)),
    userinfo("an unknown token", "Bearer nope"),
    userinfo("a token of sealed-looking garbage", `Bearer ${"A".repeat(200)}.${"B".repeat(50)}`),
    userinfo("a 5000-character token", `Bearer ${long()}`),
    userinfo("Bearer without a token", "Bearer", bearer(400, "invalid_request")),
    userinfo("two tokens", "Bearer a, Bearer b", bearer(400, "invalid_request")),
    // A malformed Basic header is a 400 that offers no Bearer challenge (the client did not use Bearer).
    userinfo("a garbage Basic header", "Basic !!!", status(400)),
    {
      // §2.2 (form-encoded body parameter) is not supported: the request has no credentials.
      name: "a token in a form body",
      path: USERINFO,
      body: "access_token=nope",
      expect: bearer(401),
    },
  ]));
