/**
 * Bad input to `postern backup` and `postern restore`: each is refused with one line naming the cause,
 * exit 1 (a failure) or 2 (a usage mistake: an existing destination, a non-empty target without
 * --force), no stack trace, and nothing written where it was refused. The CLI runs in-process except in
 * the backup test, where real `postern` processes show their own exit status and stderr.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { cliInProcess } from "./cli_in_process.ts";
import { assertOneLine, cli, withTempDir } from "./helpers.ts";

/** A data directory and a good backup of it, for the cases to spoil. */
function withBackup(body: (root: string) => Promise<void>): Promise<void> {
  return withTempDir("postern-backup-bad-", async (root) => {
    assert.equal((await cliInProcess(["init", "--data", `${root}/data`])).code, 0);
    const made = await cliInProcess(["backup", "--data", `${root}/data`, `${root}/good`]);
    assert.equal(made.code, 0, made.stderr);
    await body(root);
  });
}

/** A copy of the good backup, changed by `spoil`. */
async function spoiled(root: string, name: string, spoil: (dir: string) => Promise<void>): Promise<string> {
  const dir = `${root}/${name}`;
  await Deno.mkdir(dir);
  for (const entry of Deno.readDirSync(`${root}/good`)) {
    await Deno.copyFile(`${root}/good/${entry.name}`, `${dir}/${entry.name}`);
  }
  await spoil(dir);
  return dir;
}

async function restore(root: string, from: string, ...flags: string[]) {
  return await cliInProcess(["restore", ...flags, "--data", `${root}/target`, from]);
}

Deno.test("restore refuses a missing, unreadable, corrupt or tampered backup in one line, exit 1, writing nothing", () =>
  withBackup(async (root) => {
    const cases: [string, string, RegExp][] = [
      ["missing", `${root}/nowhere`, /^postern: No backup at .*nowhere$/],
      [
        "a file, not a directory",
        `${root}/good/manifest.json`,
        /^postern: Not a readable Postern backup: .*Not a directory/,
      ],
      [
        "manifest not JSON",
        await spoiled(root, "garbled", (dir) => Deno.writeTextFile(`${dir}/manifest.json`, "{ not json")),
        /^postern: Backup .* is damaged: manifest.json is not JSON$/,
      ],
      [
        "manifest of another format",
        await spoiled(root, "foreign", (dir) => Deno.writeTextFile(`${dir}/manifest.json`, '{"files":[]}')),
        /^postern: Backup .* has a manifest.json this Postern cannot read/,
      ],
      [
        "wrong hash in the manifest",
        await spoiled(root, "tampered", async (dir) => {
          const manifest = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
          manifest.files[1].sha256 = "0".repeat(64);
          await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify(manifest));
        }),
        /^postern: Backup .* is damaged: encryption.key does not match its SHA-256 in manifest.json$/,
      ],
      [
        "database changed after the backup",
        await spoiled(root, "flipped", async (dir) => {
          const bytes = await Deno.readFile(`${dir}/postern.db`);
          bytes[bytes.length - 1] ^= 0xff;
          await Deno.writeFile(`${dir}/postern.db`, bytes);
        }),
        /^postern: Backup .* is damaged: postern.db does not match its SHA-256/,
      ],
      [
        "a file missing",
        await spoiled(root, "keyless", (dir) => Deno.remove(`${dir}/encryption.key`)),
        /^postern: Backup .* is incomplete: encryption.key: No such file or directory/,
      ],
    ];
    for (const [what, from, pattern] of cases) {
      const result = await restore(root, from);
      assert.equal(result.code, 1, `${what}: ${result.stderr}`);
      assertOneLine(result, pattern);
      assert.ok(!(await exists(`${root}/target/postern.db`)), `${what}: nothing restored`);
    }
  }));

Deno.test("restore into a non-empty directory needs --force (exit 2 without it)", () =>
  withBackup(async (root) => {
    await Deno.mkdir(`${root}/target`);
    await Deno.writeTextFile(`${root}/target/notes.txt`, "mine");
    const refused = await restore(root, `${root}/good`);
    assert.equal(refused.code, 2);
    assertOneLine(refused, /^postern: Cannot restore into .*: it is not empty \(notes.txt\); pass --force/);
    assert.ok(!(await exists(`${root}/target/postern.db`)));
    const forced = await restore(root, `${root}/good`, "--force");
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal((await cliInProcess(["db", "check", "--data", `${root}/target`])).code, 0);
  }));

Deno.test("a forced restore keeps the database and key it replaced beside them, the newest three of each", () =>
  withBackup(async (root) => {
    const target = `${root}/target`;
    assert.equal((await cliInProcess(["init", "--data", target])).code, 0);
    const db = new DatabaseSync(`${target}/postern.db`);
    db.exec("INSERT INTO domains (name, created_at) VALUES ('replaced.example', 0)");
    db.close();
    const oldKey = await Deno.readFile(`${target}/encryption.key`);
    const forced = await restore(root, `${root}/good`, "--force");
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(
      forced.stdout,
      /What it replaced is kept as .*postern\.db\.before-restore\..*\.bak and .*encryption\.key\.before-restore\..*\.bak/,
    );
    const kept = (prefix: string) =>
      [...Deno.readDirSync(target)].map((e) => e.name).filter((n) =>
        n.startsWith(prefix) && n.endsWith(".bak")
      )
        .sort();
    const [keptDb] = kept("postern.db.before-restore.");
    const copy = new DatabaseSync(`${target}/${keptDb}`, { readOnly: true });
    assert.ok(
      copy.prepare("SELECT 1 FROM domains WHERE name = 'replaced.example'").get(),
      "the replaced data",
    );
    copy.close();
    const [keptKey] = kept("encryption.key.before-restore.");
    assert.deepEqual(await Deno.readFile(`${target}/${keptKey}`), oldKey);
    assert.equal((await Deno.stat(`${target}/${keptKey}`)).mode! & 0o777, 0o600);
    assert.deepEqual(
      await Deno.readFile(`${target}/encryption.key`),
      await Deno.readFile(`${root}/good/encryption.key`),
    );
    for (let i = 0; i < 3; i++) assert.equal((await restore(root, `${root}/good`, "--force")).code, 0);
    assert.equal(kept("postern.db.before-restore.").length, 3);
    assert.equal(kept("encryption.key.before-restore.").length, 3);
    assert.ok(!kept("postern.db.before-restore.").includes(keptDb), "the oldest copy went");
  }));

Deno.test("backup refuses an existing destination (exit 2), a missing database and an unwritable place (exit 1)", () =>
  withBackup(async (root) => {
    const existing = await cli(["backup", "--data", `${root}/data`, `${root}/good`]);
    assert.equal(existing.code, 2);
    assertOneLine(existing, /^postern: Backup destination .*good already exists/);
    const noDatabase = await cli(["backup", "--data", `${root}/empty`, `${root}/b1`]);
    assert.equal(noDatabase.code, 1);
    assertOneLine(noDatabase, /^postern: No Postern database at .*empty\/postern.db/);
    const unwritable = await cli(["backup", "--data", `${root}/data`, `${root}/good/manifest.json/b2`]);
    assert.equal(unwritable.code, 1);
    assertOneLine(unwritable, /^postern: Cannot write the backup in .*manifest.json: Not a directory/);
    await Deno.remove(`${root}/data/encryption.key`);
    const keyless = await cli(["backup", "--data", `${root}/data`, `${root}/b3`]);
    assert.equal(keyless.code, 1);
    assertOneLine(
      keyless,
      /^postern: Cannot read the encryption key .*encryption.key: No such file or directory$/,
    );
    assert.deepEqual([...Deno.readDirSync(root)].map((e) => e.name).sort(), ["data", "good"]);
  }));

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}
