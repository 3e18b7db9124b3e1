/**
 * `postern backup` and `postern restore` on real processes (issue 21): a backup taken while clients
 * write holds every write acknowledged before it began; restored into a fresh directory, `db check`
 * passes, a server starts on it, and an API key and an access token issued before the backup still
 * work (same encryption key). A restore is refused while a Postern process has the target open, and
 * allowed over the stale lock file of a server killed with SIGKILL.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { assertOneLine, cli, startServerProcess, withTempDir } from "./helpers.ts";
import { createUsers, mailCall, type Obj, serverTarget, type Who } from "./mail_helpers.ts";
import { apiKey } from "./live_connection_helpers.ts";
import { registerClientWithCli } from "./oauth_helpers.ts";
import { clientAuth } from "./oauth_security_helpers.ts";
import { CORE, MAIL } from "./jmap_helpers.ts";

/** Clients writing at once. */
const WRITERS = 3;
/** Acknowledged writes before the backup starts. */
const BEFORE_BACKUP = 20;
/** Hang guard of the bounded waits (never a timing assertion). */
const HANG_GUARD_MS = 60_000;

/** Creates one mailbox; its id once the server acknowledged it (HTTP 200 with the created id). */
async function createMailbox(url: string, who: Who, name: string): Promise<string | undefined> {
  const response = await fetch(`${url}/jmap`, {
    method: "POST",
    headers: { authorization: who.auth, "content-type": "application/json" },
    body: JSON.stringify({
      using: [CORE, MAIL],
      methodCalls: [["Mailbox/set", { accountId: who.accountId, create: { m: { name } } }, "0"]],
    }),
  });
  if (response.status !== 200) {
    await response.body?.cancel();
    return undefined;
  }
  const id = (await response.json()).methodResponses[0][1].created?.m?.id;
  return typeof id === "string" ? id : undefined;
}

/** An access token of the client_credentials grant, for a client registered with the CLI. */
async function accessToken(url: string, dataDir: string): Promise<string> {
  const client = await registerClientWithCli(dataDir, {
    name: "Backup test machine",
    ownerId: "b",
    grantTypes: ["client_credentials"],
    scopes: ["urn:ietf:params:jmap:mail"],
  });
  const response = await fetch(`${url}/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", ...clientAuth(client) }),
  });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  return body.access_token;
}

async function sessionStatus(url: string, authorization: string): Promise<number> {
  const response = await fetch(`${url}/jmap/session`, { headers: { authorization } });
  await response.body?.cancel();
  return response.status;
}

Deno.test("a backup taken under write load restores into a fresh directory with every earlier write and working credentials", async () => {
  const root = await Deno.makeTempDir({ prefix: "postern-backup-" });
  const dataDir = `${root}/data`, fresh = `${root}/fresh`, out = `${root}/backup`;
  let server = await startServerProcess(dataDir);
  try {
    const [alice] = await createUsers(serverTarget(server.url), ["alice"]);
    const key = await apiKey(serverTarget(server.url), alice);
    const token = await accessToken(server.url, dataDir);
    const acked = new Map<string, string>();
    let writing = true;
    let next = 0;
    const writers = Array.from({ length: WRITERS }, async () => {
      while (writing) {
        const name = `box ${next++}`;
        const id = await createMailbox(server.url, alice, name).catch(() => undefined);
        if (id) acked.set(id, name);
      }
    });
    const deadline = Date.now() + HANG_GUARD_MS;
    while (acked.size < BEFORE_BACKUP && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(acked.size >= BEFORE_BACKUP, `only ${acked.size} writes acknowledged`);
    const before = new Map(acked);
    const backup = await cli(["backup", "--data", dataDir, out]);
    const during = acked.size - before.size;
    writing = false;
    await Promise.all(writers);
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /^Backup written to .*schema \d+/);
    // Not a terminal: no progress bar.
    assert.doesNotMatch(backup.stdout, /\r|Backing up|%/);
    // Who may read it: the directory and the key are the owner's only.
    assert.equal((await Deno.stat(out)).mode! & 0o777, 0o700);
    assert.equal((await Deno.stat(`${out}/encryption.key`)).mode! & 0o777, 0o600);
    const manifest = JSON.parse(await Deno.readTextFile(`${out}/manifest.json`));
    assert.deepEqual(manifest.files.map((f: Obj) => f.name), ["postern.db", "encryption.key"]);
    assert.equal(manifest.format, "postern-backup");
    assert.deepEqual([...Deno.readDirSync(root)].map((e) => e.name).sort(), ["backup", "data"]);

    server.kill("SIGKILL");
    await server.status;
    const restored = await cli(["restore", "--data", fresh, out]);
    assert.equal(restored.code, 0, restored.stderr);
    // The killed server's registration is not carried over: nothing runs on the fresh directory yet.
    const copy = new DatabaseSync(`${fresh}/postern.db`, { readOnly: true });
    assert.equal(copy.prepare("SELECT count(*) AS n FROM servers").get()?.n, 0);
    copy.close();
    const check = await cli(["db", "check", "--data", fresh]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /Database OK/);

    server = await startServerProcess(fresh);
    const mailboxes = await mailCall(serverTarget(server.url), "Mailbox/get", {
      accountId: alice.accountId,
      ids: [...before.keys()],
      properties: ["name"],
    }, alice);
    assert.deepEqual(mailboxes.notFound, [], `acknowledged before the backup, lost (${during} during it)`);
    for (const mailbox of mailboxes.list as Obj[]) assert.equal(mailbox.name, before.get(String(mailbox.id)));
    assert.equal(await sessionStatus(server.url, key.bearer), 200, "API key issued before the backup");
    assert.equal(
      await sessionStatus(server.url, `Bearer ${token}`),
      200,
      "access token issued before the backup",
    );

    // The fresh directory's server is running: refused, even with --force.
    const refused = await cli(["restore", "--force", "--data", fresh, out]);
    assert.equal(refused.code, 1);
    assertOneLine(refused, /^postern: Cannot restore into .*: a Postern process .* has its database open/);
    // The killed server left its lock file behind: not taken for a running server.
    const overKilled = await cli(["restore", "--force", "--data", dataDir, out]);
    assert.equal(overKilled.code, 0, overKilled.stderr);
    assert.equal((await cli(["db", "check", "--data", dataDir])).code, 0);
  } finally {
    await server.stop();
    await Deno.remove(root, { recursive: true }).catch(() => undefined);
  }
});

Deno.test("backup on a terminal draws a progress bar that ends at 100%", () =>
  withTempDir("postern-backup-tty-", async (root) => {
    assert.equal((await cli(["init", "--data", `${root}/data`])).code, 0);
    const main = new URL("../main.ts", import.meta.url).pathname;
    // script(1) gives the command a pseudo-terminal as its standard output.
    const command = `${Deno.execPath()} run -A ${main} backup --data ${root}/data ${root}/out`;
    const result = await new Deno.Command("script", {
      args: ["-qec", command, "/dev/null"],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output();
    const text = new TextDecoder().decode(result.stdout);
    assert.equal(result.code, 0, text);
    assert.match(text, /\rBacking up \[#{30}\] 100%/);
    assert.match(text, /Backup written to /);
  }));

Deno.test("a key from POSTERN_ENCRYPTION_KEY is left out of the backup, and the manifest and restore say so", () =>
  withTempDir("postern-backup-env-", async (root) => {
    const env = { POSTERN_ENCRYPTION_KEY: btoa(String.fromCharCode(...new Uint8Array(32).fill(7))) };
    assert.equal((await cli(["init", "--data", `${root}/data`], env)).code, 0);
    const made = await cli(["backup", "--data", `${root}/data`, `${root}/out`], env);
    assert.equal(made.code, 0, made.stderr);
    const manifest = JSON.parse(await Deno.readTextFile(`${root}/out/manifest.json`));
    assert.equal(manifest.encryptionKey, "not included (POSTERN_ENCRYPTION_KEY)");
    assert.deepEqual([...Deno.readDirSync(`${root}/out`)].map((e) => e.name).sort(), [
      "manifest.json",
      "postern.db",
    ]);
    const restored = await cli(["restore", "--data", `${root}/fresh`, `${root}/out`], env);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(
      restored.stdout,
      /encryption key: not written: this directory's key comes from POSTERN_ENCRYPTION_KEY/,
    );
    assert.equal((await cli(["db", "check", "--data", `${root}/fresh`], env)).code, 0);
  }));
