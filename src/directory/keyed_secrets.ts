/**
 * App passwords, API keys and OAuth client secrets are stored as keyed hashes (src/auth/keyed_hash.ts)
 * under a random key of this data directory. A snapshot in local mode carries that key and the hashes,
 * so `apply` on another directory keeps every such secret working; nothing here ever sees a secret.
 */
import { InvalidInputError, type Store } from "./deps.ts";

/** The setting holding the credential key (base64 of 32 bytes). */
export const CREDENTIAL_KEY_SETTING = "_internal.credentialHashKey";

const KEY_PATTERN = /^[A-Za-z0-9+/]{43}=$/;
const HASH_PATTERN = /^[0-9a-f]{64}$/;

/** Whether a value is a credential key as a snapshot writes it. */
export function isCredentialKey(value: unknown): value is string {
  return typeof value === "string" && KEY_PATTERN.test(value);
}

/** Whether a value is a keyed hash as a snapshot writes it (64 hex digits). */
export function isKeyedHash(value: unknown): value is string {
  return typeof value === "string" && HASH_PATTERN.test(value);
}

/** Reads and writes the credential key and keyed hashes, for snapshots. */
export class KeyedSecrets {
  constructor(
    private readonly store: Store,
    /** Makes this process hash with a new key (the next key lookup or secret created uses it). */
    private readonly useKey: (key: Uint8Array) => Promise<void>,
  ) {}

  /** The credential key, base64. */
  async key(): Promise<string> {
    return String(await this.store.settings.get(CREDENTIAL_KEY_SETTING));
  }

  /** Replaces the credential key: every keyed hash made under the old one stops matching. */
  async setKey(base64: string): Promise<void> {
    if (!isCredentialKey(base64)) throw new InvalidInputError("A credential key is base64 of 32 bytes");
    await this.store.transaction(() => this.store.settings.put(CREDENTIAL_KEY_SETTING, base64));
    await this.useKey(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
  }

  /** The keyed hash of an app password, API key (`credential`) or OAuth client (`client`). */
  async hash(kind: "credential" | "client", id: number): Promise<string | undefined> {
    if (kind === "client") return (await this.store.oauth.client(id))?.secretHash ?? undefined;
    const credential = await this.store.credentials.get(id);
    return credential && credential.type !== "Password" ? credential.hash : undefined;
  }

  /** Sets the keyed hash of an app password, API key or confidential OAuth client. */
  async setHash(kind: "credential" | "client", id: number, hash: string): Promise<void> {
    if (!isKeyedHash(hash)) throw new InvalidInputError("A keyed hash is 64 hexadecimal digits");
    await this.store.transaction(async () => {
      if (kind === "credential") {
        if (!await this.store.credentials.setKeyHash(id, hash)) {
          throw new InvalidInputError(`No app password or API key ${id} to set a hash on`);
        }
        return;
      }
      const client = await this.store.oauth.client(id);
      if (!client || client.type !== "Confidential") {
        throw new InvalidInputError(`No confidential OAuth client ${id} to set a secret hash on`);
      }
      await this.store.oauth.updateClient(id, { ...client, secretHash: hash });
      // A new secret for the client: every process drops the client it holds (and the secret it
      // verified) before its next request, as for any other change of the client.
      await this.store.invalidations.append([{ kind: "oauthClient", clientId: id }]);
    });
  }
}
