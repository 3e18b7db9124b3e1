/**
 * The OAuth endpoints: /auth/authorize, /auth/token, /auth/device, /auth/introspect, /auth/revoke and
 * /auth/register (and the sign-in pages they lead to) with valid parameters, then mutated ones:
 * dropped, repeated, odd values, huge values, wrong client credentials, and bodies of the wrong
 * content type or of broken encoding.
 */
import type { FuzzRequest } from "./client.ts";
import type { FuzzContext, Surface } from "./context.ts";
import { mutate } from "./mutate.ts";
import { oddString, oddValue, type Random } from "./random.ts";
import { basic } from "./server.ts";

const GRANT_TYPES = [
  "authorization_code",
  "refresh_token",
  "urn:ietf:params:oauth:grant-type:device_code",
  "client_credentials",
  "password",
  "implicit",
  "",
];
const SCOPES = [
  "openid",
  "openid offline_access",
  "urn:ietf:params:jmap:mail",
  "urn:postern:admin",
  "",
  "bogus",
];

/** One request to one OAuth endpoint. */
export const oauthSurface: Surface = async (rng, ctx) => {
  await ctx.client.send(request(rng, ctx));
};

function request(rng: Random, ctx: FuzzContext): FuzzRequest {
  const { oauth } = ctx.server;
  const clientId = rng.pick([oauth.confidentialId, oauth.publicId, oddString(rng, 300)]);
  const common = {
    client_id: clientId,
    redirect_uri: rng.pick(["http://127.0.0.1/callback", "http://evil.example/", "javascript:alert(1)", ""]),
    scope: rng.pick(SCOPES),
    state: oddString(rng, 100),
  };
  const endpoint = rng.pick([
    "authorize",
    "token",
    "token",
    "device",
    "introspect",
    "revoke",
    "register",
    "pages",
  ]);
  let path = `/auth/${endpoint}`;
  let params: Record<string, unknown>;
  let method = "POST";
  const headers: Record<string, string> = {};
  if (rng.chance(0.5)) {
    headers.authorization = rng.chance(0.7)
      ? basic(oauth.confidentialId, rng.chance(0.7) ? oauth.secret : "wrong secret")
      : rng.pick(["Basic !!!", "Basic " + btoa(":"), "Bearer x", `Basic ${"A".repeat(10_000)}`, "Basic"]);
  }
  switch (endpoint) {
    case "authorize":
      method = rng.pick(["GET", "POST"]);
      params = {
        ...common,
        response_type: rng.pick(["code", "token", "id_token", "code id_token", ""]),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        code_challenge_method: rng.pick(["S256", "plain", "bogus"]),
        nonce: "n",
        prompt: rng.pick(["none", "login", "consent", "select_account", ""]),
        response_mode: rng.pick(["query", "fragment", "form_post", "bogus"]),
        max_age: rng.pick(["0", "-1", "1e309", "60"]),
      };
      break;
    case "token":
      params = {
        ...common,
        grant_type: rng.pick(GRANT_TYPES),
        code: oddString(rng, 200),
        code_verifier: rng.pick(["dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "short", ""]),
        refresh_token: oddString(rng, 500),
        device_code: oddString(rng, 200),
        client_secret: rng.chance(0.5) ? oauth.secret : oddString(rng, 100),
        resource: rng.pick(["http://127.0.0.1/", "urn:x", ""]),
      };
      break;
    case "device":
      params = { client_id: clientId, scope: common.scope };
      break;
    case "introspect":
    case "revoke":
      params = {
        token: rng.pick([
          oddString(rng, 2000),
          ctx.server.user.bearer.slice(7),
          ctx.server.admin.bearer.slice(7),
        ]),
        token_type_hint: rng.pick(["access_token", "refresh_token", "bogus"]),
        client_id: clientId,
      };
      break;
    case "register":
      params = {
        client_name: oddString(rng, 300),
        redirect_uris: ["https://app.example.org/cb"],
        grant_types: ["authorization_code"],
        token_endpoint_auth_method: rng.pick(["none", "client_secret_basic", "private_key_jwt"]),
        scope: common.scope,
      };
      break;
    default:
      path = rng.pick([
        "/auth/login",
        "/auth/consent",
        "/auth/device/verify",
        "/auth/userinfo",
        "/auth/logout",
      ]);
      method = rng.pick(["GET", "POST"]);
      if (path === "/auth/login" || path === "/auth/consent" || path === "/auth/device/verify") {
        method = "POST";
      }
      params = {
        username: rng.pick(["fuzzuser@example.org", "admin", oddString(rng, 300)]),
        password: oddString(rng, 300),
        interaction: oddString(rng, 100),
        csrf: oddString(rng, 100),
        user_code: oddString(rng, 20),
        decision: rng.pick(["allow", "deny", ""]),
      };
  }
  if (rng.chance(0.7)) params = mutate(rng, params) as Record<string, unknown>;
  if (endpoint === "register") {
    const body = rng.chance(0.8) ? JSON.stringify(params) : oddString(rng, 2000);
    headers["content-type"] = rng.pick([
      "application/json",
      "application/x-www-form-urlencoded",
      "text/plain",
    ]);
    return { method, path, headers, body };
  }
  const form = encodeForm(rng, params);
  if (method === "GET") return { method, path: `${path}?${form}`, headers };
  headers["content-type"] = rng.pick([
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=bogus",
    "application/json",
    "multipart/form-data; boundary=x",
    "text/plain",
    "",
  ]);
  const body = headers["content-type"] === "application/json" ? JSON.stringify(params) : form;
  return { method, path, headers, body };
}

/** A form body: repeated names, broken percent-escapes and raw bytes now and then. */
function encodeForm(rng: Random, params: unknown): string {
  if (typeof params !== "object" || params === null) return String(oddValue(rng));
  const pairs: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    const text = typeof value === "string" ? value : JSON.stringify(value) ?? "";
    const encoded = rng.chance(0.95) ? percent(text) : text;
    pairs.push(`${percent(name)}=${encoded}`);
    if (rng.chance(0.05)) pairs.push(`${percent(name)}=${percent(oddString(rng, 50))}`);
  }
  if (rng.chance(0.05)) pairs.push(rng.pick(["%", "%zz=1", "=", "&&", "a=%E0%80"]));
  return pairs.join("&");
}

/** encodeURIComponent, with lone surrogates (which it refuses) made well-formed first. */
export function percent(text: string): string {
  return encodeURIComponent(text.toWellFormed());
}
