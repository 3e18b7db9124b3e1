/**
 * The authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2) as an ordered list of checks:
 * the client and its redirect URI first (a failure there is an error page, never a redirect), then
 * the request (a failure is a redirect with the error, `state` and `iss`), then the session, the
 * prompt and consent, which end in a code, a sign-in page or a consent page.
 */
import type { RequestContext } from "../../http/mod.ts";
import { decodeId, type OAuthClient, type OAuthFlow } from "../deps.ts";
import { invalidRequest, OAuthError } from "../errors.ts";
import {
  browserId,
  errorPage,
  matchRedirectUri,
  readCookie,
  redirectToClient,
  SESSION_COOKIE,
} from "./interaction.ts";
import { Params, readForm, scopeList } from "./params.ts";
import type { AuthorizeRequest } from "./authorize_request.ts";
import { allowedScopes } from "./scopes.ts";
import { continueFlow, type SignInDeps } from "./sign_in.ts";

const PROMPTS = ["none", "login", "consent", "select_account"];
const SINGLE = [
  "client_id",
  "redirect_uri",
  "response_type",
  "scope",
  "state",
  "nonce",
  "code_challenge",
  "code_challenge_method",
  "prompt",
  "max_age",
  "login_hint",
  "response_mode",
  "id_token_hint",
];

/** GET or POST /auth/authorize. */
export function authorizeEndpoint(deps: SignInDeps) {
  const { provider } = deps;
  return async (ctx: RequestContext): Promise<Response> => {
    let params: Params;
    try {
      params = ctx.request.method === "POST"
        ? await readForm(ctx.request)
        : Params.from(ctx.url.searchParams);
    } catch (error) {
      if (error instanceof OAuthError) {
        return errorPage({ title: "Invalid request", message: error.description });
      }
      throw error;
    }
    // 1. The client and where to send the answer: until both are known good, nothing is redirected.
    let clientId: string | undefined;
    let requestedRedirect: string | undefined;
    try {
      clientId = params.get("client_id", 128);
      requestedRedirect = params.get("redirect_uri", 2000);
    } catch (error) {
      if (error instanceof OAuthError) {
        return errorPage({ title: "Invalid request", message: error.description });
      }
      throw error;
    }
    if (!clientId) {
      return errorPage({
        title: "Invalid request",
        message: "The application did not say who it is (client_id).",
      });
    }
    const client = await provider.clients.byClientId(clientId);
    if (!client) {
      return errorPage({
        title: "Unknown application",
        message: "The application that sent you here is not registered with this server.",
        detail: `client_id: ${clientId}`,
      });
    }
    const redirectUri = matchRedirectUri(client, requestedRedirect);
    if (!redirectUri) {
      return errorPage({
        title: "Redirect URI not registered",
        message:
          `The address ${client.name} asked to return to is not registered for it, so you are not sent there.`,
        detail: requestedRedirect ? `redirect_uri: ${requestedRedirect}` : "redirect_uri is missing",
      });
    }
    // 2. The request itself; from here on errors go back to the client.
    const state = safeGet(params, "state");
    const fail = (error: OAuthError) =>
      redirectToClient(redirectUri, {
        error: error.code,
        error_description: error.description,
        state,
        iss: ctx.baseUrl,
      });
    let request: AuthorizeRequest;
    try {
      request = checkRequest(params, client, { redirectUri, trusted: await provider.trusted(client) });
      request.hintedAccountId = await hintedAccount(deps, params.get("id_token_hint"), ctx.baseUrl);
    } catch (error) {
      if (error instanceof OAuthError) return fail(error);
      throw error;
    }
    // 3. Who is signed in, and whether the prompt, max_age or id_token_hint asks to sign in again.
    const session = await provider.browser.session(readCookie(ctx.request, SESSION_COOKIE));
    const now = Date.now();
    const fresh = session && !request.prompt.includes("login") &&
      !request.prompt.includes("select_account") &&
      (request.maxAge === undefined || now - session.authTime <= request.maxAge * 1000) &&
      (request.hintedAccountId === undefined || request.hintedAccountId === session.accountId);
    if (request.prompt.includes("none")) {
      if (!fresh) return fail(new OAuthError("login_required", "The user is not signed in"));
      if (await provider.needsConsent(client, session.accountId, request.scopes)) {
        return fail(new OAuthError("consent_required", "The user has not approved these scopes"));
      }
    }
    const browser = browserId(ctx);
    const flow: OAuthFlow = await provider.browser.startFlow(
      { kind: "authorize", clientId: client.id, params: { ...request } },
      browser.id,
    );
    if (fresh) {
      await provider.browser.signedIn(flow, { accountId: session.accountId, authTime: session.authTime });
      flow.accountId = session.accountId;
      flow.authTime = session.authTime;
    }
    return await continueFlow(deps, ctx, { flow, client, cookies: [browser.setCookie] });
  };
}

/**
 * The account an `id_token_hint` names: an ID token this server signed (expired ones too, as OIDC
 * Core §3.1.2.1 allows), else invalid_request.
 */
async function hintedAccount(
  deps: SignInDeps,
  hint: string | undefined,
  issuer: string,
): Promise<number | undefined> {
  if (hint === undefined) return undefined;
  const claims = await deps.provider.keys.verify(hint, issuer);
  const accountId = typeof claims?.sub === "string" ? decodeId(claims.sub) : undefined;
  if (accountId === undefined) throw invalidRequest("The id_token_hint was not issued by this server");
  return accountId;
}

/** The value of a parameter, or undefined when it is repeated or oversized (its error comes later). */
function safeGet(params: Params, name: string): string | undefined {
  try {
    return params.get(name);
  } catch {
    return undefined;
  }
}

function checkRequest(
  params: Params,
  client: OAuthClient,
  { redirectUri, trusted }: { redirectUri: string; trusted: boolean },
): AuthorizeRequest {
  params.checkSingle(SINGLE);
  if (params.has("request")) {
    throw new OAuthError(
      "request_not_supported",
      "Request objects (the request parameter) are not supported",
    );
  }
  if (params.has("request_uri")) {
    throw new OAuthError(
      "request_uri_not_supported",
      "Request objects by reference (request_uri) are not supported",
    );
  }
  const responseType = params.get("response_type");
  if (responseType === undefined) throw invalidRequest('The parameter "response_type" is required');
  if (responseType !== "code") {
    throw new OAuthError(
      "unsupported_response_type",
      `Only response_type=code is supported, not "${responseType}"`,
    );
  }
  const responseMode = params.get("response_mode");
  if (responseMode !== undefined && responseMode !== "query") {
    throw invalidRequest(`Only response_mode=query is supported, not "${responseMode}"`);
  }
  if (!client.grantTypes.includes("authorization_code")) {
    throw new OAuthError("unauthorized_client", "This client may not use the authorization code grant");
  }
  const scopes = scopeList(params.get("scope"));
  if (scopes.length === 0) throw new OAuthError("invalid_scope", 'The parameter "scope" is required');
  allowedScopes(client, scopes, { trusted });
  const codeChallenge = params.get("code_challenge");
  const method = params.get("code_challenge_method");
  if (codeChallenge === undefined) {
    throw invalidRequest("code_challenge is required: every client must use PKCE with S256");
  }
  if (method !== "S256") {
    throw invalidRequest(
      method === undefined || method === "plain"
        ? "code_challenge_method must be S256 (plain is refused)"
        : `Unknown code_challenge_method "${method}"; use S256`,
    );
  }
  if (!/^[A-Za-z0-9_-]{43}$/.test(codeChallenge)) {
    throw invalidRequest("code_challenge must be the base64url SHA-256 of the verifier (43 characters)");
  }
  const prompt = scopeList(params.get("prompt"));
  const unknown = prompt.find((p) => !PROMPTS.includes(p));
  if (unknown) throw invalidRequest(`Unknown prompt value "${unknown}"`);
  if (prompt.includes("none") && prompt.length > 1) {
    throw invalidRequest("prompt=none cannot be combined with other prompt values");
  }
  const maxAgeText = params.get("max_age");
  let maxAge: number | undefined;
  if (maxAgeText !== undefined) {
    if (!/^\d{1,10}$/.test(maxAgeText)) throw invalidRequest("max_age must be a whole number of seconds");
    maxAge = Number(maxAgeText);
  }
  return {
    redirectUri,
    scopes,
    state: params.get("state"),
    nonce: params.get("nonce"),
    codeChallenge,
    prompt,
    maxAge,
    loginHint: params.get("login_hint", 320),
  };
}
