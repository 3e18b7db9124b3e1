/**
 * Issue 19, item 9: another process (a large `postern apply`, `db check --repair`) holds the database's
 * write lock for longer than the busy timeout. The server keeps serving: reads answer, a JMAP write gets
 * `serverUnavailable` (RFC 8620 §3.6.2), an HTTP write gets 503 with Retry-After, and once the lock is
 * released the same write succeeds — the process never dies.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { ADMIN_PASSWORD, basic, cli, startServerProcess, until } from "./helpers.ts";
import { registerClientWithCli } from "./oauth_helpers.ts";

const ADMIN = basic("admin@example.org", ADMIN_PASSWORD);
const USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"];

/** A second process that takes the write lock, says "locked", and holds it until its stdin closes. */
function holdWriteLock(databasePath: string) {
  const script = `
    import { DatabaseSync } from "node:sqlite";
    const db = new DatabaseSync(${JSON.stringify(databasePath)});
    db.exec("PRAGMA busy_timeout = 10000");
    db.exec("BEGIN IMMEDIATE");
    db.exec("UPDATE servers SET seen_at = seen_at");
    console.log("locked");
    for await (const _ of Deno.stdin.readable) { /* wait for EOF */ }
    db.exec("COMMIT");
    console.log("released");
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const waitFor = async (word: string) => {
    while (!seen.includes(word)) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`The lock holder exited before "${word}": ${seen}`);
      seen += value;
    }
  };
  return {
    locked: () => waitFor("locked"),
    async release() {
      await child.stdin.close();
      await waitFor("released");
      await child.status;
    },
  };
}

async function jmap(url: string, methodCalls: unknown[]) {
  const response = await fetch(`${url}/jmap`, {
    method: "POST",
    headers: { authorization: ADMIN, "content-type": "application/json" },
    body: JSON.stringify({ using: USING, methodCalls }),
  });
  assert.equal(response.status, 200);
  return (await response.json()).methodResponses as [string, Record<string, unknown>, string][];
}

Deno.test("a write lock held by another process past the busy timeout gets 503 and serverUnavailable, reads keep working, and the server survives", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-busy-" });
  const server = await startServerProcess(dataDir, { POSTERN_BUSY_TIMEOUT_MS: "100" });
  const client = await registerClientWithCli(dataDir, { type: "Public" });
  const holder = holdWriteLock(`${dataDir}/postern.db`);
  let released = false;
  try {
    const session = await (await fetch(`${server.url}/jmap/session`, { headers: { authorization: ADMIN } }))
      .json();
    const accountId = session.primaryAccounts["urn:ietf:params:jmap:mail"] as string;
    const create = ["Mailbox/set", { accountId, create: { m: { name: "Held" } } }, "w"];
    const read = ["Mailbox/get", { accountId, properties: ["name"] }, "r"];

    await holder.locked();
    // Reads answer while the lock is held (WAL).
    const health = await fetch(`${server.url}/healthz`);
    await health.body?.cancel();
    assert.equal(health.status, 200);
    // The write fails at the method level; the read in the same request still answers.
    const [write, get] = await jmap(server.url, [create, read]);
    assert.equal(write[0], "error");
    assert.equal(write[1].type, "serverUnavailable", JSON.stringify(write));
    assert.equal(get[0], "Mailbox/get");
    assert.ok((get[1].list as unknown[]).length > 0);
    // A write over plain HTTP (a blob upload) answers 503 problem+json with Retry-After.
    const upload = await fetch(`${server.url}/jmap/upload/${accountId}/`, {
      method: "POST",
      headers: { authorization: ADMIN, "content-type": "text/plain" },
      body: "held",
    });
    assert.equal(upload.status, 503);
    assert.match(upload.headers.get("content-type") ?? "", /application\/problem\+json/);
    assert.ok(Number(upload.headers.get("retry-after")) >= 1);
    assert.match((await upload.json()).detail, /busy/);
    // An OAuth endpoint that writes (a device code) answers in OAuth's own form.
    const device = await fetch(`${server.url}/auth/device`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: client.clientId, scope: "openid" }),
    });
    assert.equal(device.status, 503);
    assert.ok(Number(device.headers.get("retry-after")) >= 1);
    assert.equal((await device.json()).error, "temporarily_unavailable");

    // The CLI, a third process, explains the wait instead of crashing with a stack.
    const local = await cli(["--data", dataDir, "update", "domain", "b", "--field", "description=held"], {
      POSTERN_BUSY_TIMEOUT_MS: "100",
    });
    assert.equal(local.code, 1, local.stdout);
    assert.match(local.stderr, /database is busy/);
    assert.doesNotMatch(local.stderr, /\bat .*\.ts:\d+/);

    await holder.release();
    released = true;
    // The same write now succeeds, and the server is still the one that started.
    const [again] = await jmap(server.url, [create]);
    assert.equal(again[0], "Mailbox/set", JSON.stringify(again));
    assert.ok((again[1].created as Record<string, unknown>).m);
    assert.doesNotMatch(server.stderr(), /Uncaught|database is locked/);
  } finally {
    if (!released) await holder.release().catch(() => undefined);
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
  assert.equal(server.exitCode, 0);
});

Deno.test("a server started while another process holds the write lock starts, serves reads, and registers once the lock is free", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-busy-start-" });
  // A first start creates the database (and the admin), then stops.
  const first = await startServerProcess(dataDir);
  await first.stop();
  const holder = holdWriteLock(`${dataDir}/postern.db`);
  await holder.locked();
  let released = false;
  const server = await startServerProcess(dataDir, { POSTERN_BUSY_TIMEOUT_MS: "100" }).catch(
    async (error) => {
      await holder.release();
      released = true;
      throw error;
    },
  );
  try {
    const session = await fetch(`${server.url}/jmap/session`, { headers: { authorization: ADMIN } });
    assert.equal(session.status, 200);
    await session.body?.cancel();
    assert.equal(registered(dataDir, server.url), false);
    await holder.release();
    released = true;
    // Its registration (for the admin UI's local mode) waited for the lock, then went through.
    await until(() => registered(dataDir, server.url), "the server to register after the lock was released");
    const [created] = await jmap(server.url, [[
      "Mailbox/set",
      {
        accountId: (await sessionOf(server.url)).primaryAccounts["urn:ietf:params:jmap:mail"],
        create: { m: { name: "After" } },
      },
      "w",
    ]]);
    assert.equal(created[0], "Mailbox/set", JSON.stringify(created));
  } finally {
    if (!released) await holder.release().catch(() => undefined);
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
  assert.equal(server.exitCode, 0);
});

/** Whether the server answering at `url` has its row in the database. */
function registered(dataDir: string, url: string): boolean {
  const db = new DatabaseSync(`${dataDir}/postern.db`, { readOnly: true });
  try {
    return db.prepare("SELECT 1 FROM servers WHERE url = ?").get(url) !== undefined;
  } finally {
    db.close();
  }
}

async function sessionOf(url: string) {
  return await (await fetch(`${url}/jmap/session`, { headers: { authorization: ADMIN } })).json();
}
