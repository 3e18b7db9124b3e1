import {
  type AuthenticationSettings,
  type CacheSettings,
  InvalidInputError,
  OBJECT_SPECS,
  type ObjectSpec,
  type OidcProviderSettings,
  type SharingSettings,
  singletonDefaults,
  type SmarthostSettings,
  validateObject,
} from "./deps.ts";
import type { InvalidationEvent, Store } from "./deps.ts";

/** Singleton settings objects by name, with defaults filled in. */
export interface SettingsMap {
  Cache: CacheSettings;
  Authentication: AuthenticationSettings;
  OidcProvider: OidcProviderSettings;
  Sharing: SharingSettings;
  Smarthost: SmarthostSettings;
}

/** Seals secrets for storage and opens them (under the server's encryption key). */
export interface SecretSealer {
  seal(text: string): string;
  /** Throws when the text was not sealed under this key. */
  open(sealed: string): string;
}

/** How a sealed value is told from one stored before secrets were sealed (read as it is). */
const SEALED = "sealed:";

/**
 * Reads and writes singleton settings objects stored in the database. Write-only fields (the
 * smarthost's password) are stored sealed when a sealer is given; one sealed under another key reads
 * as null, as if never set.
 */
export class SettingsService {
  /** Applies this process's own settings events (other processes read them from the log). */
  applyLocally: (event: InvalidationEvent) => void | Promise<void> = () => {};

  constructor(private readonly store: Store, private readonly secrets?: SecretSealer) {}

  /** The current value of a singleton, defaults filled in for missing fields. */
  async get<K extends keyof SettingsMap>(name: K): Promise<SettingsMap[K]> {
    const stored = { ...(await this.store.settings.get(name)) as Record<string, unknown> | undefined };
    for (const field of secretFields(name)) {
      const value = stored[field];
      if (typeof value !== "string" || !value.startsWith(SEALED)) continue;
      try {
        stored[field] = this.secrets ? this.secrets.open(value.slice(SEALED.length)) : null;
      } catch {
        stored[field] = null;
      }
    }
    return { ...singletonDefaults(spec(name)), ...stored } as unknown as SettingsMap[K];
  }

  /** Validates and stores a partial update of a singleton; returns the new value. */
  async update<K extends keyof SettingsMap>(name: K, patch: unknown): Promise<SettingsMap[K]> {
    const checked = validateObject(spec(name), patch, { mode: "update" });
    if (!checked.ok) {
      throw new InvalidInputError(`Cannot update ${name}: invalid properties`, checked.problems);
    }
    const next = { ...(await this.get(name)), ...checked.value };
    const stored: Record<string, unknown> = { ...next };
    for (const field of secretFields(name)) {
      const value = stored[field];
      if (typeof value === "string" && this.secrets) stored[field] = SEALED + this.secrets.seal(value);
    }
    await this.store.transaction(async () => {
      await this.store.settings.put(name, stored);
      await this.store.invalidations.append([{ kind: "settings", name }]);
      await this.store.changes.append([{ type: name, objectId: 0, kind: "updated", accountId: null }]);
    });
    // Reloads that depend on the setting (the OAuth provider's, the hashers') finish before returning.
    await this.applyLocally({ kind: "settings", name });
    return next as SettingsMap[K];
  }
}

/** The write-only fields of a settings object: secrets, kept sealed. */
function secretFields(name: string): readonly string[] {
  // Settings are read on request paths (the session reads Sharing): worked out once per object.
  let fields = SECRET_FIELDS.get(name);
  if (!fields) {
    fields = Object.entries(spec(name).fields).filter(([, f]) => f.writeOnly).map(([field]) => field);
    SECRET_FIELDS.set(name, fields);
  }
  return fields;
}

const SECRET_FIELDS = new Map<string, string[]>();

function spec(name: string): ObjectSpec {
  const found = OBJECT_SPECS[name];
  if (!found?.singleton) throw new Error(`${name} is not a settings object`);
  return found;
}
