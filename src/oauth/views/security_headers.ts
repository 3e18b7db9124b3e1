import { STYLE_HASH } from "./style.ts";

/** Options of `securityHeaders`. */
export interface SecurityHeadersOptions {
  /**
   * The redirect URI a form of the page may end in (the client's, after sign-in, consent or logout).
   * Chrome and Safari check `form-action` against the redirect that answers a form post as well as
   * against the form's action (w3c/webappsec-csp#8), so without it `'self'` blocks the final 302.
   */
  redirectUri?: string;
}

/** The headers of every OAuth page: HTML, never cached, never framed, and a CSP admitting only its style. */
export function securityHeaders(options: SecurityHeadersOptions = {}): Record<string, string> {
  const formAction = ["'self'"];
  if (options.redirectUri !== undefined) formAction.push(formActionSource(options.redirectUri));
  return {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "pragma": "no-cache",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "content-security-policy": [
      "default-src 'none'",
      `style-src ${STYLE_HASH}`,
      `form-action ${formAction.join(" ")}`,
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join("; "),
  };
}

/**
 * The CSP source admitting a redirect URI: its origin, or its scheme where CSP has no host syntax for
 * it (a native app's private-use scheme, RFC 8252 §7.1, or an IPv6 loopback, RFC 8252 §7.3).
 * Building it from the parsed URL keeps quotes, spaces and semicolons out of the header.
 */
function formActionSource(redirectUri: string): string {
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    throw new TypeError(`Cannot admit redirect URI "${redirectUri}" in form-action: not an absolute URL`);
  }
  const web = url.protocol === "https:" || url.protocol === "http:";
  return web && !url.hostname.startsWith("[") ? url.origin : url.protocol;
}
