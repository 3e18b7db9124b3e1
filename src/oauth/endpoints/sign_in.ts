/**
 * The interactive steps of a flow: sign in (with the failed-attempt limit of `authCodeMaxAttempts`
 * and the server's login throttling), consent, and the end of the flow (a code for the client, or a
 * decision on a device code).
 */
import type { AccountService } from "../../directory/mod.ts";
import type { RequestContext } from "../../http/mod.ts";
import { AuthError, type OAuthClient, type OAuthFlow, type Principal, SCOPES } from "../deps.ts";
import { OAuthError } from "../errors.ts";
import type { OAuthProvider } from "../provider.ts";
import { consentPage, deviceConfirmPage, loginPage, messagePage } from "../views/mod.ts";
import type { AuthorizeRequest } from "./authorize_request.ts";
import {
  BROWSER_COOKIE,
  cookie,
  errorPage,
  page,
  readCookie,
  redirectToClient,
  SESSION_COOKIE,
} from "./interaction.ts";
import { type Params, readForm } from "./params.ts";

/** What the sign-in steps use. */
export interface SignInDeps {
  provider: OAuthProvider;
  accounts: AccountService;
  /**
   * Verifies a login and password like every other authentication (throttling included); `device`
   * is the browser's cookie, which the throttle knows once it has signed in to the account.
   */
  login(
    username: string,
    password: string,
    clientAddress: string,
    origin?: { device?: string },
  ): Promise<Principal>;
  /** Seconds before this address may type another device user code (RFC 8628 §5.1), or undefined. */
  userCodeWait?(clientAddress: string): Promise<number | undefined>;
  /** Counts a typed device user code that matched no pending code. */
  userCodeFailed?(clientAddress: string): Promise<void>;
}

const LOGIN_ACTION = "/auth/login";
const CONSENT_ACTION = "/auth/consent";

/** Shows the next step of a flow: sign-in, consent or confirmation, or finishes it. */
export async function continueFlow(
  deps: SignInDeps,
  ctx: RequestContext,
  options: { flow: OAuthFlow; client: OAuthClient; cookies?: (string | undefined)[] },
): Promise<Response> {
  const { flow, client } = options;
  const cookies = options.cookies ?? [];
  const request = flow.params as unknown as AuthorizeRequest & { userCode?: string };
  if (flow.accountId === null) {
    return page(
      loginPage({
        action: LOGIN_ACTION,
        flow: flow.id,
        csrf: flow.csrf,
        clientName: client.name,
        login: request.loginHint,
      }),
      // The sign-in may end in the redirect to the client (CSP form-action covers redirects too).
      { cookies, redirectUri: flow.kind === "authorize" ? request.redirectUri : undefined },
    );
  }
  const account = await deps.accounts.require(flow.accountId);
  const scopes = request.scopes.map((name) => ({ name, description: SCOPES[name] ?? name }));
  if (flow.kind === "device") {
    return page(
      deviceConfirmPage({
        action: CONSENT_ACTION,
        flow: flow.id,
        csrf: flow.csrf,
        clientName: client.name,
        account: account.primaryAddress,
        userCode: request.userCode!,
        scopes,
        unverified: client.dynamic,
      }),
      { cookies },
    );
  }
  if (request.hintedAccountId !== undefined && request.hintedAccountId !== account.id) {
    // Someone else signed in than the account the client's id_token_hint names: no code for them.
    await deps.provider.browser.endFlow(flow);
    return redirectToClient(request.redirectUri, {
      error: "login_required",
      error_description: "The user who signed in is not the one the id_token_hint names",
      state: request.state,
      iss: ctx.baseUrl,
    }, cookies);
  }
  if (
    request.prompt.includes("consent") || await deps.provider.needsConsent(client, account.id, request.scopes)
  ) {
    return page(
      consentPage({
        action: CONSENT_ACTION,
        flow: flow.id,
        csrf: flow.csrf,
        clientName: client.name,
        account: account.primaryAddress,
        scopes,
        returnTo: destination(request.redirectUri),
        unverified: client.dynamic,
      }),
      { cookies, redirectUri: request.redirectUri },
    );
  }
  return await finishAuthorization(deps.provider, ctx, { flow, client, cookies });
}

/** Where a redirect URI leads, as a person can judge it: its origin, or its scheme (a native app's). */
function destination(redirectUri: string): string {
  const url = new URL(redirectUri);
  return url.origin !== "null" ? url.origin : url.protocol;
}

/** Issues the code and sends the browser back to the client. */
async function finishAuthorization(
  provider: OAuthProvider,
  ctx: RequestContext,
  options: { flow: OAuthFlow; client: OAuthClient; cookies: (string | undefined)[] },
): Promise<Response> {
  const { flow, client } = options;
  const request = flow.params as unknown as AuthorizeRequest;
  // Taken from the store first: a flow voided or finished by a concurrent request issues no code.
  if (!(await provider.browser.finishFlow(flow))) return flowGone();
  const code = await provider.codes.issueCode({
    client,
    accountId: flow.accountId!,
    redirectUri: request.redirectUri,
    scopes: request.scopes,
    codeChallenge: request.codeChallenge,
    nonce: request.nonce ?? null,
    authTime: flow.authTime ?? Date.now(),
  });
  return redirectToClient(
    request.redirectUri,
    { code, state: request.state, iss: ctx.baseUrl },
    options.cookies,
  );
}

/** The flow a form was posted for, or the page saying to start again. */
async function postedFlow(deps: SignInDeps, ctx: RequestContext, form: Params) {
  const flow = await deps.provider.browser.postedFlow(
    { flow: form.get("flow", 100), csrf: form.get("csrf", 100) },
    readCookie(ctx.request, BROWSER_COOKIE),
  );
  const client = flow && await deps.provider.clients.byId(flow.clientId);
  if (!flow || !client) return flowGone();
  return { flow, client };
}

/** The page of a flow that no longer exists (expired, finished, voided or from another browser). */
function flowGone(): Response {
  return errorPage({
    title: "Sign-in expired",
    message: "This sign-in has expired or was started in another browser. Go back to the application " +
      "and start again.",
  });
}

/** The page of a flow voided by too many failed sign-ins (authCodeMaxAttempts). */
function tooManyFailures(): Response {
  return errorPage({
    title: "Too many failed sign-ins",
    message: "This sign-in has been stopped. Go back to the application and start again.",
  });
}

/** POST /auth/login. */
export function loginEndpoint(deps: SignInDeps) {
  return async (ctx: RequestContext): Promise<Response> => {
    const form = await readFormOrPage(ctx);
    if (form instanceof Response) return form;
    const found = await postedFlow(deps, ctx, form);
    if (found instanceof Response) return found;
    const { flow, client } = found;
    const max = deps.provider.settings.authCodeMaxAttempts;
    const username = form.get("username", 320) ?? "";
    const password = form.get("password", 1024) ?? "";
    const again = (error: string, attemptsLeft?: number, status = 200) =>
      page(
        loginPage({
          action: LOGIN_ACTION,
          flow: flow.id,
          csrf: flow.csrf,
          clientName: client.name,
          login: username,
          error,
          attemptsLeft,
        }),
        { status, redirectUri: flow.kind === "authorize" ? (flow.params.redirectUri as string) : undefined },
      );
    let principal: Principal;
    try {
      if (!username || !password) return again("Enter your user name and password.");
      principal = await deps.login(username, password, ctx.clientAddress, {
        device: readCookie(ctx.request, BROWSER_COOKIE),
      });
      if (principal.method !== "password") {
        throw new AuthError("App passwords cannot sign in here", "invalid", "Basic");
      }
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      if (error.reason === "rateLimited") {
        return again(
          `Too many failed sign-ins. Wait ${error.retryAfterSeconds ?? 1} seconds and try again.`,
          undefined,
          429,
        );
      }
      // Counted in one statement: concurrent wrong passwords each count, and the one that reaches
      // the limit voids the flow for all.
      const failed = await deps.provider.browser.failedLogin(flow);
      if (failed === undefined || failed >= max) {
        await deps.provider.browser.endFlow(flow);
        return tooManyFailures();
      }
      return again("The user name or password is wrong.", max - failed);
    }
    const authTime = Date.now();
    // Checked again now that the password is verified: the flow may have been voided meanwhile.
    if (!(await deps.provider.browser.signedIn(flow, { accountId: principal.accountId, authTime }))) {
      return tooManyFailures();
    }
    const session = await deps.provider.browser.startSession(principal.accountId, authTime);
    return await continueFlow(deps, ctx, {
      flow: { ...flow, accountId: principal.accountId, authTime },
      client,
      cookies: [cookie(ctx, SESSION_COOKIE, session.cookie, session.maxAgeSeconds)],
    });
  };
}

/** POST /auth/consent: approve or deny an authorization or a device. */
export function consentEndpoint(deps: SignInDeps) {
  return async (ctx: RequestContext): Promise<Response> => {
    const form = await readFormOrPage(ctx);
    if (form instanceof Response) return form;
    const found = await postedFlow(deps, ctx, form);
    if (found instanceof Response) return found;
    const { flow, client } = found;
    if (flow.accountId === null) return await continueFlow(deps, ctx, { flow, client });
    const decision = form.get("decision", 16);
    if (decision !== "approve" && decision !== "deny") {
      return errorPage({ title: "Invalid request", message: "Choose Allow or Deny." });
    }
    const request = flow.params as unknown as AuthorizeRequest & { userCode?: string };
    if (flow.kind === "device") {
      if (!(await deps.provider.browser.finishFlow(flow))) return flowGone();
      const decided = await deps.provider.codes.decideDevice(request.userCode!, {
        approved: decision === "approve",
        accountId: flow.accountId,
        authTime: flow.authTime ?? Date.now(),
      });
      if (!decided) {
        return errorPage({ title: "Code expired", message: "This code has expired or was already used." });
      }
      return page(
        decision === "approve"
          ? messagePage({
            title: "Device connected",
            message: `${client.name} is now connected. You can close this window and return to your device.`,
            status: "success",
          })
          : messagePage({
            title: "Access denied",
            message: `${client.name} was not connected.`,
            status: "info",
          }),
      );
    }
    if (decision === "deny") {
      await deps.provider.browser.endFlow(flow);
      return redirectToClient(request.redirectUri, {
        error: "access_denied",
        error_description: "The user denied the request",
        state: request.state,
        iss: ctx.baseUrl,
      });
    }
    await deps.provider.rememberConsent(client, flow.accountId, request.scopes);
    return await finishAuthorization(deps.provider, ctx, { flow, client, cookies: [] });
  };
}

/** A form body, or an error page when the post is not one. */
export async function readFormOrPage(ctx: RequestContext): Promise<Params | Response> {
  try {
    return await readForm(ctx.request);
  } catch (error) {
    if (error instanceof OAuthError) {
      return errorPage({ title: "Invalid request", message: error.message });
    }
    throw error;
  }
}
