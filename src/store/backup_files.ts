/**
 * The copies Postern keeps beside the database, and how many: a schema upgrade copies the database
 * first (`postern.db.schema-<version>.<time>.bak`, src/store/connection.ts), a restore with --force
 * keeps what it replaces (`postern.db.before-restore.<time>.bak`, and the key it replaced as
 * `encryption.key.before-restore.<time>.bak`). Of each kind the newest KEPT_COPIES stay; older ones
 * are deleted when a new one is made, so copies never fill the disk.
 */
import { DatabaseSync } from "node:sqlite";
import { basename, dirname } from "node:path";

/** Copies of one kind kept beside the database. */
export const KEPT_COPIES = 3;

/** A timestamp for copy names that sorts as it reads: `20261207T012345.678Z`. */
export function copyStamp(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, "");
}

/**
 * Copies the database at `path` (its WAL included, as one consistent file) to
 * `<path>.before-restore.<time>.bak` and prunes older such copies; undefined when there is none.
 * A database SQLite cannot read is copied byte for byte, with its -wal beside the copy.
 */
export async function keepBeforeRestore(path: string, stamp = copyStamp()): Promise<string | undefined> {
  if (!await exists(path)) return undefined;
  const copy = `${path}.before-restore.${stamp}.bak`;
  try {
    const db = new DatabaseSync(path);
    try {
      db.prepare("VACUUM INTO ?").run(copy);
    } finally {
      db.close();
    }
  } catch {
    await Deno.remove(copy).catch(() => undefined);
    await Deno.copyFile(path, copy);
    if (await exists(`${path}-wal`)) await Deno.copyFile(`${path}-wal`, `${copy}-wal`);
  }
  pruneCopies(path, "before-restore");
  return copy;
}

/** Keeps the file at `path` (the key a restore replaces) as `<path>.before-restore.<time>.bak`, mode 0600. */
export async function keepFileBeforeRestore(path: string, stamp = copyStamp()): Promise<string | undefined> {
  if (!await exists(path)) return undefined;
  const copy = `${path}.before-restore.${stamp}.bak`;
  await Deno.writeFile(copy, await Deno.readFile(path), { mode: 0o600 });
  pruneCopies(path, "before-restore");
  return copy;
}

/**
 * Deletes all but the newest KEPT_COPIES copies of `path` of one kind (`schema` or
 * `before-restore`), with their -wal files; returns the deleted names.
 */
export function pruneCopies(path: string, kind: "schema" | "before-restore"): string[] {
  const dir = dirname(path);
  const prefix = `${basename(path)}.${kind}`;
  const stampOf = (name: string) => /\.(\d{8}T\d{6}(?:\.\d+)?Z)\.bak$/.exec(name)?.[1];
  const copies: { name: string; stamp: string }[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const stamp = entry.isFile && entry.name.startsWith(prefix) ? stampOf(entry.name) : undefined;
    if (stamp) copies.push({ name: entry.name, stamp });
  }
  copies.sort((a, b) => b.stamp.localeCompare(a.stamp));
  const deleted: string[] = [];
  for (const { name } of copies.slice(KEPT_COPIES)) {
    for (const file of [name, `${name}-wal`]) {
      try {
        Deno.removeSync(`${dir}/${file}`);
      } catch { /* gone already */ }
    }
    deleted.push(name);
  }
  return deleted;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
