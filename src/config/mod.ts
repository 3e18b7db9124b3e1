/** Bootstrap configuration: flags and environment resolved once at boot, the encryption key, logging. */
export {
  ConfigError,
  DEFAULT_HEADER_TIMEOUT_SECONDS,
  DEFAULT_IDLE_TIMEOUT_SECONDS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  ENVIRONMENT,
  perProcessConfig,
  resolveConfig,
} from "./config.ts";
export { processSupport, resolveProcesses } from "./processes_config.ts";
export type { Config, ConfigInput, SecretKeySource } from "./config.ts";
export { SMTP_DEFAULTS } from "./smtp_config.ts";
export { dnsServer, resolveDnsServers } from "./dns_config.ts";
export { mailEndpoints } from "./mail_endpoints.ts";
export type { SmtpConfig } from "./smtp_config.ts";
export { IMAP_DEFAULTS } from "./imap_config.ts";
export type { ImapConfig } from "./imap_config.ts";
export { LETS_ENCRYPT_DIRECTORY } from "./tls_config.ts";
export type { AcmeChallenge, AcmeConfig, TlsConfig } from "./tls_config.ts";
export {
  closeLogging,
  fastLogger,
  jsonLogLine,
  type LogLevel,
  renderMessage,
  setupLogging,
} from "./logging.ts";
export { loadSecretKey } from "./secret_key.ts";
export { dataDirError, listenAddress, listenError, listenOrExplain, StartError } from "./start_error.ts";
