/**
 * SASL (RFC 4422) for the mail protocols, the part that is the same in SMTP AUTH and IMAP
 * AUTHENTICATE/LOGIN: the mechanisms' messages decoded (PLAIN RFC 4616, OAUTHBEARER RFC 7628,
 * XOAUTH2), the credentials turned into the `Authorization` value HTTP takes (`Basic` for a password
 * or app password, `Bearer` for an access token), and that value checked by the one authenticator
 * (its throttle, cache and failed-login line), with the scope the protocol needs. Each surface maps
 * the outcome to its own wire form (SMTP 535/454, IMAP NO [AUTHENTICATIONFAILED]/[UNAVAILABLE]).
 */
import { AuthError } from "../model/errors.ts";
import type { Principal } from "../model/types.ts";

/** Credentials of one SASL exchange, as a mechanism decoded them. */
export interface SaslCredentials {
  method: string;
  username?: string;
  authzid?: string;
  authcid?: string;
  password?: string;
  accessToken?: string;
}

/** What the check needs from the services. */
export interface SaslAuthDeps {
  authenticate(authorization: string, client: string): Promise<Principal>;
  /** The account a login name or address names, if any. */
  accountIdOf(login: string): Promise<number | undefined>;
}

/** How a SASL check ended: the principal and the credential to re-check, or why not. */
export type SaslCheck =
  | { principal: Principal; authorization: string }
  /** `status` is RFC 7628 §3.2.2's error for a token (`invalid_token`, `insufficient_scope`). */
  | { refusal: "invalid"; status: "invalid_token" | "insufficient_scope" }
  | { refusal: "rateLimited" };

/** Whether a mechanism carries an OAuth token rather than a password. */
export function isBearerMechanism(method: string): boolean {
  return method === "XOAUTH2" || method === "OAUTHBEARER";
}

/** The `Authorization` value the SASL credentials stand for, or undefined when they cannot be one. */
export function authorizationOf(credentials: SaslCredentials): string | undefined {
  if (credentials.method === "PLAIN" || credentials.method === "LOGIN") {
    const login = credentials.username ?? "";
    // RFC 4616: an authorization identity other than the login asks to act as someone else; not offered.
    const { authzid, authcid } = credentials;
    if (authzid && authcid && authzid.trim().toLowerCase() !== authcid.trim().toLowerCase()) return undefined;
    if (!login || login.includes(":")) return undefined;
    const bytes = new TextEncoder().encode(`${login}:${credentials.password ?? ""}`);
    return `Basic ${btoa(String.fromCharCode(...bytes))}`;
  }
  if (isBearerMechanism(credentials.method)) {
    const token = credentials.accessToken ?? "";
    return /^[\x21-\x7e]+$/.test(token) ? `Bearer ${token}` : undefined;
  }
  return undefined;
}

/**
 * Checks SASL credentials sent from `client` for a protocol whose tokens and app passwords need
 * `scope`. API keys manage the server; they never open a mailbox or send.
 */
export async function checkSaslCredential(
  deps: SaslAuthDeps,
  credentials: SaslCredentials,
  options: { client: string; scope: string },
): Promise<SaslCheck> {
  const authorization = authorizationOf(credentials);
  if (!authorization) return { refusal: "invalid", status: "invalid_token" };
  let principal: Principal;
  try {
    principal = await deps.authenticate(authorization, options.client);
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    if (error.reason === "rateLimited") return { refusal: "rateLimited" };
    return { refusal: "invalid", status: "invalid_token" };
  }
  if (principal.method === "apiKey") return { refusal: "invalid", status: "invalid_token" };
  if (principal.scopes && !principal.scopes.includes(options.scope)) {
    return { refusal: "invalid", status: "insufficient_scope" };
  }
  // A token names its account itself; the user the client names beside it must be that one.
  if (
    isBearerMechanism(credentials.method) && credentials.username &&
    await deps.accountIdOf(credentials.username) !== principal.accountId
  ) {
    return { refusal: "invalid", status: "invalid_token" };
  }
  return { principal, authorization };
}

/** The fields of an OAUTHBEARER initial response (RFC 7628 §3.1), or undefined if it is not one. */
export function parseOauthBearer(response: string): { user?: string; token: string } | undefined {
  // gs2-header: no channel binding ("n" or "y"), an optional authzid "a=…", then kvpairs.
  // deno-lint-ignore no-control-regex
  const match = /^([ny]),(?:a=([^,]*))?,\x01(.*)\x01\x01$/s.exec(response);
  if (!match) return undefined;
  let token: string | undefined;
  for (const pair of match[3].split("\x01")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) return undefined;
    if (pair.slice(0, eq) === "auth") {
      const auth = /^Bearer +(\S+)$/i.exec(pair.slice(eq + 1));
      if (!auth) return undefined;
      token = auth[1];
    }
  }
  if (!token) return undefined;
  // RFC 5801 §5.1: "=2C" and "=3D" stand for "," and "=" in the authzid.
  const user = match[2]?.replace(/=(2C|3D)/gi, (_, code: string) => code.toUpperCase() === "2C" ? "," : "=");
  return { user: user || undefined, token };
}

/** The fields of an XOAUTH2 response (`user=…^Aauth=Bearer …^A^A`), or undefined if it is not one. */
export function parseXoauth2(response: string): { user: string; token: string } | undefined {
  // deno-lint-ignore no-control-regex
  const match = /^user=([^\x01]*)\x01auth=Bearer +([^\x01\s]+)\x01\x01$/is.exec(response);
  return match ? { user: match[1], token: match[2] } : undefined;
}

/** The fields of a PLAIN response (RFC 4616: `authzid NUL authcid NUL passwd`), or undefined. */
export function parsePlain(
  response: string,
): { authzid: string; authcid: string; password: string } | undefined {
  const parts = response.split("\x00");
  if (parts.length !== 3 || !parts[1]) return undefined;
  return { authzid: parts[0], authcid: parts[1], password: parts[2] };
}
