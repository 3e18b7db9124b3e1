/** OAuth / OpenID Connect records shared by the store and the provider. No I/O here. */

/** The grants a client may use (no implicit, no password grant). */
export const GRANT_TYPES = [
  "authorization_code",
  "refresh_token",
  "urn:ietf:params:oauth:grant-type:device_code",
  "client_credentials",
] as const;
export type GrantType = typeof GRANT_TYPES[number];

/** A registered client. Confidential clients authenticate with a secret (stored as a keyed hash). */
export interface OAuthClient {
  id: number;
  clientId: string;
  name: string;
  type: "Confidential" | "Public";
  secretHash: string | null;
  /** The account client_credentials tokens act as; null for clients without that grant. */
  ownerId: number | null;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: GrantType[];
  /** Scopes the client may ask for. */
  scopes: string[];
  requireConsent: boolean;
  /** Registered through RFC 7591 dynamic registration. */
  dynamic: boolean;
  /**
   * A resource server an administrator allows to introspect tokens issued to any client; any other
   * client learns only about its own tokens.
   */
  resourceServer: boolean;
  description: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A token family: everything one authorization issued; deleting it revokes them all. */
export interface OAuthGrant {
  id: number;
  clientId: number;
  accountId: number;
  grantType: GrantType;
  scopes: string[];
  /** When the user signed in. Every time in these records is in milliseconds since the epoch. */
  authTime: number;
  /** The generation of the current refresh token (0: none issued). */
  refreshGeneration: number;
  refreshIssuedAt: number | null;
  refreshExpiresAt: number | null;
  /** When the refresh token was last rotated (ms), for the reuse grace window. */
  rotatedAt: number | null;
  createdAt: number;
  /** The family ends at this time (ms): the latest expiry of anything it issued. */
  expiresAt: number;
}

/** An issued authorization code (only its hash is stored). */
export interface AuthorizationCode {
  codeHash: string;
  clientId: number;
  accountId: number;
  redirectUri: string;
  scopes: string[];
  codeChallenge: string;
  nonce: string | null;
  authTime: number;
  expiresAt: number;
  usedAt: number | null;
  grantId: number | null;
}

/** A device authorization (RFC 8628) and where the user is with it. */
export interface DeviceCode {
  deviceCodeHash: string;
  userCode: string;
  clientId: number;
  scopes: string[];
  status: "pending" | "approved" | "denied" | "used";
  accountId: number | null;
  authTime: number | null;
  intervalSeconds: number;
  lastPollAt: number | null;
  expiresAt: number;
}

/** A sign-in in progress in the browser (authorization request or device confirmation). */
export interface OAuthFlow {
  id: string;
  kind: "authorize" | "device";
  clientId: number;
  params: Record<string, unknown>;
  csrf: string;
  accountId: number | null;
  authTime: number | null;
  failedAttempts: number;
  expiresAt: number;
}

/** A browser session (the cookie holds the id; only its hash is stored). */
export interface BrowserSession {
  idHash: string;
  accountId: number;
  /** A digest of the account's credentials at sign-in: a password change ends the session. */
  credentialTag: string;
  authTime: number;
  expiresAt: number;
}

/** An ID-token signing key; the private half is stored sealed. */
export interface SigningKey {
  id: number;
  kid: string;
  alg: string;
  privateJwk: string;
  publicJwk: string;
  createdAt: number;
  /** From when it signs (ms); published in the JWKS from its creation. */
  activatesAt: number;
  /** From when it no longer signs (ms); published for a while after. */
  retiredAt: number | null;
}

/**
 * The OAuth scope a token needs to use methods of a JMAP capability: none for the core, the mail or
 * submission scope for those capabilities, the administration scope for management (`x:` types).
 * A capability not listed here is closed to scoped tokens.
 */
export function requiredScope(capability: string): string | null | undefined {
  return CAPABILITY_SCOPES[capability];
}

/** The scope of management (the x: types, metrics): what a token or scoped credential needs to administer. */
export const ADMIN_SCOPE = "urn:postern:admin";

const CAPABILITY_SCOPES: Readonly<Record<string, string | null>> = {
  "urn:ietf:params:jmap:core": null,
  "urn:ietf:params:jmap:mail": "urn:ietf:params:jmap:mail",
  "urn:ietf:params:jmap:submission": "urn:ietf:params:jmap:submission",
  "urn:ietf:params:jmap:vacationresponse": "urn:ietf:params:jmap:mail",
  "urn:ietf:params:jmap:quota": "urn:ietf:params:jmap:mail",
  "urn:ietf:params:jmap:principals": "urn:ietf:params:jmap:mail",
  "urn:postern:jmap": ADMIN_SCOPE,
};
