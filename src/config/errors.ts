/** A configuration error: the message names the flag or variable and the bad value. */
export class ConfigError extends Error {
  override name = "ConfigError";
}
