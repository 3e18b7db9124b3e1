/**
 * The device authorization grant (RFC 8628): the endpoint a device asks for codes (POST /auth/device)
 * and the page where the user types the code (GET /auth/device, POST /auth/device/verify), which
 * then signs the user in and asks them to confirm.
 */
import type { RequestContext } from "../../http/mod.ts";
import { OAuthError, unauthorizedClient } from "../errors.ts";
import { deviceCodePage } from "../views/mod.ts";
import { browserCsrf, browserId, page, readCookie, SESSION_COOKIE } from "./interaction.ts";
import { basicClient, Params, readForm, scopeList } from "./params.ts";
import { oauthEndpoint, oauthJson } from "./responses.ts";
import { allowedScopes } from "./scopes.ts";
import { continueFlow, readFormOrPage, type SignInDeps } from "./sign_in.ts";

const VERIFY_ACTION = "/auth/device/verify";
/** Longest code accepted as typed ("WDJB-MJHT" with room for spaces). */
const MAX_USER_CODE = 20;

/**
 * The user_code of the page's query or form: the code, or why it cannot be used (repeated or too
 * long: it is never cut short or picked from several, so what the user confirms is what was sent).
 */
function typedUserCode(params: Params): { userCode?: string; error?: string } {
  try {
    return { userCode: params.get("user_code", MAX_USER_CODE) };
  } catch (error) {
    if (!(error instanceof OAuthError)) throw error;
    return { error: `${error.description}. Type the code shown on your device.` };
  }
}

/** POST /auth/device: RFC 8628 §3.1–3.2. */
export function deviceAuthorizationEndpoint(deps: SignInDeps) {
  return (ctx: RequestContext) =>
    oauthEndpoint(async () => {
      const params = await readForm(ctx.request);
      params.checkSingle(["client_id", "client_secret", "scope"]);
      const client = await deps.provider.authenticateClient({
        basic: basicClient(ctx.request),
        clientId: params.get("client_id"),
        clientSecret: params.get("client_secret"),
      });
      if (!client.grantTypes.includes("urn:ietf:params:oauth:grant-type:device_code")) {
        throw unauthorizedClient(
          `The client "${client.clientId}" may not use the device authorization grant`,
        );
      }
      const requested = scopeList(params.get("scope"));
      const scopes = allowedScopes(client, requested.length ? requested : ["openid"], {
        trusted: await deps.provider.trusted(client),
      });
      return oauthJson(
        await deps.provider.codes.issueDeviceCode(client, scopes, `${ctx.baseUrl}/auth/device`),
      );
    });
}

/** GET /auth/device: the page where the user types the code shown on the device. */
export function devicePageEndpoint() {
  return (ctx: RequestContext): Promise<Response> => {
    const browser = browserId(ctx);
    const { userCode, error } = typedUserCode(Params.from(ctx.url.searchParams));
    return Promise.resolve(page(
      deviceCodePage({ action: VERIFY_ACTION, csrf: browserCsrf(browser.id, "device"), userCode, error }),
      { status: error === undefined ? 200 : 400, cookies: [browser.setCookie] },
    ));
  };
}

/** POST /auth/device/verify: a code was typed; sign in (unless signed in) and confirm. */
export function deviceVerifyEndpoint(deps: SignInDeps) {
  return async (ctx: RequestContext): Promise<Response> => {
    const form = await readFormOrPage(ctx);
    if (form instanceof Response) return form;
    const browser = browserId(ctx);
    const csrf = browserCsrf(browser.id, "device");
    const { userCode: typed = "", error } = typedUserCode(form);
    const retry = (error: string) =>
      page(deviceCodePage({ action: VERIFY_ACTION, csrf, userCode: typed, error }), {
        status: 400,
        cookies: [browser.setCookie],
      });
    if (browser.setCookie || form.get("csrf", 100) !== csrf) {
      return retry("This page has expired. Type the code again.");
    }
    if (error !== undefined) return retry(error);
    // Codes are short enough to guess: wrong ones are throttled per address like wrong passwords.
    const wait = await deps.userCodeWait?.(ctx.clientAddress);
    if (wait !== undefined) {
      return page(
        deviceCodePage({
          action: VERIFY_ACTION,
          csrf,
          userCode: typed,
          error: `Too many wrong codes. Wait ${wait} seconds and try again.`,
        }),
        { status: 429, cookies: [browser.setCookie] },
      );
    }
    const code = await deps.provider.codes.pendingDevice(typed);
    const client = code && await deps.provider.clients.byId(code.clientId);
    if (!code || !client) {
      await deps.userCodeFailed?.(ctx.clientAddress);
      return retry("That code is not valid or has expired. Check the code on your device.");
    }
    const flow = await deps.provider.browser.startFlow(
      {
        kind: "device",
        clientId: client.id,
        params: { userCode: code.userCode, scopes: code.scopes, prompt: [] },
      },
      browser.id,
    );
    const session = await deps.provider.browser.session(readCookie(ctx.request, SESSION_COOKIE));
    if (session) {
      await deps.provider.browser.signedIn(flow, {
        accountId: session.accountId,
        authTime: session.authTime,
      });
      flow.accountId = session.accountId;
      flow.authTime = session.authTime;
    }
    return await continueFlow(deps, ctx, { flow, client });
  };
}
