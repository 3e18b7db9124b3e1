import type { Db } from "./db.ts";

/** Persistence of singleton settings objects, stored as JSON by key. */
export interface SettingsRepository {
  get(key: string): Promise<unknown | undefined>;
  put(key: string, value: unknown): Promise<void>;
  all(): Promise<Record<string, unknown>>;
}

/** SQLite implementation of {@link SettingsRepository}. */
export function sqliteSettings(db: Db): SettingsRepository {
  return {
    get(key) {
      const row = db.get<{ value: string }>("SELECT value FROM settings WHERE key = ?", key);
      return Promise.resolve(row ? JSON.parse(row.value) : undefined);
    },
    put(key, value) {
      db.run(
        `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        key,
        JSON.stringify(value),
        Date.now(),
      );
      return Promise.resolve();
    },
    all() {
      const rows = db.all<{ key: string; value: string }>("SELECT key, value FROM settings ORDER BY key");
      return Promise.resolve(Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value)])));
    },
  };
}
