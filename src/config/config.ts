import { DEFAULT_BUSY_TIMEOUT_MS, MAX_BUSY_TIMEOUT_MS } from "../model/background.ts";
import { wholeNumber } from "./whole_number.ts";
import { domainNameSchema } from "../model/objects/mod.ts";
import { DNS_ENVIRONMENT, resolveDnsServers } from "./dns_config.ts";
import { ConfigError } from "./errors.ts";
import { PROCESSES_ENVIRONMENT, resolveProcesses, shareOf } from "./processes_config.ts";
import { READ_WORKERS_ENVIRONMENT, resolveReadWorkers } from "./read_workers_config.ts";
import { IMAP_ENVIRONMENT, type ImapConfig, type ImapConfigInput, resolveImapConfig } from "./imap_config.ts";
import { MAIL_HOST_ENVIRONMENT, type MailHostInput, resolveMailHost } from "./mail_host.ts";
import { resolveSmtpConfig, SMTP_ENVIRONMENT, type SmtpConfig, type SmtpConfigInput } from "./smtp_config.ts";
import { resolveTlsConfig, TLS_ENVIRONMENT, type TlsConfig, type TlsConfigInput } from "./tls_config.ts";

/**
 * Bootstrap settings: flags, then environment variables, then defaults, resolved once at boot and
 * passed down. Settings that can change at run time live in the database as settings objects.
 */

/** Where a secret comes from: its value, an environment variable, or a file. */
export type SecretKeySource =
  | { kind: "value"; value: string }
  | { kind: "env"; name: string }
  | { kind: "file"; path: string };

/** The resolved bootstrap configuration. */
export interface Config {
  dataDir: string;
  databasePath: string;
  hostname: string;
  port: number;
  domain: string;
  adminPassword: string | undefined;
  encryptionKey: SecretKeySource;
  logLevel: "debug" | "info" | "warning" | "error";
  trustedProxies: string[];
  maxBodyBytes: number;
  synchronous: "NORMAL" | "FULL";
  /** How long a write waits for another process's database lock before the request gets a 503. */
  busyTimeoutMs: number;
  publicUrl: string | undefined;
  /** Origins allowed to call the APIs from a browser ("*" for any). */
  corsOrigins: string[];
  corsMaxAgeSeconds: number;
  /** Whether web pushes may go to loopback and private addresses (see jmap/push/push_targets.ts). */
  pushPrivateTargets: boolean;
  /** At shutdown, how long requests in progress may take before the server stops anyway. */
  shutdownGraceSeconds: number;
  /**
   * Connections held at once, all clients together; undefined: DEFAULT_MAX_CONNECTIONS lowered to
   * fit the open-file limit (decided at start, see http/connection_limits.ts).
   */
  maxConnections: number | undefined;
  /** Connections held at once from one client address (IPv6: one /64); trusted proxies are exempt. */
  maxConnectionsPerAddress: number;
  /** Seconds from a connection's opening to its first complete request head. */
  headerTimeoutSeconds: number;
  /** Seconds a connection may pass without a byte either way (event streams and WebSockets exempt). */
  idleTimeoutSeconds: number;
  /** Whether a database is copied next to itself before its schema is upgraded (--no-backup: false). */
  migrationBackup: boolean;
  /** The SMTP (MX) listener and its limits. */
  smtp: SmtpConfig;
  /** DNS servers asked, in node:dns `setServers` form; empty: the system's resolver (config/dns_config.ts). */
  dnsServers: string[];
  /** The public host name of the mail service (MX target, mail-client settings). */
  mailHost: string | undefined;
  /** The HTTPS listener and ACME certificates. */
  tls: TlsConfig;
  /** The IMAP listeners (143 STARTTLS, 993 implicit TLS) and their limits. */
  imap: ImapConfig;
  /** Serving processes sharing every listener (config/processes_config.ts). */
  processes: number;
  /** Whether listeners are bound with SO_REUSEPORT (more than one process). */
  reusePort: boolean;
  /** Read workers of each serving process; 0: queries on the main thread (config/read_workers_config.ts). */
  readWorkers: number;
}

/**
 * Default of the overall cap. Each connection uses three file descriptors (the client's socket and
 * both ends of the front's loopback hop to the HTTP server), so the cap is lowered at start to fit
 * the open-file limit (see capForDescriptors in http/connection_limits.ts).
 */
export const DEFAULT_MAX_CONNECTIONS = 4096;
/**
 * Default of the per-address cap: a household or office behind one NAT, each browser holding up to
 * six connections per host and each JMAP client an EventSource or WebSocket besides its requests, stays
 * well under it (Postfix's smtpd_client_connection_count_limit is 50).
 */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 64;
/** Default header timeout: as nginx's client_header_timeout order of magnitude (Apache: 20-40 s). */
export const DEFAULT_HEADER_TIMEOUT_SECONDS = 30;
/**
 * Default idle timeout. Event streams and WebSockets are exempt (they are idle between events by
 * nature and hold an authenticated request); everything else that sends nothing either way this long
 * is closed (nginx's keepalive_timeout is 75 s).
 */
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 120;

/**
 * Default of `shutdownGraceSeconds` (POSTERN_SHUTDOWN_GRACE): well inside the 90 s systemd (and 30 s
 * Kubernetes) give a service before killing it, and longer than any ordinary request takes.
 */
export const DEFAULT_SHUTDOWN_GRACE_SECONDS = 10;
/** Upper bound of POSTERN_SHUTDOWN_GRACE: an hour. */
const MAX_SHUTDOWN_GRACE_SECONDS = 3600;

/** Raw options as the CLI parsed them (all optional strings). */
export interface ConfigInput extends SmtpConfigInput, MailHostInput, TlsConfigInput, ImapConfigInput {
  data?: string;
  listen?: string;
  domain?: string;
  logLevel?: string;
  trustedProxy?: string[];
  maxBodyBytes?: string;
  synchronous?: string;
  publicUrl?: string;
  corsOrigin?: string[];
  maxConnections?: string;
  maxConnectionsPerAddress?: string;
  headerTimeout?: string;
  idleTimeout?: string;
  /** false with --no-backup. */
  backup?: boolean;
  /** HOST[:PORT], comma-separated. */
  dnsServer?: string;
  /** A whole number or auto. */
  processes?: string;
  /** A whole number or auto. */
  readWorkers?: string;
}

export { ConfigError };

/** Every environment variable Postern reads, with what it sets (for the README and `--help`). */
export const ENVIRONMENT = {
  POSTERN_DATA: "data directory (default ./data)",
  POSTERN_LISTEN: "address to listen on, host:port (default 127.0.0.1:8080)",
  POSTERN_DOMAIN: "domain created on first start (default localhost)",
  POSTERN_ADMIN_PASSWORD:
    "password of the admin account created on first start (default: random, printed once)",
  POSTERN_ENCRYPTION_KEY: "the encryption key itself (base64, at least 32 bytes)",
  POSTERN_ENCRYPTION_KEY_FILE: "file holding the encryption key (default DATA/encryption.key, created 0600)",
  POSTERN_LOG_LEVEL: "debug, info, warning or error (default info)",
  POSTERN_TRUSTED_PROXIES: "comma-separated proxy addresses whose X-Forwarded-* headers are trusted",
  POSTERN_MAX_BODY_BYTES: "largest request body accepted (default 10485760)",
  POSTERN_SYNCHRONOUS: "SQLite synchronous mode, NORMAL or FULL (default NORMAL)",
  POSTERN_BUSY_TIMEOUT_MS:
    "milliseconds a write waits for another process's database lock before a 503 (default 5000)",
  POSTERN_PUBLIC_URL: "external base URL, e.g. https://mail.example.org (default: from the request)",
  POSTERN_CORS_ORIGINS:
    "comma-separated origins allowed to call the APIs from a browser, or * (default: none)",
  POSTERN_CORS_MAX_AGE: "seconds a browser may cache a CORS preflight (default 7200)",
  POSTERN_PUSH_PRIVATE_TARGETS:
    "allow: web pushes may go to loopback and private addresses (default deny: public addresses only)",
  POSTERN_SHUTDOWN_GRACE:
    `seconds a shutdown waits for requests in progress before stopping anyway, 0 to ${MAX_SHUTDOWN_GRACE_SECONDS} (default ${DEFAULT_SHUTDOWN_GRACE_SECONDS})`,
  POSTERN_MAX_CONNECTIONS:
    `connections held at once, all clients (default ${DEFAULT_MAX_CONNECTIONS}, lowered to fit the open-file limit)`,
  POSTERN_MAX_CONNECTIONS_PER_ADDRESS:
    `connections held at once from one address or IPv6 /64 (default ${DEFAULT_MAX_CONNECTIONS_PER_ADDRESS})`,
  POSTERN_HEADER_TIMEOUT:
    `seconds a new connection has to send its first request head (default ${DEFAULT_HEADER_TIMEOUT_SECONDS})`,
  POSTERN_IDLE_TIMEOUT:
    `seconds a connection may stay silent before it is closed (default ${DEFAULT_IDLE_TIMEOUT_SECONDS})`,
  ...SMTP_ENVIRONMENT,
  ...IMAP_ENVIRONMENT,
  ...DNS_ENVIRONMENT,
  ...MAIL_HOST_ENVIRONMENT,
  ...TLS_ENVIRONMENT,
  ...PROCESSES_ENVIRONMENT,
  ...READ_WORKERS_ENVIRONMENT,
} as const;

/** Resolves flags and environment into a validated Config. */
export function resolveConfig(input: ConfigInput, env: Record<string, string | undefined>): Config {
  const dataDir = input.data ?? env.POSTERN_DATA ?? "./data";
  const listen = input.listen ?? env.POSTERN_LISTEN ?? "127.0.0.1:8080";
  const { hostname, port } = parseListen(listen);
  const logLevel = (input.logLevel ?? env.POSTERN_LOG_LEVEL ?? "info").toLowerCase();
  if (!["debug", "info", "warning", "error"].includes(logLevel)) {
    throw new ConfigError(`Invalid log level "${logLevel}": use debug, info, warning or error`);
  }
  const synchronous = (input.synchronous ?? env.POSTERN_SYNCHRONOUS ?? "NORMAL").toUpperCase();
  if (synchronous !== "NORMAL" && synchronous !== "FULL") {
    throw new ConfigError(`Invalid synchronous mode "${synchronous}": use NORMAL or FULL`);
  }
  const busyText = env.POSTERN_BUSY_TIMEOUT_MS ?? String(DEFAULT_BUSY_TIMEOUT_MS);
  const busyTimeoutMs = Number(busyText);
  if (!/^\d{1,6}$/.test(busyText) || busyTimeoutMs > MAX_BUSY_TIMEOUT_MS) {
    throw new ConfigError(
      `Invalid POSTERN_BUSY_TIMEOUT_MS "${busyText}": whole milliseconds from 0 to ${MAX_BUSY_TIMEOUT_MS}`,
    );
  }
  const maxBody = input.maxBodyBytes ?? env.POSTERN_MAX_BODY_BYTES ?? "10485760";
  const maxBodyBytes = Number(maxBody);
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1024) {
    throw new ConfigError(`Invalid max body size "${maxBody}": a whole number of bytes, at least 1024`);
  }
  const publicUrl = input.publicUrl ?? env.POSTERN_PUBLIC_URL;
  if (publicUrl !== undefined && !isWebUrl(publicUrl)) {
    throw new ConfigError(
      `Invalid public URL "${publicUrl}": use an absolute URL such as https://mail.example.org`,
    );
  }
  const domainInput = input.domain ?? env.POSTERN_DOMAIN ?? "localhost";
  const domainParsed = domainNameSchema.safeParse(domainInput);
  if (!domainParsed.success) {
    throw new ConfigError(`Invalid domain "${domainInput}": use a domain name such as example.org`);
  }
  const domain = domainParsed.data;
  const corsOrigins = input.corsOrigin ??
    (env.POSTERN_CORS_ORIGINS?.split(",").map((s) => s.trim()).filter(Boolean) ?? []);
  for (const origin of corsOrigins) {
    if (origin !== "*" && !isOrigin(origin)) {
      throw new ConfigError(
        `Invalid CORS origin "${origin}": use an origin such as https://webmail.example.org (no path), or *`,
      );
    }
  }
  const maxAgeText = env.POSTERN_CORS_MAX_AGE ?? "7200";
  const corsMaxAgeSeconds = Number(maxAgeText);
  if (!Number.isSafeInteger(corsMaxAgeSeconds) || corsMaxAgeSeconds < 0 || corsMaxAgeSeconds > 86_400) {
    throw new ConfigError(`Invalid CORS max age "${maxAgeText}": whole seconds from 0 to 86400`);
  }
  const pushTargets = (env.POSTERN_PUSH_PRIVATE_TARGETS || "deny").toLowerCase();
  if (pushTargets !== "allow" && pushTargets !== "deny") {
    throw new ConfigError(`Invalid POSTERN_PUSH_PRIVATE_TARGETS "${pushTargets}": allow or deny`);
  }
  const graceText = env.POSTERN_SHUTDOWN_GRACE || String(DEFAULT_SHUTDOWN_GRACE_SECONDS);
  const shutdownGraceSeconds = /^\d{1,7}$/.test(graceText) ? Number(graceText) : NaN;
  if (!(shutdownGraceSeconds <= MAX_SHUTDOWN_GRACE_SECONDS)) {
    throw new ConfigError(
      `Invalid POSTERN_SHUTDOWN_GRACE "${graceText}": whole seconds from 0 to ${MAX_SHUTDOWN_GRACE_SECONDS}`,
    );
  }
  const maxConnectionsText = input.maxConnections ?? env.POSTERN_MAX_CONNECTIONS;
  const maxConnections = maxConnectionsText === undefined || maxConnectionsText === ""
    ? undefined
    : wholeNumber(maxConnectionsText, "max connections (--max-connections)", 1, 1_000_000);
  const maxConnectionsPerAddress = wholeNumber(
    input.maxConnectionsPerAddress ?? env.POSTERN_MAX_CONNECTIONS_PER_ADDRESS ??
      String(DEFAULT_MAX_CONNECTIONS_PER_ADDRESS),
    "max connections per address (--max-connections-per-address)",
    1,
    1_000_000,
  );
  const headerTimeoutSeconds = wholeNumber(
    input.headerTimeout ?? env.POSTERN_HEADER_TIMEOUT ?? String(DEFAULT_HEADER_TIMEOUT_SECONDS),
    "header timeout (--header-timeout), in seconds",
    1,
    3_600,
  );
  const idleTimeoutSeconds = wholeNumber(
    input.idleTimeout ?? env.POSTERN_IDLE_TIMEOUT ?? String(DEFAULT_IDLE_TIMEOUT_SECONDS),
    "idle timeout (--idle-timeout), in seconds",
    1,
    86_400,
  );
  const encryptionKey: SecretKeySource = env.POSTERN_ENCRYPTION_KEY
    ? { kind: "env", name: "POSTERN_ENCRYPTION_KEY" }
    : { kind: "file", path: env.POSTERN_ENCRYPTION_KEY_FILE ?? `${dataDir}/encryption.key` };
  const acme = Boolean(input.acmeDirectory ?? (env.POSTERN_ACME_DIRECTORY || undefined));
  const smtp = resolveSmtpConfig(input, env, parseListen, acme);
  const imap = resolveImapConfig(input, env, { parseListen, tls: acme || smtp.tlsCertFile !== undefined });
  const mailHost = resolveMailHost(input, env, { publicUrl });
  const tls = resolveTlsConfig(input, env, {
    parseListen,
    domain,
    publicUrl,
    mailHost,
    tlsFiles: smtp.tlsCertFile !== undefined,
  });
  const processes = resolveProcesses(input.processes ?? (env.POSTERN_PROCESSES || "1"));
  return {
    dataDir,
    databasePath: `${dataDir}/postern.db`,
    hostname,
    port,
    domain,
    adminPassword: env.POSTERN_ADMIN_PASSWORD || undefined,
    encryptionKey,
    logLevel: logLevel as Config["logLevel"],
    trustedProxies: input.trustedProxy ??
      (env.POSTERN_TRUSTED_PROXIES?.split(",").map((s) => s.trim()).filter(Boolean) ?? []),
    maxBodyBytes,
    synchronous,
    busyTimeoutMs,
    publicUrl,
    corsOrigins,
    corsMaxAgeSeconds,
    pushPrivateTargets: pushTargets === "allow",
    shutdownGraceSeconds,
    maxConnections,
    maxConnectionsPerAddress,
    headerTimeoutSeconds,
    idleTimeoutSeconds,
    migrationBackup: input.backup !== false,
    smtp,
    imap,
    tls,
    dnsServers: resolveDnsServers(input.dnsServer, env),
    mailHost,
    processes,
    reusePort: processes > 1,
    readWorkers: resolveReadWorkers(input.readWorkers ?? (env.POSTERN_READ_WORKERS || "auto"), { processes }),
  };
}

/**
 * The configuration one of `config.processes` serving processes enforces: its share of each cap on what
 * one client address holds at once (HTTP, SMTP, IMAP; see shareOf). Overall caps stay whole: they
 * protect each process's own file descriptors.
 */
export function perProcessConfig(config: Config): Config {
  if (config.processes === 1) return config;
  const share = (cap: number) => shareOf(cap, config.processes);
  return {
    ...config,
    maxConnectionsPerAddress: share(config.maxConnectionsPerAddress),
    smtp: { ...config.smtp, maxConnectionsPerAddress: share(config.smtp.maxConnectionsPerAddress) },
    imap: { ...config.imap, maxConnectionsPerAddress: share(config.imap.maxConnectionsPerAddress) },
  };
}

function isOrigin(text: string): boolean {
  if (!isWebUrl(text)) return false;
  const url = new URL(text);
  return url.origin === text.replace(/\/$/, "").toLowerCase() || url.origin === text.replace(/\/$/, "");
}

function isWebUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
}

function parseListen(listen: string): { hostname: string; port: number } {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(listen);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) {
    throw new ConfigError(
      `Invalid listen address "${listen}": use host:port, e.g. 127.0.0.1:8080 or [::1]:8080`,
    );
  }
  return { hostname: match[1].replace(/^\[|\]$/g, ""), port };
}
