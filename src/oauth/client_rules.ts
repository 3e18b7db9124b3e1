/**
 * What a registered client may be, beyond the shape its declaration checks: which scope only an
 * administrator's client may carry, when two names are the same name, and which redirect URIs a
 * client that registered itself (RFC 7591) may use.
 */

/** The scope of management tokens: only a client an administrator registers may carry it. */
export { ADMIN_SCOPE } from "../model/oauth.ts";

/**
 * The form of a client name that two names share when a person reading the sign-in or consent page
 * could take one for the other: compatibility-normalised (full-width letters, ligatures), without
 * invisible format characters (zero-width spaces, direction marks) or white space, in lower case.
 */
export function clientNameKey(name: string): string {
  return name.normalize("NFKC").replace(/[\p{Cf}\s]/gu, "").toLowerCase();
}

const LOOPBACK_HOSTS = ["127.0.0.1", "[::1]", "localhost"];
/** A private-use URI scheme in reverse domain name form, such as `com.example.app:` (RFC 8252 §7.1). */
const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/;

/**
 * Why a self-registered client may not use `uri` (already an absolute URI without a fragment), or
 * undefined when it may: `https:`; `http:` only on a loopback address (RFC 8252 §7.3); a private-use
 * scheme in reverse domain name form only for a native client (RFC 8252 §7.1). Every other scheme
 * (`javascript:`, `vbscript:`, `file:`, `data:`…) is refused.
 */
export function selfRegisteredRedirectProblem(uri: string, native: boolean): string | undefined {
  const url = new URL(uri);
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:") {
    return LOOPBACK_HOSTS.includes(url.hostname) ? undefined : `"${uri}" uses plain http off a loopback ` +
      "address: use https, or http://127.0.0.1, http://[::1] or http://localhost for a native app";
  }
  if (!PRIVATE_USE_SCHEME.test(url.protocol)) {
    return `"${uri}" must use https, loopback http, or a native app's private-use scheme in reverse ` +
      "domain name form such as com.example.app:/callback";
  }
  if (!native) {
    return `"${uri}" uses a private-use scheme, which only a native client may register ` +
      '(application_type "native", or token_endpoint_auth_method "none")';
  }
  return undefined;
}
