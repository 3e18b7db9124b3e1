/**
 * The one format of a failed-login log line, matched by deploy/fail2ban/filter.d/postern.conf (and any
 * CrowdSec parser): the client address comes before anything the client chose, so a login name cannot
 * smuggle in an address to be banned. Rendered: `Failed login from 203.0.113.7 (password) for "alice"`.
 */
export const FAILED_LOGIN_MESSAGE = 'Failed login from {client} ({kind}) for "{login}"';

/** What failed: an account password (Basic, sign-in page) or an OAuth client's secret. */
export type LoginFailureKind = "password" | "oauth-client";

/** The properties of a failed-login line (the login as typed, after normalising). */
export type LoginFailure = {
  event: "login_failed";
  client: string;
  kind: LoginFailureKind;
  login: string;
};

/** The log properties of a failed login. */
export function loginFailure(client: string, kind: LoginFailureKind, login: string): LoginFailure {
  return { event: "login_failed", client, kind, login };
}
