import { ConfigError, type SecretKeySource } from "./config.ts";

const KEY_BYTES = 64;

/**
 * Loads the encryption key. A key file that does not exist yet is created with 512 random bits and
 * mode 0600 (first start); a key from a value or variable must decode to at least 32 bytes.
 */
export async function loadSecretKey(
  source: SecretKeySource,
  env: Record<string, string | undefined>,
): Promise<{ key: Uint8Array; created: boolean }> {
  if (source.kind === "file") {
    try {
      return { key: decodeKey(await Deno.readTextFile(source.path), source.path), created: false };
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    const key = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
    await Deno.writeTextFile(source.path, toBase64(key) + "\n", { mode: 0o600, createNew: true });
    await Deno.chmod(source.path, 0o600).catch(() => undefined);
    return { key, created: true };
  }
  const text = source.kind === "value" ? source.value : env[source.name];
  if (!text) {
    throw new ConfigError(`Encryption key variable ${source.kind === "env" ? source.name : ""} is empty`);
  }
  return { key: decodeKey(text, source.kind === "env" ? `$${source.name}` : "value"), created: false };
}

function decodeKey(text: string, where: string): Uint8Array {
  let key: Uint8Array;
  try {
    key = Uint8Array.from(atob(text.trim()), (c) => c.charCodeAt(0));
  } catch {
    throw new ConfigError(`Encryption key in ${where} is not base64`);
  }
  if (key.length < 32) {
    throw new ConfigError(`Encryption key in ${where} has ${key.length} bytes; at least 32 are needed`);
  }
  return key;
}

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}
