/**
 * What the provider says about an account (OIDC Core §5.1): its subject, and by the scopes granted
 * its profile (preferred_username, name, locale) and email claims, the same in an ID token and at
 * UserInfo; and the ID token itself (§2, §3.1.3.6 at_hash).
 */
import { type Account, encodeId, type OAuthClient } from "./deps.ts";

/** The claims of an account for the scopes granted: `sub` always, profile and email when granted. */
export function accountClaims(account: Account, scopes: readonly string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = { sub: encodeId(account.id) };
  if (scopes.includes("profile")) {
    claims.preferred_username = account.primaryAddress;
    claims.name = account.description ?? account.name;
    if (account.locale) claims.locale = account.locale;
  }
  if (scopes.includes("email")) {
    claims.email = account.primaryAddress;
    claims.email_verified = true;
  }
  return claims;
}

/** What an ID token is made for. */
export interface IdTokenRequest {
  client: OAuthClient;
  scopes: string[];
  authTime: number;
  nonce?: string | null;
  issuer: string;
}

/** The claims of an ID token issued `now` (ms) with an access token, lasting `lifetimeMs`. */
export async function idTokenClaims(
  request: IdTokenRequest,
  account: Account,
  issued: { accessToken: string; now: number; lifetimeMs: number; algorithm: string },
): Promise<Record<string, unknown>> {
  const seconds = (ms: number) => Math.floor(ms / 1000);
  const claims: Record<string, unknown> = {
    iss: request.issuer,
    ...accountClaims(account, request.scopes),
    aud: request.client.clientId,
    exp: seconds(issued.now + issued.lifetimeMs),
    iat: seconds(issued.now),
    auth_time: seconds(request.authTime),
    at_hash: await atHash(issued.accessToken, issued.algorithm),
    azp: request.client.clientId,
  };
  if (request.nonce) claims.nonce = request.nonce;
  return claims;
}

/** OIDC Core §3.1.3.6: the left half of the access token's hash, with the signature's hash function. */
async function atHash(accessToken: string, alg: string): Promise<string> {
  const hash = alg === "EdDSA" ? "SHA-512" : `SHA-${alg.slice(2)}`;
  const digest = new Uint8Array(await crypto.subtle.digest(hash, new TextEncoder().encode(accessToken)));
  const half = digest.subarray(0, digest.length / 2);
  return btoa(String.fromCharCode(...half)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
