/** Bootstrap configuration: flags and environment resolved once at boot, the encryption key, logging. */
export { ConfigError, ENVIRONMENT, resolveConfig } from "./config.ts";
export type { Config, ConfigInput, SecretKeySource } from "./config.ts";
export { closeLogging, setupLogging } from "./logging.ts";
export { loadSecretKey } from "./secret_key.ts";
