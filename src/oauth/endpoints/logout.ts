/**
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): with a valid `id_token_hint` the
 * session ends at once; otherwise the user confirms on a page, so a bare link cannot sign them out.
 * `post_logout_redirect_uri` must be registered for the client, else nothing is redirected.
 */
import type { RequestContext } from "../../http/mod.ts";
import { decodeId } from "../deps.ts";
import { OAuthError } from "../errors.ts";
import { logoutPage, messagePage } from "../views/mod.ts";
import {
  browserCsrf,
  browserId,
  cookie,
  errorPage,
  page,
  readCookie,
  redirectToClient,
  SESSION_COOKIE,
} from "./interaction.ts";
import { Params, readForm } from "./params.ts";
import type { SignInDeps } from "./sign_in.ts";

const PASSED_ON = ["id_token_hint", "post_logout_redirect_uri", "state", "client_id"];

/** GET or POST /auth/logout. */
export function logoutEndpoint(deps: SignInDeps) {
  const { provider } = deps;
  return async (ctx: RequestContext): Promise<Response> => {
    let params: Params;
    try {
      params = ctx.request.method === "POST"
        ? await readForm(ctx.request)
        : Params.from(ctx.url.searchParams);
      params.checkSingle([...PASSED_ON, "csrf", "decision"]);
    } catch (error) {
      if (error instanceof OAuthError) {
        return errorPage({ title: "Invalid request", message: error.description });
      }
      throw error;
    }
    const hintText = params.get("id_token_hint");
    const hint = hintText === undefined ? undefined : await provider.keys.verify(hintText, ctx.baseUrl);
    if (hintText !== undefined && !hint) {
      return errorPage({
        title: "Invalid request",
        message: "The id_token_hint was not issued by this server.",
      });
    }
    const hintAudience = Array.isArray(hint?.aud) ? hint.aud[0] : hint?.aud;
    const clientId = params.get("client_id") ?? hintAudience;
    if (hint && params.get("client_id") !== undefined && params.get("client_id") !== hintAudience) {
      return errorPage({ title: "Invalid request", message: "client_id does not match the id_token_hint." });
    }
    const client = clientId === undefined ? undefined : await provider.clients.byClientId(clientId);
    const target = params.get("post_logout_redirect_uri");
    if (target !== undefined && (!client || !client.postLogoutRedirectUris.includes(target))) {
      return errorPage({
        title: "Redirect not registered",
        message: "The address to return to after signing out is not registered for this application.",
        detail: `post_logout_redirect_uri: ${target}`,
      });
    }
    const browser = browserId(ctx);
    const sessionCookie = readCookie(ctx.request, SESSION_COOKIE);
    const session = await provider.browser.session(sessionCookie);
    const done = async () => {
      await provider.browser.endSession(sessionCookie);
      const clear = cookie(ctx, SESSION_COOKIE, "", 0);
      if (target !== undefined) return redirectToClient(target, { state: params.get("state") }, [clear]);
      return page(
        messagePage({ title: "Signed out", message: "You are signed out of Postern.", status: "success" }),
        { cookies: [clear] },
      );
    };
    const csrf = browserCsrf(browser.id, "logout");
    const decision = params.get("decision");
    if (ctx.request.method === "POST" && decision !== undefined) {
      if (browser.setCookie || params.get("csrf") !== csrf) {
        return errorPage({ title: "Page expired", message: "This page has expired; sign out again." });
      }
      if (decision === "logout") return await done();
      return page(
        messagePage({ title: "Still signed in", message: "You were not signed out.", status: "info" }),
      );
    }
    const hintSubject = typeof hint?.sub === "string" ? decodeId(hint.sub) : undefined;
    if (hint && (!session || session.accountId === hintSubject)) return await done();
    // The confirmation posts the request's parameters again in its body, where the POST reads them.
    const carried: Record<string, string> = {};
    for (const name of PASSED_ON) {
      const value = params.get(name);
      if (value !== undefined) carried[name] = value;
    }
    return page(logoutPage({ action: "/auth/logout", csrf, clientName: client?.name, carried }), {
      cookies: [browser.setCookie],
      redirectUri: target,
    });
  };
}
