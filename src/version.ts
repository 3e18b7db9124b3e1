/** Postern's version, reported by /healthz and --version. */
export const VERSION = "0.1.0";

/**
 * The database schema version this build creates and reads: the number of migrations in
 * src/store/migrations/mod.ts (a test keeps the two equal). Shown by --version.
 */
export const SCHEMA_VERSION = 43;
