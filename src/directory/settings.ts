import {
  type AuthenticationSettings,
  type CacheSettings,
  InvalidInputError,
  OBJECT_SPECS,
  type ObjectSpec,
  type OidcProviderSettings,
  type OutboundSettings,
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
  Outbound: OutboundSettings;
}

/** Seals secrets for storage and opens them (under the server's encryption key). */
export interface SecretSealer {
  seal(text: string): string;
  /** Throws when the text was not sealed under this key. */
  open(sealed: string): string;
}

/** How a sealed value is told from one stored before secrets were sealed (read as it is). */
const SEALED = "sealed:";

/** A stored value that cannot be used (an older Postern or a hand edit stored it): read as the default. */
export interface StoredSettingProblem {
  /** Object and field, such as `Authentication.argon2MemoryKiB`. */
  setting: string;
  value: unknown;
  /** Why it cannot be used, in the schema's words (naming the limit). */
  reason: string;
  /** The command that stores the default in its place. */
  fix: string;
}

/** A settings change's effect, built before the write commits (a new password hasher). */
export interface SettingsEffect {
  /** Puts it in force; the write has committed. */
  commit(): void;
  /** Drops it; the write did not happen. */
  abort(): void;
}

/**
 * Builds the effect of a new value of a singleton before it is stored, proving it can be applied;
 * throws InvalidInputError (naming the property) to refuse the change.
 */
export type SettingsApplier<K extends keyof SettingsMap> = (
  next: SettingsMap[K],
  changed: readonly string[],
) => Promise<SettingsEffect | undefined>;

/**
 * Reads and writes singleton settings objects stored in the database. Write-only fields (the
 * smarthost's password) are stored sealed when a sealer is given; one sealed under another key reads
 * as null, as if never set. A stored value its field's schema refuses reads as the field's default
 * (see `problems`), so no stored row can stop a process from opening the database to repair it.
 */
export class SettingsService {
  /** Applies this process's own settings events (other processes read them from the log). */
  applyLocally: (event: InvalidationEvent) => void | Promise<void> = () => {};
  /** Told once per stored value that cannot be used, when it is first read. */
  onStoredProblem: (problem: StoredSettingProblem) => void = () => {};
  readonly #appliers = new Map<string, SettingsApplier<keyof SettingsMap>>();
  readonly #reported = new Set<string>();

  constructor(private readonly store: Store, private readonly secrets?: SecretSealer) {}

  /**
   * Registers what builds a singleton's effect before a change is stored: the change commits only
   * if it succeeds, and the effect is put in force only after the commit.
   */
  applyWith<K extends keyof SettingsMap>(name: K, applier: SettingsApplier<K>): void {
    this.#appliers.set(name, applier as unknown as SettingsApplier<keyof SettingsMap>);
  }

  /** The current value of a singleton, defaults filled in for missing or unusable fields. */
  async get<K extends keyof SettingsMap>(name: K): Promise<SettingsMap[K]> {
    return (await this.#read(name)).value;
  }

  /** Stored values that cannot be used (each read as its default), of one singleton or of all. */
  async problems(name?: keyof SettingsMap): Promise<StoredSettingProblem[]> {
    const names = name ? [name] : SETTINGS_OBJECTS;
    return (await Promise.all(names.map(async (n) => (await this.#read(n)).problems))).flat();
  }

  /** Validates a partial update of a singleton, builds its effect, stores it; returns the new value. */
  async update<K extends keyof SettingsMap>(name: K, patch: unknown): Promise<SettingsMap[K]> {
    const checked = validateObject(spec(name), patch, { mode: "update" });
    if (!checked.ok) {
      throw new InvalidInputError(
        `Cannot update ${name}: ${checked.problems.map((p) => p.message).join("; ")}`,
        checked.problems,
      );
    }
    const next = { ...(await this.get(name)), ...checked.value } as SettingsMap[K];
    const stored: Record<string, unknown> = { ...next };
    for (const field of secretFields(name)) {
      const value = stored[field];
      if (typeof value === "string" && this.secrets) stored[field] = SEALED + this.secrets.seal(value);
    }
    const effect = await this.#appliers.get(name)?.(next, Object.keys(checked.value));
    try {
      await this.store.transaction(async () => {
        await this.store.settings.put(name, stored);
        await this.store.invalidations.append([{ kind: "settings", name }]);
        await this.store.changes.append([{ type: name, objectId: 0, kind: "updated", accountId: null }]);
      });
    } catch (error) {
      effect?.abort();
      throw error;
    }
    effect?.commit();
    // Reloads that depend on the setting (the OAuth provider's, the caches') finish before returning.
    await this.applyLocally({ kind: "settings", name });
    return next;
  }

  async #read<K extends keyof SettingsMap>(
    name: K,
  ): Promise<{ value: SettingsMap[K]; problems: StoredSettingProblem[] }> {
    const row = await this.store.settings.get(name);
    const stored = { ...(typeof row === "object" ? row as Record<string, unknown> : undefined) };
    for (const field of secretFields(name)) {
      const value = stored[field];
      if (typeof value !== "string" || !value.startsWith(SEALED)) continue;
      try {
        stored[field] = this.secrets ? this.secrets.open(value.slice(SEALED.length)) : null;
      } catch {
        stored[field] = null;
      }
    }
    const declaration = spec(name);
    const value = singletonDefaults(declaration);
    const problems: StoredSettingProblem[] = [];
    for (const [field, raw] of Object.entries(stored)) {
      const fieldSpec = Object.hasOwn(declaration.fields, field) ? declaration.fields[field] : undefined;
      // A secret is checked where it is used (the token key stops a server's start, naming it): read
      // as a default, a bad key would be replaced by a new one, revoking every token.
      if (fieldSpec && !fieldSpec.writeOnly) {
        const parsed = fieldSpec.schema.safeParse(raw);
        if (!parsed.success) {
          problems.push(this.#problem(name, field, raw, parsed.error));
          continue;
        }
      }
      value[field] = raw;
    }
    return { value: value as unknown as SettingsMap[K], problems };
  }

  #problem(
    name: string,
    field: string,
    value: unknown,
    error: { issues: { message: string }[] },
  ): StoredSettingProblem {
    const fallback = spec(name).fields[field].default;
    const shown = typeof fallback === "object" && fallback !== null ? JSON.stringify(fallback) : fallback;
    const problem = {
      setting: `${name}.${field}`,
      value,
      reason: error.issues.map((issue) => issue.message).join("; "),
      fix: `postern update ${cliName(name)} singleton --field ${field}=${shown}`,
    };
    const key = `${problem.setting}=${JSON.stringify(value)}`;
    if (!this.#reported.has(key)) {
      if (this.#reported.size >= 1000) this.#reported.clear();
      this.#reported.add(key);
      this.onStoredProblem(problem);
    }
    return problem;
  }
}

/**
 * How a stored setting that cannot be used reads in a message: value, reason, and the command that
 * fixes it (on the given data directory).
 */
export function describeStoredProblem(problem: StoredSettingProblem, dataDir?: string): string {
  const data = dataDir === undefined
    ? ""
    : ` --data ${/^[\w./-]+$/.test(dataDir) ? dataDir : `'${dataDir}'`}`;
  return `${problem.setting} is stored as ${JSON.stringify(problem.value)}, which cannot be used ` +
    `(${problem.reason}); fix it with \`${problem.fix}${data}\``;
}

const SETTINGS_OBJECTS: (keyof SettingsMap)[] = [
  "Cache",
  "Authentication",
  "OidcProvider",
  "Sharing",
  "Smarthost",
  "Outbound",
];

/** The CLI's name of an object type: `OidcProvider` → `oidc-provider`. */
function cliName(name: string): string {
  return name.replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase();
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
