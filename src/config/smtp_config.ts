/**
 * Bootstrap settings of the SMTP listener (MX): where it listens, its certificate files and its
 * limits. Each limit is a flag and a POSTERN_SMTP_* variable with a default from an RFC or from
 * Postfix's, named beside it.
 */
import { wholeNumber } from "./whole_number.ts";
import { ConfigError } from "./errors.ts";

/** The resolved SMTP settings; `listen` undefined: no SMTP listener. */
export interface SmtpConfig {
  listen: { hostname: string; port: number } | undefined;
  /** Message submission with STARTTLS (RFC 6409, port 587); needs the certificate files. */
  submissionListen?: { hostname: string; port: number } | undefined;
  /** Message submission over implicit TLS (RFC 8314, port 465); needs the certificate files. */
  submissionsListen?: { hostname: string; port: number } | undefined;
  /** PEM certificate chain and key offering STARTTLS; both or neither. Re-read when they change. */
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  /** Largest message accepted, advertised with SIZE (RFC 1870). */
  maxMessageBytes: number;
  /** Recipients per message; more get 452 4.5.3 (RFC 5321 §4.5.3.1.8 asks for at least 100). */
  maxRecipients: number;
  /** Sessions at once, all clients together. */
  maxConnections: number;
  /** Sessions at once from one client address. */
  maxConnectionsPerAddress: number;
  /** Refused commands (unknown recipients, bad sequence) a session may make before it is closed. */
  maxErrors: number;
  /** Commands (HELO, NOOP, RSET, VRFY, unknown…) a session may send before its first MAIL FROM. */
  maxCommandsBeforeMail: number;
  /** Seconds a session may wait for the client's next command (RFC 5321 §4.5.3.2.7: 5 minutes). */
  commandTimeoutSeconds: number;
  /** Seconds the whole of DATA may take (RFC 5321 §4.5.3.2.6 waits 10 minutes for its end). */
  dataTimeoutSeconds: number;
}

/** Raw SMTP options as the CLI parsed them. */
export interface SmtpConfigInput {
  smtpListen?: string;
  submissionListen?: string;
  submissionsListen?: string;
  tlsCert?: string;
  tlsKey?: string;
  smtpMaxMessageBytes?: string;
  smtpMaxRecipients?: string;
  smtpMaxConnections?: string;
  smtpMaxConnectionsPerAddress?: string;
  smtpMaxErrors?: string;
  smtpCommandTimeout?: string;
  smtpMaxCommandsBeforeMail?: string;
  smtpDataTimeout?: string;
}

/**
 * Defaults of the limits (Postfix's message_size_limit is 10240000, smtpd_hard_error_limit 20 and
 * smtpd_junk_command_limit 100).
 */
export const SMTP_DEFAULTS = {
  maxMessageBytes: 10_240_000,
  maxRecipients: 100,
  maxConnections: 200,
  maxConnectionsPerAddress: 20,
  maxErrors: 20,
  maxCommandsBeforeMail: 100,
  commandTimeoutSeconds: 300,
  dataTimeoutSeconds: 600,
} as const;

/** The environment variables of the SMTP listener, with what they set. */
export const SMTP_ENVIRONMENT = {
  POSTERN_SMTP_LISTEN: "address of the SMTP (MX) listener, host:port (default: none, no SMTP)",
  POSTERN_SUBMISSION_LISTEN:
    "address of the submission listener with STARTTLS (port 587), host:port (default: none; needs POSTERN_TLS_CERT)",
  POSTERN_SUBMISSIONS_LISTEN:
    "address of the submission listener with implicit TLS (port 465), host:port (default: none; needs POSTERN_TLS_CERT)",
  POSTERN_TLS_CERT: "PEM certificate chain for STARTTLS and implicit TLS (re-read when it changes)",
  POSTERN_TLS_KEY: "PEM private key of POSTERN_TLS_CERT",
  POSTERN_SMTP_MAX_MESSAGE_BYTES: `largest message accepted (default ${SMTP_DEFAULTS.maxMessageBytes})`,
  POSTERN_SMTP_MAX_RECIPIENTS: `recipients per message (default ${SMTP_DEFAULTS.maxRecipients})`,
  POSTERN_SMTP_MAX_CONNECTIONS: `SMTP sessions at once (default ${SMTP_DEFAULTS.maxConnections})`,
  POSTERN_SMTP_MAX_CONNECTIONS_PER_ADDRESS:
    `SMTP sessions at once from one address (default ${SMTP_DEFAULTS.maxConnectionsPerAddress})`,
  POSTERN_SMTP_MAX_ERRORS: `refused commands before a session is closed (default ${SMTP_DEFAULTS.maxErrors})`,
  POSTERN_SMTP_MAX_COMMANDS_BEFORE_MAIL:
    `SMTP commands before the first MAIL FROM (default ${SMTP_DEFAULTS.maxCommandsBeforeMail})`,
  POSTERN_SMTP_COMMAND_TIMEOUT:
    `seconds to wait for the next SMTP command (default ${SMTP_DEFAULTS.commandTimeoutSeconds})`,
  POSTERN_SMTP_DATA_TIMEOUT:
    `seconds the whole of DATA may take (default ${SMTP_DEFAULTS.dataTimeoutSeconds})`,
} as const;

/** Resolves the SMTP flags and environment. */
export function resolveSmtpConfig(
  input: SmtpConfigInput,
  env: Record<string, string | undefined>,
  parseListen: (text: string) => { hostname: string; port: number },
  /** Whether certificates come from ACME (--acme-directory), which submission may use instead of files. */
  acme = false,
): SmtpConfig {
  const listenText = input.smtpListen ?? env.POSTERN_SMTP_LISTEN;
  const tlsCertFile = input.tlsCert ?? (env.POSTERN_TLS_CERT || undefined);
  const tlsKeyFile = input.tlsKey ?? (env.POSTERN_TLS_KEY || undefined);
  if ((tlsCertFile === undefined) !== (tlsKeyFile === undefined)) {
    throw new ConfigError(
      `Invalid TLS files: --tls-cert and --tls-key go together (got only ${
        tlsCertFile === undefined ? "--tls-key" : "--tls-cert"
      })`,
    );
  }
  const number = (
    given: string | undefined,
    variable: keyof typeof SMTP_ENVIRONMENT,
    flag: string,
    fallback: number,
    [min, max]: [number, number],
  ) => wholeNumber(given ?? env[variable] ?? String(fallback), `${flag} (${variable})`, min, max);
  const submission = (given: string | undefined, variable: keyof typeof SMTP_ENVIRONMENT, flag: string) => {
    const text = given ?? (env[variable] || undefined);
    if (text === undefined) return undefined;
    if (tlsCertFile === undefined && !acme) {
      throw new ConfigError(
        `Cannot start ${flag} (${variable}): submission needs TLS; set --tls-cert and --tls-key ` +
          `(POSTERN_TLS_CERT, POSTERN_TLS_KEY) or --acme-directory (POSTERN_ACME_DIRECTORY)`,
      );
    }
    return parseListen(text);
  };
  const d = SMTP_DEFAULTS;
  return {
    listen: listenText ? parseListen(listenText) : undefined,
    submissionListen: submission(input.submissionListen, "POSTERN_SUBMISSION_LISTEN", "--submission-listen"),
    submissionsListen: submission(
      input.submissionsListen,
      "POSTERN_SUBMISSIONS_LISTEN",
      "--submissions-listen",
    ),
    tlsCertFile,
    tlsKeyFile,
    maxMessageBytes: number(
      input.smtpMaxMessageBytes,
      "POSTERN_SMTP_MAX_MESSAGE_BYTES",
      "--smtp-max-message-bytes",
      d.maxMessageBytes,
      [1024, 1_000_000_000],
    ),
    maxRecipients: number(
      input.smtpMaxRecipients,
      "POSTERN_SMTP_MAX_RECIPIENTS",
      "--smtp-max-recipients",
      d.maxRecipients,
      [1, 100_000],
    ),
    maxConnections: number(
      input.smtpMaxConnections,
      "POSTERN_SMTP_MAX_CONNECTIONS",
      "--smtp-max-connections",
      d.maxConnections,
      [1, 1_000_000],
    ),
    maxConnectionsPerAddress: number(
      input.smtpMaxConnectionsPerAddress,
      "POSTERN_SMTP_MAX_CONNECTIONS_PER_ADDRESS",
      "--smtp-max-connections-per-address",
      d.maxConnectionsPerAddress,
      [1, 1_000_000],
    ),
    maxErrors: number(input.smtpMaxErrors, "POSTERN_SMTP_MAX_ERRORS", "--smtp-max-errors", d.maxErrors, [
      1,
      10_000,
    ]),
    maxCommandsBeforeMail: number(
      input.smtpMaxCommandsBeforeMail,
      "POSTERN_SMTP_MAX_COMMANDS_BEFORE_MAIL",
      "--smtp-max-commands-before-mail",
      d.maxCommandsBeforeMail,
      [1, 100_000],
    ),
    commandTimeoutSeconds: number(
      input.smtpCommandTimeout,
      "POSTERN_SMTP_COMMAND_TIMEOUT",
      "--smtp-command-timeout",
      d.commandTimeoutSeconds,
      [1, 86_400],
    ),
    dataTimeoutSeconds: number(
      input.smtpDataTimeout,
      "POSTERN_SMTP_DATA_TIMEOUT",
      "--smtp-data-timeout",
      d.dataTimeoutSeconds,
      [1, 86_400],
    ),
  };
}
