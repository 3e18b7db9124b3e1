/**
 * What the browser-facing endpoints share: cookies (the sign-in session and the browser binding),
 * HTML responses with the pages' security headers, redirects back to a client, and redirect URI
 * matching.
 */
import type { RequestContext } from "../../http/mod.ts";
import { codeHash, randomCode } from "../codes.ts";
import { OAuthError } from "../errors.ts";
import type { OAuthClient } from "../deps.ts";
import { messagePage, type MessagePageOptions, securityHeaders } from "../views/mod.ts";

/** The sign-in session cookie. */
export const SESSION_COOKIE = "postern_session";
/** A random id per browser that binds flows to the browser that started them (login CSRF). */
export const BROWSER_COOKIE = "postern_browser";

/** A cookie of the request. */
export function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.get("cookie");
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** A Set-Cookie value: HttpOnly, SameSite=Lax, under /auth, Secure when the site is https. */
export function cookie(ctx: RequestContext, name: string, value: string, maxAgeSeconds?: number): string {
  const secure = ctx.baseUrl.startsWith("https:") ? "; Secure" : "";
  const age = maxAgeSeconds === undefined ? "" : `; Max-Age=${maxAgeSeconds}`;
  return `${name}=${value}; Path=/auth; HttpOnly; SameSite=Lax${secure}${age}`;
}

/** The browser binding of the request, and the Set-Cookie that creates it when it is new. */
export function browserId(ctx: RequestContext): { id: string; setCookie?: string } {
  const existing = readCookie(ctx.request, BROWSER_COOKIE);
  if (existing && /^[A-Za-z0-9_-]{20,100}$/.test(existing)) return { id: existing };
  const id = randomCode();
  return { id, setCookie: cookie(ctx, BROWSER_COOKIE, id, 400 * 86_400) };
}

/** A CSRF token for a form that belongs to no flow (the device code page, logout): tied to the browser. */
export function browserCsrf(browser: string, purpose: string): string {
  return codeHash(`${purpose}:${browser}`);
}

/** An HTML page with the pages' security headers and any cookies to set. */
export function page(
  body: string,
  options: { status?: number; cookies?: (string | undefined)[]; redirectUri?: string } = {},
): Response {
  const headers = new Headers(securityHeaders({ redirectUri: options.redirectUri }));
  for (const c of options.cookies ?? []) if (c) headers.append("set-cookie", c);
  return new Response(body, { status: options.status ?? 200, headers });
}

/** An error page, for problems that must not be sent to a redirect URI (RFC 6749 §4.1.2.1). */
export function errorPage(options: Omit<MessagePageOptions, "status">, status = 400): Response {
  return page(messagePage({ ...options, status: "error" }), { status });
}

/**
 * A 303 redirect to the client (RFC 9700 §4.12: never 307 after a form post) with the given response
 * parameters added to the redirect URI's own query, and `iss` (RFC 9207).
 */
export function redirectToClient(
  redirectUri: string,
  params: Record<string, string | undefined>,
  cookies: (string | undefined)[] = [],
): Response {
  const url = new URL(redirectUri);
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.append(key, value);
  }
  const headers = new Headers({ location: url.href, "cache-control": "no-store" });
  for (const c of cookies) if (c) headers.append("set-cookie", c);
  return new Response(null, { status: 303, headers });
}

// RFC 8252 §7.3: for a loopback redirect only the port may differ from the registration.
const LOOPBACK_URI = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::\d{1,5})?([/?][^#]*)?$/;

/**
 * The registered redirect URI a request names: the same string exactly (RFC 9700 §4.1.3), except that
 * for a loopback address the port may differ (RFC 8252 §7.3). Without `requested`, the only registered
 * one, if there is exactly one.
 */
export function matchRedirectUri(client: OAuthClient, requested: string | undefined): string | undefined {
  if (requested === undefined) return client.redirectUris.length === 1 ? client.redirectUris[0] : undefined;
  if (client.redirectUris.includes(requested)) return requested;
  const asked = LOOPBACK_URI.exec(requested);
  // A port past 65535 is no URL at all: refused here, it never reaches a redirect or a CSP header.
  if (!asked || !URL.canParse(requested)) return undefined;
  for (const registered of client.redirectUris) {
    const r = LOOPBACK_URI.exec(registered);
    if (r && r[1] === asked[1] && (r[2] ?? "") === (asked[2] ?? "")) return requested;
  }
  return undefined;
}

/** Runs a browser-facing endpoint: an OAuth error that escapes (a repeated or oversized field) is a page. */
export function pageEndpoint(
  run: (ctx: RequestContext) => Promise<Response>,
): (ctx: RequestContext) => Promise<Response> {
  return async (ctx) => {
    try {
      return await run(ctx);
    } catch (error) {
      if (error instanceof OAuthError) {
        return errorPage({ title: "Invalid request", message: error.description });
      }
      throw error;
    }
  };
}
