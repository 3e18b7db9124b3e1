/**
 * Bootstrap settings of the IMAP listeners: 143 with STARTTLS (--imap-listen) and 993 with implicit
 * TLS (--imaps-listen, RFC 8314), on the certificate of --tls-cert/--tls-key or ACME, and their
 * limits. Each limit is a flag and a POSTERN_IMAP_* variable with a default named beside it.
 */
import { wholeNumber } from "./whole_number.ts";
import { ConfigError } from "./errors.ts";

/** The resolved IMAP settings; both listeners undefined: no IMAP. */
export interface ImapConfig {
  /** IMAP with STARTTLS (port 143); LOGIN and AUTHENTICATE only after TLS. */
  listen: { hostname: string; port: number } | undefined;
  /** IMAP over implicit TLS (RFC 8314, port 993). */
  secureListen: { hostname: string; port: number } | undefined;
  /** Sessions at once, all clients together. */
  maxConnections: number;
  /** Sessions at once from one client address (IPv6: one /64). */
  maxConnectionsPerAddress: number;
  /** Failed commands (BAD or NO) a session may make before it is closed. */
  maxErrors: number;
  /** Seconds a session may stay unauthenticated (Dovecot: 60 s for the login). */
  loginTimeoutSeconds: number;
  /** Seconds an authenticated session may stay silent (RFC 9051 §5.4: at least 30 minutes). */
  idleTimeoutSeconds: number;
}

/** Raw IMAP options as the CLI parsed them. */
export interface ImapConfigInput {
  imapListen?: string;
  imapsListen?: string;
  imapMaxConnections?: string;
  imapMaxConnectionsPerAddress?: string;
  imapMaxErrors?: string;
  imapLoginTimeout?: string;
  imapIdleTimeout?: string;
}

/** Defaults of the limits (Dovecot's mail_max_userip_connections is 10 per user and address). */
export const IMAP_DEFAULTS = {
  maxConnections: 1000,
  maxConnectionsPerAddress: 50,
  maxErrors: 20,
  loginTimeoutSeconds: 60,
  idleTimeoutSeconds: 1800,
} as const;

/** The environment variables of the IMAP listeners, with what they set. */
export const IMAP_ENVIRONMENT = {
  POSTERN_IMAP_LISTEN:
    "address of the IMAP listener with STARTTLS (port 143), host:port (default: none; needs POSTERN_TLS_CERT)",
  POSTERN_IMAPS_LISTEN:
    "address of the IMAP listener with implicit TLS (port 993), host:port (default: none; needs POSTERN_TLS_CERT)",
  POSTERN_IMAP_MAX_CONNECTIONS: `IMAP sessions at once (default ${IMAP_DEFAULTS.maxConnections})`,
  POSTERN_IMAP_MAX_CONNECTIONS_PER_ADDRESS:
    `IMAP sessions at once from one address (default ${IMAP_DEFAULTS.maxConnectionsPerAddress})`,
  POSTERN_IMAP_MAX_ERRORS:
    `failed IMAP commands before a session is closed (default ${IMAP_DEFAULTS.maxErrors})`,
  POSTERN_IMAP_LOGIN_TIMEOUT:
    `seconds an IMAP session may stay unauthenticated (default ${IMAP_DEFAULTS.loginTimeoutSeconds})`,
  POSTERN_IMAP_IDLE_TIMEOUT:
    `seconds an authenticated IMAP session may stay silent, at least 1800 (default ${IMAP_DEFAULTS.idleTimeoutSeconds})`,
} as const;

/** Resolves the IMAP flags and environment; `tls` says whether certificate files or ACME are set. */
export function resolveImapConfig(
  input: ImapConfigInput,
  env: Record<string, string | undefined>,
  options: { parseListen: (text: string) => { hostname: string; port: number }; tls: boolean },
): ImapConfig {
  const number = (
    given: string | undefined,
    variable: keyof typeof IMAP_ENVIRONMENT,
    flag: string,
    fallback: number,
    [min, max]: [number, number],
  ) => wholeNumber(given ?? env[variable] ?? String(fallback), `${flag} (${variable})`, min, max);
  const listen = (given: string | undefined, variable: keyof typeof IMAP_ENVIRONMENT, flag: string) => {
    const text = given ?? (env[variable] || undefined);
    if (text === undefined) return undefined;
    if (!options.tls) {
      throw new ConfigError(
        `Cannot start ${flag} (${variable}): IMAP needs TLS; set --tls-cert and --tls-key ` +
          `(POSTERN_TLS_CERT, POSTERN_TLS_KEY) or --acme-directory (POSTERN_ACME_DIRECTORY)`,
      );
    }
    return options.parseListen(text);
  };
  const d = IMAP_DEFAULTS;
  return {
    listen: listen(input.imapListen, "POSTERN_IMAP_LISTEN", "--imap-listen"),
    secureListen: listen(input.imapsListen, "POSTERN_IMAPS_LISTEN", "--imaps-listen"),
    maxConnections: number(
      input.imapMaxConnections,
      "POSTERN_IMAP_MAX_CONNECTIONS",
      "--imap-max-connections",
      d.maxConnections,
      [1, 1_000_000],
    ),
    maxConnectionsPerAddress: number(
      input.imapMaxConnectionsPerAddress,
      "POSTERN_IMAP_MAX_CONNECTIONS_PER_ADDRESS",
      "--imap-max-connections-per-address",
      d.maxConnectionsPerAddress,
      [1, 1_000_000],
    ),
    maxErrors: number(input.imapMaxErrors, "POSTERN_IMAP_MAX_ERRORS", "--imap-max-errors", d.maxErrors, [
      1,
      10_000,
    ]),
    loginTimeoutSeconds: number(
      input.imapLoginTimeout,
      "POSTERN_IMAP_LOGIN_TIMEOUT",
      "--imap-login-timeout",
      d.loginTimeoutSeconds,
      [1, 3_600],
    ),
    // RFC 9051 §5.4: the autologout timer is at least 30 minutes.
    idleTimeoutSeconds: number(
      input.imapIdleTimeout,
      "POSTERN_IMAP_IDLE_TIMEOUT",
      "--imap-idle-timeout",
      d.idleTimeoutSeconds,
      [1800, 86_400],
    ),
  };
}
