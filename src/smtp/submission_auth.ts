/**
 * SMTP AUTH (RFC 4954) through Postern's one authenticator: PLAIN and LOGIN become the `Basic`
 * credentials HTTP takes (account password or app password), XOAUTH2 and OAUTHBEARER the `Bearer`
 * access token, so the throttle, the cache, the revocation and the failed-login log line are those of
 * HTTP. What is accepted: a password, an app password (its scopes include submission) or an OAuth
 * access token with the scope `urn:ietf:params:jmap:submission`; API keys manage, they do not send.
 */
import type { Logger } from "@logtape/logtape";
import {
  authorizationOf,
  checkSaslCredential,
  isBearerMechanism,
  type SaslAuthDeps,
  type SaslCredentials,
} from "../auth/mod.ts";
import { normalizeLogin } from "../directory/mod.ts";
import type { AuthError } from "../model/errors.ts";
import { FAILED_LOGIN_MESSAGE, loginFailure } from "../model/login_failure.ts";
import type { Principal } from "../model/types.ts";
import { type SmtpReply } from "./replies.ts";

/** The scope a token or app password needs to submit mail. */
export const SUBMISSION_SCOPE = "urn:ietf:params:jmap:submission";

/** What onAuth of smtp-server is given (with OAUTHBEARER from sasl_extensions.ts). */
export type { SaslAuthDeps, SaslCredentials };
export { authorizationOf };

/** How an AUTH ended: the principal and the credential to re-check, or the reply of its refusal. */
export type SaslOutcome =
  | { principal: Principal; authorization: string }
  | { refusal: "invalid" | "rateLimited" | "error"; reply: SmtpReply; data?: Record<string, string> };

const INVALID: SmtpReply = { code: 535, enhanced: "5.7.8", text: "Authentication credentials invalid" };
const THROTTLED: SmtpReply = {
  code: 454,
  enhanced: "4.7.0",
  text: "Too many failed attempts; try again later",
};
const TEMPORARY: SmtpReply = { code: 454, enhanced: "4.7.0", text: "Temporary authentication failure" };

/** Checks SASL credentials sent from `client` (the shared check of auth/sasl.ts, as SMTP replies). */
export async function checkSasl(
  deps: SaslAuthDeps,
  credentials: SaslCredentials,
  client: string,
): Promise<SaslOutcome> {
  const checked = await checkSaslCredential(deps, credentials, { client, scope: SUBMISSION_SCOPE });
  if ("principal" in checked) return checked;
  if (checked.refusal === "rateLimited") return { refusal: "rateLimited", reply: THROTTLED };
  return {
    refusal: "invalid",
    reply: INVALID,
    // RFC 7628 §3.2.2's error; XOAUTH2 clients read the same fields.
    data: isBearerMechanism(credentials.method)
      ? { status: checked.status, scope: SUBMISSION_SCOPE }
      : undefined,
  };
}

/** The reply of an AUTH that failed with a fault (not the client's). */
export const AUTH_FAULT: SaslOutcome = { refusal: "error", reply: TEMPORARY };

/** A session's credential that no longer verifies at MAIL FROM. */
export interface RevokedCredential {
  error: AuthError;
  /** The login of PLAIN or LOGIN as the client typed it; none for a token. */
  login?: string;
  mechanism?: string;
  client: string;
}

/**
 * Logs a credential that stopped working during a session. A password or app password that no
 * longer verifies gets the failed-login line fail2ban counts (model/login_failure.ts), the very line
 * the same credential gets at AUTH, so a client that keeps using it is seen as one that keeps
 * failing AUTH. A token gets another warning, which fail2ban does not count: HTTP does not count a
 * refused token either (a token is not guessed).
 */
export function logRevoked(log: Logger, revoked: RevokedCredential): void {
  const { error, login, client } = revoked;
  if (error.scheme === "Basic" && error.reason === "invalid" && login !== undefined) {
    log.warn(FAILED_LOGIN_MESSAGE, loginFailure(client, "password", normalizeLogin(login)));
    return;
  }
  log.warn("SMTP credential no longer valid in a session from {client} ({mechanism}): {reason}", {
    event: "smtp.credential_revoked",
    client,
    mechanism: revoked.mechanism,
    reason: error.reason,
  });
}
