/** Row mappers of the OAuth tables. */
import type {
  AuthorizationCode,
  DeviceCode,
  OAuthClient,
  OAuthFlow,
  OAuthGrant,
  SigningKey,
} from "../model/oauth.ts";
import type { Row } from "./db.ts";

export const list = (value: unknown): string[] => JSON.parse(String(value));
export const num = (value: unknown): number | null => value === null ? null : Number(value);

export function toClient(r: Row): OAuthClient {
  return {
    id: Number(r.id),
    clientId: String(r.client_id),
    name: String(r.name),
    type: r.type as OAuthClient["type"],
    secretHash: r.secret_hash === null ? null : String(r.secret_hash),
    ownerId: num(r.owner_id),
    redirectUris: list(r.redirect_uris),
    postLogoutRedirectUris: list(r.post_logout_redirect_uris),
    grantTypes: list(r.grant_types) as OAuthClient["grantTypes"],
    scopes: list(r.scopes),
    requireConsent: Number(r.require_consent) === 1,
    dynamic: Number(r.dynamic) === 1,
    resourceServer: Number(r.resource_server) === 1,
    description: r.description === null ? null : String(r.description),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** The columns of an oauth_grants row in the order {@link grantFromValues} reads them. */
export const GRANT_COLUMNS =
  "id, client_id, account_id, grant_type, scopes, auth_time, refresh_generation, " +
  "refresh_issued_at, refresh_expires_at, rotated_at, created_at, expires_at";

/** A grant from the values of {@link GRANT_COLUMNS}, in order (Db.firstValues): as toGrant reads a row. */
export function grantFromValues(v: unknown[]): OAuthGrant {
  return {
    id: Number(v[0]),
    clientId: Number(v[1]),
    accountId: Number(v[2]),
    grantType: v[3] as OAuthGrant["grantType"],
    scopes: list(v[4]),
    authTime: Number(v[5]),
    refreshGeneration: Number(v[6]),
    refreshIssuedAt: num(v[7]),
    refreshExpiresAt: num(v[8]),
    rotatedAt: num(v[9]),
    createdAt: Number(v[10]),
    expiresAt: Number(v[11]),
  };
}

export function toGrant(r: Row): OAuthGrant {
  return {
    id: Number(r.id),
    clientId: Number(r.client_id),
    accountId: Number(r.account_id),
    grantType: r.grant_type as OAuthGrant["grantType"],
    scopes: list(r.scopes),
    authTime: Number(r.auth_time),
    refreshGeneration: Number(r.refresh_generation),
    refreshIssuedAt: num(r.refresh_issued_at),
    refreshExpiresAt: num(r.refresh_expires_at),
    rotatedAt: num(r.rotated_at),
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
  };
}

export function toCode(r: Row): AuthorizationCode {
  return {
    codeHash: String(r.code_hash),
    clientId: Number(r.client_id),
    accountId: Number(r.account_id),
    redirectUri: String(r.redirect_uri),
    scopes: list(r.scopes),
    codeChallenge: String(r.code_challenge),
    nonce: r.nonce === null ? null : String(r.nonce),
    authTime: Number(r.auth_time),
    expiresAt: Number(r.expires_at),
    usedAt: num(r.used_at),
    grantId: num(r.grant_id),
  };
}

export function toDeviceCode(r: Row): DeviceCode {
  return {
    deviceCodeHash: String(r.device_code_hash),
    userCode: String(r.user_code),
    clientId: Number(r.client_id),
    scopes: list(r.scopes),
    status: r.status as DeviceCode["status"],
    accountId: num(r.account_id),
    authTime: num(r.auth_time),
    intervalSeconds: Number(r.interval_seconds),
    lastPollAt: num(r.last_poll_at),
    expiresAt: Number(r.expires_at),
  };
}

export function toFlow(r: Row): OAuthFlow {
  return {
    id: String(r.id),
    kind: r.kind as OAuthFlow["kind"],
    clientId: Number(r.client_id),
    params: JSON.parse(String(r.params)),
    csrf: String(r.csrf),
    accountId: num(r.account_id),
    authTime: num(r.auth_time),
    failedAttempts: Number(r.failed_attempts),
    expiresAt: Number(r.expires_at),
  };
}

export function toSigningKey(r: Row): SigningKey {
  return {
    id: Number(r.id),
    kid: String(r.kid),
    alg: String(r.alg),
    privateJwk: String(r.private_jwk),
    publicJwk: String(r.public_jwk),
    createdAt: Number(r.created_at),
    activatesAt: num(r.activates_at) ?? Number(r.created_at),
    retiredAt: num(r.retired_at),
  };
}

export const json = (value: unknown) => JSON.stringify(value);
