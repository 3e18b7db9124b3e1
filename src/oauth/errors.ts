/**
 * OAuth error responses (RFC 6749 §5.2, §4.1.2.1; RFC 8628 §3.5; RFC 7009; RFC 6750 §3.1): one class,
 * constructed through a function per error code, so a code is never misspelled.
 */
import { BASIC_CHALLENGE } from "./deps.ts";

/** Every error code the provider answers with. */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "invalid_scope"
  | "access_denied"
  | "unsupported_response_type"
  | "server_error"
  | "temporarily_unavailable"
  | "authorization_pending"
  | "slow_down"
  | "expired_token"
  | "unsupported_token_type"
  | "invalid_token"
  | "insufficient_scope"
  | "login_required"
  | "consent_required"
  | "interaction_required"
  | "request_not_supported"
  | "request_uri_not_supported"
  | "invalid_redirect_uri"
  | "invalid_client_metadata";

/** An OAuth error: its code, a description for humans and the HTTP status it is sent with. */
export class OAuthError extends Error {
  override name = "OAuthError";
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    readonly status = 400,
    /** Extra headers (the WWW-Authenticate of invalid_client and invalid_token). */
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
  }

  /** The JSON body of the error. */
  toJson(): Record<string, string> {
    return { error: this.code, error_description: this.description };
  }
}

/** A malformed request: a missing, repeated or invalid parameter. */
export const invalidRequest = (description: string) => new OAuthError("invalid_request", description);
/** The grant (code, refresh token, device code) is invalid, expired, revoked or not this client's. */
export const invalidGrant = (description: string) => new OAuthError("invalid_grant", description);
/** Client authentication failed (401 with a challenge when the client used the Authorization header). */
export const invalidClient = (description: string, usedBasic = false) =>
  new OAuthError(
    "invalid_client",
    description,
    401,
    usedBasic ? { "www-authenticate": BASIC_CHALLENGE } : {},
  );
/** The client may not use this grant. */
export const unauthorizedClient = (description: string) => new OAuthError("unauthorized_client", description);
/** A requested scope is unknown or not allowed. */
export const invalidScope = (description: string) => new OAuthError("invalid_scope", description);
