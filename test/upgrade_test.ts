/**
 * Schema upgrades at start (issue 21): an older database is copied beside itself, named with its old
 * schema version, before its migrations run (one transaction each), unless --no-backup; a migration
 * that fails leaves the database at its previous version and the start fails in one line; a database
 * from a newer Postern is refused in one line naming both versions, and left untouched.
 */
import assert from "node:assert/strict";
import { jsonLines } from "./log_helpers.ts";
import { DatabaseSync } from "node:sqlite";
import { assertOneLine, cli, startServerProcess, withTempDir } from "./helpers.ts";
import { MIGRATIONS } from "../src/store/migrations/mod.ts";
import { SCHEMA_VERSION, VERSION } from "../src/version.ts";

/** `serve` logs JSON: its failed start is one ERROR record whose message is the CLI's line without "postern: ". */
function assertOneStartLine(result: { stderr: string }, cliPattern: RegExp): void {
  const lines = jsonLines(result.stderr);
  assert.equal(lines.length, 1, result.stderr);
  assert.equal(lines[0].level, "ERROR");
  assert.match(lines[0].message, new RegExp(cliPattern.source.replace(/^\^postern: /, "^")));
}

const OLD = MIGRATIONS.length - 1;

/** A data directory whose database ran only the first `version` migrations, with one domain in it. */
async function oldDataDir(root: string, name: string, version = OLD, extraSql = ""): Promise<string> {
  const dir = `${root}/${name}`;
  await Deno.mkdir(dir);
  const db = new DatabaseSync(`${dir}/postern.db`);
  for (const sql of MIGRATIONS.slice(0, version)) db.exec(sql);
  db.exec(
    `PRAGMA user_version = ${version}; INSERT INTO domains (name, created_at) VALUES ('old.example', 0); ${extraSql}`,
  );
  db.close();
  return dir;
}

function read(path: string, sql: string): Record<string, unknown> | undefined {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare(sql).get();
  } finally {
    db.close();
  }
}

const version = (path: string) => Number(read(path, "PRAGMA user_version")?.user_version);
const copies = (dir: string) =>
  [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".bak"));

/** `postern serve` on `dir` that is expected to fail at start (the hang guard ends it otherwise). */
async function failedStart(dir: string): Promise<{ code: number; stderr: string }> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../main.ts", import.meta.url).pathname,
      "serve",
      "--data",
      dir,
      "--listen",
      "127.0.0.1:0",
    ],
    env: { NO_COLOR: "1", POSTERN_PROCESSES: "1" },
    stdout: "null",
    stderr: "piped",
    stdin: "null",
    signal: AbortSignal.timeout(120_000),
  }).output();
  return { code: result.code, stderr: new TextDecoder().decode(result.stderr) };
}

const withRoot = (body: (root: string) => Promise<void>) => withTempDir("postern-upgrade-", body);

Deno.test("an older database is upgraded at start after a copy of it, named with its old schema version, is made beside it", () =>
  withRoot(async (root) => {
    const dir = await oldDataDir(root, "cli");
    const result = await cli(["db", "check", "--data", dir]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const [copy] = copies(dir);
    assert.match(copy, new RegExp(`^postern\\.db\\.schema-${OLD}\\.\\d{8}T\\d{6}\\.\\d{3}Z\\.bak$`));
    assert.match(
      result.stderr,
      new RegExp(
        `Upgraded database .*postern.db from schema ${OLD} to ${SCHEMA_VERSION}; copy of schema ${OLD} at .*${copy}`,
      ),
    );
    assert.equal(version(`${dir}/postern.db`), SCHEMA_VERSION);
    assert.equal(version(`${dir}/${copy}`), OLD);
    for (const file of ["postern.db", copy]) {
      assert.ok(read(`${dir}/${file}`, "SELECT 1 FROM domains WHERE name = 'old.example'"), file);
    }
    // The server's start does the same.
    const served = await oldDataDir(root, "serve");
    const server = await startServerProcess(served);
    await server.stop();
    assert.equal(copies(served).length, 1);
    assert.equal(version(`${served}/${copies(served)[0]}`), OLD);
    assert.equal(version(`${served}/postern.db`), SCHEMA_VERSION);
  }));

Deno.test("an upgrade keeps the newest three copies of the database and deletes older ones", () =>
  withRoot(async (root) => {
    const dir = await oldDataDir(root, "data");
    const stale = ["20240101T000000.000Z", "20250101T000000.000Z", "20250601T000000.000Z"];
    for (const stamp of stale) {
      await Deno.writeTextFile(`${dir}/postern.db.schema-${OLD - 1}.${stamp}.bak`, "old");
    }
    await Deno.writeTextFile(`${dir}/notes.bak`, "not a copy of Postern's");
    const result = await cli(["db", "check", "--data", dir]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const left = copies(dir).sort();
    assert.equal(left.length, 4, left.join(", "));
    assert.ok(left.includes("notes.bak"));
    assert.ok(!left.some((name) => name.includes(stale[0])), "the oldest copy went");
    assert.ok(left.some((name) => name.startsWith(`postern.db.schema-${OLD}.`)), "the new copy stays");
  }));

Deno.test("--no-backup upgrades an older database without a copy, and says so", () =>
  withRoot(async (root) => {
    const dir = await oldDataDir(root, "data");
    const result = await cli(["db", "check", "--no-backup", "--data", dir]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stderr, /from schema \d+ to \d+; no copy made \(--no-backup\)/);
    assert.deepEqual(copies(dir), []);
    assert.equal(version(`${dir}/postern.db`), SCHEMA_VERSION);
  }));

Deno.test("a migration that fails leaves the database at its previous version and the start fails in one line", () =>
  withRoot(async (root) => {
    // The last migration creates the full-text index's watermark table: a database that has a table of
    // that name already makes it fail.
    assert.match(MIGRATIONS[OLD], /CREATE TABLE search_index /);
    const dir = await oldDataDir(
      root,
      "data",
      OLD,
      "CREATE TABLE search_index (id INTEGER PRIMARY KEY);",
    );
    const pattern = new RegExp(
      `^postern: Cannot upgrade database .*postern.db from schema ${OLD} to ${SCHEMA_VERSION}: migration ` +
        `${OLD + 1} failed \\(table search_index already exists\\); the database stays at schema ${OLD}, ` +
        `copy of schema ${OLD} at .*\\.bak$`,
    );
    const check = await cli(["db", "check", "--data", dir]);
    assert.equal(check.code, 1);
    assertOneLine(check, pattern);
    assert.equal(version(`${dir}/postern.db`), OLD);
    const start = await failedStart(dir);
    assert.equal(start.code, 1);
    assertOneStartLine(start, pattern);
    assert.equal(version(`${dir}/postern.db`), OLD);
  }));

Deno.test("a database from a newer Postern is refused in one line naming both versions, and left untouched", () =>
  withRoot(async (root) => {
    const dir = `${root}/data`;
    assert.equal((await cli(["init", "--data", dir])).code, 0);
    const db = new DatabaseSync(`${dir}/postern.db`);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}; PRAGMA wal_checkpoint(TRUNCATE)`);
    db.close();
    const before = await Deno.readFile(`${dir}/postern.db`);
    const pattern = new RegExp(
      `^postern: Database .*postern.db has schema version ${SCHEMA_VERSION + 1}, newer than this Postern ` +
        `knows \\(${SCHEMA_VERSION}\\)`,
    );
    for (const args of [["db", "check"], ["query", "domain"]]) {
      const result = await cli([...args, "--data", dir]);
      assert.equal(result.code, 1, args.join(" "));
      assertOneLine(result, pattern);
    }
    const start = await failedStart(dir);
    assert.equal(start.code, 1);
    assertOneStartLine(start, pattern);
    assert.deepEqual(await Deno.readFile(`${dir}/postern.db`), before);
    assert.equal(version(`${dir}/postern.db`), SCHEMA_VERSION + 1);
    assert.deepEqual(copies(dir), []);
    // Its backup is taken, but not restored by this Postern.
    assert.equal((await cli(["backup", "--data", dir, `${root}/copy`])).code, 0);
    const restore = await cli(["restore", "--data", `${root}/target`, `${root}/copy`]);
    assert.equal(restore.code, 1);
    assertOneLine(
      restore,
      new RegExp(`has schema version ${SCHEMA_VERSION + 1}, newer than this Postern knows`),
    );
  }));

Deno.test("--version prints the Postern version and the database schema version", async () => {
  const result = await cli(["--version"]);
  assert.equal(result.code, 0);
  assert.equal(result.stdout.trim(), `postern ${VERSION} (database schema ${SCHEMA_VERSION})`);
});
