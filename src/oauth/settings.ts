/** The OidcProvider singleton resolved for use: lifetimes in milliseconds and the token key's bytes. */
import { durationSeconds, MisconfigurationError, type OidcProviderSettings, type SecretKey } from "./deps.ts";
import { toBase64Url } from "./token_codec.ts";

/** Lifetimes and limits the provider works with. */
export interface ProviderSettings {
  accessTokenMs: number;
  refreshTokenMs: number;
  /** Longest life of a refresh family from its creation, however often it is refreshed. */
  refreshAbsoluteMs: number;
  refreshRenewalMs: number;
  reuseGraceMs: number;
  userCodeMs: number;
  authCodeMs: number;
  idTokenMs: number;
  sessionMs: number;
  deviceIntervalSeconds: number;
  authCodeMaxAttempts: number;
  signatureAlgorithm: OidcProviderSettings["signatureAlgorithm"];
  allowDynamicRegistration: boolean;
}

/** Converts the stored singleton into milliseconds. */
export function resolveSettings(raw: OidcProviderSettings): ProviderSettings {
  const ms = (v: string) => durationSeconds(v) * 1000;
  return {
    accessTokenMs: ms(raw.accessTokenExpiry),
    refreshTokenMs: ms(raw.refreshTokenExpiry),
    refreshAbsoluteMs: ms(raw.refreshTokenAbsoluteExpiry),
    refreshRenewalMs: ms(raw.refreshTokenRenewal),
    reuseGraceMs: ms(raw.refreshTokenReuseGrace),
    userCodeMs: ms(raw.userCodeExpiry),
    authCodeMs: ms(raw.authCodeExpiry),
    idTokenMs: ms(raw.idTokenExpiry),
    sessionMs: ms(raw.sessionExpiry),
    deviceIntervalSeconds: durationSeconds(raw.deviceCodeInterval),
    authCodeMaxAttempts: raw.authCodeMaxAttempts,
    signatureAlgorithm: raw.signatureAlgorithm,
    allowDynamicRegistration: raw.allowDynamicRegistration,
  };
}

/** The token key could not be read (a missing variable or file): tokens cannot be issued or checked. */
export class KeyUnavailableError extends MisconfigurationError {
  override name = "KeyUnavailableError";
}

/**
 * The bytes of a SecretKey: the value itself, an environment variable (from the environment read at
 * boot) or a file's contents, trimmed of surrounding white space.
 */
export async function secretKeyBytes(
  key: SecretKey,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Uint8Array> {
  let text: string | undefined;
  switch (key["@type"]) {
    case "Value":
      text = key.secret;
      break;
    case "EnvironmentVariable":
      text = env[key.variableName];
      if (!text) {
        throw new KeyUnavailableError(`encryptionKey: environment variable ${key.variableName} is not set`);
      }
      break;
    case "File":
      try {
        text = await Deno.readTextFile(key.filePath);
      } catch (error) {
        throw new KeyUnavailableError(
          `encryptionKey: cannot read ${key.filePath}: ${(error as Error).message}`,
        );
      }
  }
  const trimmed = text.trim();
  if (trimmed.length < 32) {
    throw new KeyUnavailableError(
      `encryptionKey from ${key["@type"]} has ${trimmed.length} characters; 32 or more are needed`,
    );
  }
  return new TextEncoder().encode(trimmed);
}

/** A new 512-bit key as text (86 base64url characters). */
export function generateKeyText(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(64)));
}
