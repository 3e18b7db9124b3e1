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

/** Reads and writes singleton settings objects stored in the database. */
export class SettingsService {
  /** Applies this process's own settings events (other processes read them from the log). */
  applyLocally: (event: InvalidationEvent) => void | Promise<void> = () => {};

  constructor(private readonly store: Store) {}

  /** The current value of a singleton, defaults filled in for missing fields. */
  async get<K extends keyof SettingsMap>(name: K): Promise<SettingsMap[K]> {
    const stored = (await this.store.settings.get(name)) as Record<string, unknown> | undefined;
    return { ...singletonDefaults(spec(name)), ...(stored ?? {}) } as unknown as SettingsMap[K];
  }

  /** Validates and stores a partial update of a singleton; returns the new value. */
  async update<K extends keyof SettingsMap>(name: K, patch: unknown): Promise<SettingsMap[K]> {
    const checked = validateObject(spec(name), patch, { mode: "update" });
    if (!checked.ok) {
      throw new InvalidInputError(`Cannot update ${name}: invalid properties`, checked.problems);
    }
    const next = { ...(await this.get(name)), ...checked.value };
    await this.store.transaction(async () => {
      await this.store.settings.put(name, next);
      await this.store.invalidations.append([{ kind: "settings", name }]);
      await this.store.changes.append([{ type: name, objectId: 0, kind: "updated", accountId: null }]);
    });
    // Reloads that depend on the setting (the OAuth provider's, the hashers') finish before returning.
    await this.applyLocally({ kind: "settings", name });
    return next as SettingsMap[K];
  }
}

function spec(name: string): ObjectSpec {
  const found = OBJECT_SPECS[name];
  if (!found?.singleton) throw new Error(`${name} is not a settings object`);
  return found;
}
