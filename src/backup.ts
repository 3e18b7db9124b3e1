/**
 * Backups of a data directory: `postern backup` and `postern restore`.
 *
 * A backup is a directory holding `manifest.json`, `postern.db` (one consistent snapshot of the
 * database, a single file with no -wal) and `encryption.key` (the key that seals tokens, signing keys
 * and secret settings; absent when the key comes from POSTERN_ENCRYPTION_KEY). The manifest names
 * the Postern version, the schema version, the time and each file's size and SHA-256. A backup is
 * built under a temporary name beside its destination and renamed into place when complete, so a
 * directory with the requested name is always a whole backup.
 */
import { createHash } from "node:crypto";
import { type Config, ConfigError } from "./config/mod.ts";
import { ConflictError, InvalidInputError } from "./model/errors.ts";
import {
  checkDatabaseFile,
  copyDatabase,
  copyStamp,
  installDatabase,
  keepBeforeRestore,
  keepFileBeforeRestore,
  lockPathOf,
  storedSchemaVersion,
  syncFile,
  tryExclusiveLock,
} from "./store/mod.ts";
import { SCHEMA_VERSION, VERSION } from "./version.ts";

const DATABASE = "postern.db";
const KEY = "encryption.key";
const MANIFEST = "manifest.json";
const FORMAT = "postern-backup";

/** One file of a backup as the manifest lists it. */
export interface BackupFile {
  name: typeof DATABASE | typeof KEY;
  bytes: number;
  sha256: string;
}

/** `manifest.json` of a backup. */
export interface BackupManifest {
  format: typeof FORMAT;
  formatVersion: 1;
  posternVersion: string;
  schemaVersion: number;
  createdAt: string;
  /** Where the encryption key is: in the backup, or left out because it came from a variable. */
  encryptionKey: "included" | "not included (POSTERN_ENCRYPTION_KEY)";
  files: BackupFile[];
}

/** Writes a backup of the data directory of `config` to `out`, which must not exist yet. */
export async function createBackup(
  config: Config,
  out: string,
  options: { onProgress?: (done: number, total: number) => void } = {},
): Promise<BackupManifest> {
  const slash = out.replace(/\/+$/, "").lastIndexOf("/");
  const parent = slash < 0 ? "." : out.slice(0, slash) || "/";
  const unwritable = (error: unknown) => {
    throw new InvalidInputError(`Cannot write the backup in ${parent}: ${reason(error)}`);
  };
  if (await exists(out).catch(unwritable)) {
    throw new ConfigError(`Backup destination ${out} already exists; give a new name`);
  }
  if (!await exists(config.databasePath)) {
    throw new InvalidInputError(`No Postern database at ${config.databasePath}; check --data`);
  }
  const temp = `${parent}/.${out.slice(slash + 1).replace(/\/+$/, "")}.partial-${Deno.pid}`;
  await Deno.mkdir(temp, { mode: 0o700 }).catch(unwritable);
  try {
    const copy = await copyDatabase(config.databasePath, `${temp}/${DATABASE}`, options);
    const keyPath = config.encryptionKey.kind === "file" ? config.encryptionKey.path : undefined;
    // Without its key the database's tokens, signing keys and sealed settings cannot be used.
    const key = keyPath === undefined ? undefined : await Deno.readFile(keyPath).catch((error) => {
      throw new InvalidInputError(`Cannot read the encryption key ${keyPath}: ${reason(error)}`);
    });
    if (key) await Deno.writeFile(`${temp}/${KEY}`, key, { mode: 0o600 });
    const files: BackupFile[] = [];
    for (const name of key ? [DATABASE, KEY] as const : [DATABASE] as const) {
      await syncFile(`${temp}/${name}`);
      files.push({ name, ...await digest(`${temp}/${name}`) });
    }
    const manifest: BackupManifest = {
      format: FORMAT,
      formatVersion: 1,
      posternVersion: VERSION,
      schemaVersion: copy.schemaVersion,
      createdAt: new Date().toISOString(),
      encryptionKey: key ? "included" : "not included (POSTERN_ENCRYPTION_KEY)",
      files,
    };
    await Deno.writeTextFile(`${temp}/${MANIFEST}`, JSON.stringify(manifest, null, 2) + "\n");
    await syncFile(`${temp}/${MANIFEST}`);
    await syncFile(temp);
    await Deno.rename(temp, out);
    await syncFile(parent);
    return manifest;
  } catch (error) {
    await Deno.remove(temp, { recursive: true }).catch(() => undefined);
    throw error;
  }
}

/** What a restore did. */
export interface RestoreReport {
  manifest: BackupManifest;
  database: string;
  /** Where the key went, or why it did not. */
  encryptionKey: string;
  /** Copies of what a forced restore replaced (the database, the key), newest KEPT_COPIES kept. */
  kept: string[];
}

/**
 * Puts the backup at `from` in the data directory of `config`: checks the manifest and every file's
 * hash, refuses while any process has the target database open, and refuses a target that holds
 * anything unless `force`. What a forced restore replaces is kept beside it (src/store/backup_files.ts).
 */
export async function restoreBackup(
  config: Config,
  from: string,
  options: { force?: boolean } = {},
): Promise<RestoreReport> {
  const manifest = await verifiedManifest(from);
  await Deno.mkdir(config.dataDir, { recursive: true, mode: 0o700 }).catch((error) => {
    throw new InvalidInputError(`Cannot create the data directory ${config.dataDir}: ${reason(error)}`);
  });
  const lock = tryExclusiveLock(config.databasePath);
  if (!lock) {
    throw new ConflictError(
      `Cannot restore into ${config.dataDir}: a Postern process (a server, the CLI or the admin UI) has its ` +
        "database open; stop it first",
      "inUse",
    );
  }
  try {
    const present = [...Deno.readDirSync(config.dataDir)].map((entry) => entry.name)
      .filter((name) => name !== lockPathOf(DATABASE));
    if (present.length > 0 && !options.force) {
      throw new ConfigError(
        `Cannot restore into ${config.dataDir}: it is not empty (${present.slice(0, 3).join(", ")}` +
          `${present.length > 3 ? ", …" : ""}); pass --force to replace its database and key`,
      );
    }
    const hasKey = manifest.files.some((file) => file.name === KEY);
    const kept: string[] = [];
    const stamp = copyStamp();
    const keptDatabase = await keepBeforeRestore(config.databasePath, stamp);
    if (keptDatabase) kept.push(keptDatabase);
    let encryptionKey: string;
    if (config.encryptionKey.kind !== "file") {
      encryptionKey = "not written: this directory's key comes from POSTERN_ENCRYPTION_KEY";
    } else if (!hasKey) {
      encryptionKey = "not in the backup: set POSTERN_ENCRYPTION_KEY as when it was taken";
    } else {
      const path = config.encryptionKey.path;
      // The old database's sealed secrets open only with the old key: keep it with its copy.
      const keptKey = keptDatabase ? await keepFileBeforeRestore(path, stamp) : undefined;
      if (keptKey) kept.push(keptKey);
      await Deno.writeFile(`${path}.restoring`, await Deno.readFile(`${from}/${KEY}`), { mode: 0o600 });
      await syncFile(`${path}.restoring`);
      await Deno.rename(`${path}.restoring`, path);
      encryptionKey = path;
    }
    await installDatabase(`${from}/${DATABASE}`, config.databasePath);
    await syncFile(config.dataDir);
    return { manifest, database: config.databasePath, encryptionKey, kept };
  } finally {
    lock.close();
  }
}

/** The manifest of the backup at `from`, after checking it and every file it lists. */
export async function verifiedManifest(from: string): Promise<BackupManifest> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${from}/${MANIFEST}`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound && !await exists(from)) {
      throw new InvalidInputError(`No backup at ${from}`);
    }
    throw new InvalidInputError(`Not a readable Postern backup: ${from}/${MANIFEST}: ${reason(error)}`);
  }
  const manifest = parseManifest(text, from);
  for (const file of manifest.files) {
    const path = `${from}/${file.name}`;
    const actual = await digest(path).catch((error) => {
      throw new InvalidInputError(`Backup ${from} is incomplete: ${file.name}: ${reason(error)}`);
    });
    if (actual.sha256 !== file.sha256 || actual.bytes !== file.bytes) {
      throw new InvalidInputError(
        `Backup ${from} is damaged: ${file.name} does not match its SHA-256 in ${MANIFEST}`,
      );
    }
  }
  const problems = checkDatabaseFile(`${from}/${DATABASE}`);
  if (problems.length > 0) {
    throw new InvalidInputError(`Backup ${from} is damaged: ${DATABASE} fails its check: ${problems[0]}`);
  }
  const schema = storedSchemaVersion(`${from}/${DATABASE}`);
  if (schema > SCHEMA_VERSION) {
    throw new InvalidInputError(
      `Backup ${from} has schema version ${schema}, newer than this Postern knows (${SCHEMA_VERSION}); ` +
        `restore it with Postern ${manifest.posternVersion} or later`,
    );
  }
  return manifest;
}

function parseManifest(text: string, from: string): BackupManifest {
  let value: Partial<BackupManifest>;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidInputError(`Backup ${from} is damaged: ${MANIFEST} is not JSON`);
  }
  const files = Array.isArray(value?.files) ? value.files : [];
  const wellFormed = value?.format === FORMAT && value.formatVersion === 1 &&
    typeof value.schemaVersion === "number" && files.some((file) => file?.name === DATABASE) &&
    files.every((file) =>
      (file?.name === DATABASE || file?.name === KEY) && Number.isSafeInteger(file.bytes) &&
      /^[0-9a-f]{64}$/.test(String(file.sha256))
    );
  if (!wellFormed) {
    throw new InvalidInputError(
      `Backup ${from} has a ${MANIFEST} this Postern cannot read (format ${FORMAT} version 1 expected)`,
    );
  }
  return value as BackupManifest;
}

async function digest(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash("sha256");
  let bytes = 0;
  const file = await Deno.open(path, { read: true });
  // The stream closes the file when it ends or fails.
  for await (const chunk of file.readable) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest("hex") };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // Deno's messages end with the call and path ("…: readfile '/x'"); the path is already named.
  return message.replace(/ \(os error \d+\)/, "").replace(/: \w+ '[^']*'$/, "").replace(
    /,? ?\w+ '[^']*'$/,
    "",
  );
}
