/**
 * No acknowledged write is lost when the server is killed (issue 19, "keep what works"): a real
 * `postern serve` process with the default `synchronous=NORMAL`, clients creating mailboxes and
 * importing emails as fast as it answers, and SIGKILL at a random point — three rounds, each after a
 * random number of acknowledged writes. After each kill `postern db check` passes on the data
 * directory and a server restarted on it returns every write it had acknowledged (HTTP 200 with the
 * created id), with its content. Writes in flight at the kill may or may not be there: they were
 * never acknowledged.
 */
import assert from "node:assert/strict";
import { cli, type ServerProcess, startServerProcess } from "./helpers.ts";
import { CORE, MAIL } from "./jmap_helpers.ts";
import { message } from "./email_helpers.ts";
import { createUsers, mailboxesByName, mailCall, type Obj, serverTarget, type Who } from "./mail_helpers.ts";
import { Random } from "../scripts/fuzz/random.ts";

const ROUNDS = 3;
/** Clients writing at once. */
const WRITERS = 4;
/** Each round kills after between MIN_ACKED and MAX_ACKED acknowledged writes. */
const MIN_ACKED = 5;
const MAX_ACKED = 60;

/** A seeded generator (the fuzz harness's mulberry32), so a failure repeats from its seed. */
function random(seed: number): () => number {
  const rng = new Random(seed);
  return () => rng.next();
}

/** What the clients were told was stored: mailbox id → name, email id → subject. */
interface Acknowledged {
  mailboxes: Map<string, string>;
  emails: Map<string, string>;
}

/** One JMAP call; the created object's id when the server acknowledged it, else undefined. */
async function created(
  url: string,
  who: Who,
  name: string,
  args: Obj,
  key: string,
): Promise<string | undefined> {
  const response = await fetch(`${url}/jmap`, {
    method: "POST",
    headers: { authorization: who.auth, "content-type": "application/json" },
    body: JSON.stringify({ using: [CORE, MAIL], methodCalls: [[name, args, "0"]] }),
  });
  if (response.status !== 200) {
    await response.body?.cancel();
    return undefined;
  }
  const [[answered, result]] = (await response.json()).methodResponses;
  if (answered !== name) return undefined;
  const id = (result.created as Record<string, Obj> | null)?.[key]?.id;
  return typeof id === "string" ? id : undefined;
}

/** A write, counted once the server answered it with the created id. */
async function write(
  url: string,
  who: Who,
  inbox: string,
  label: string,
  acked: Acknowledged,
): Promise<void> {
  if (label.endsWith("0") || label.endsWith("5")) {
    const bytes = message(
      `From: writer@example.org\nTo: ${who.emailAddress}\nSubject: ${label}\nMessage-ID: <${label}@test>\n\nBody of ${label}\n`,
    );
    const upload = await fetch(`${url}/jmap/upload/${who.accountId}/`, {
      method: "POST",
      headers: { authorization: who.auth, "content-type": "message/rfc822" },
      body: bytes,
    });
    const blob = await upload.json();
    if (upload.status !== 201) return;
    const id = await created(url, who, "Email/import", {
      accountId: who.accountId,
      emails: { m: { blobId: blob.blobId, mailboxIds: { [inbox]: true } } },
    }, "m");
    if (id) acked.emails.set(id, label);
  } else {
    const id = await created(url, who, "Mailbox/set", {
      accountId: who.accountId,
      create: { m: { name: label } },
    }, "m");
    if (id) acked.mailboxes.set(id, label);
  }
}

/**
 * Writes from {@link WRITERS} clients until the server dies; kills it with SIGKILL once `killAfter`
 * writes of this round were acknowledged. Errors of writes in flight at the kill are expected.
 */
async function writeUntilKilled(
  server: ServerProcess,
  who: Who,
  inbox: string,
  options: { round: number; killAfter: number; acked: Acknowledged },
): Promise<void> {
  const { acked, round, killAfter } = options;
  const before = acked.mailboxes.size + acked.emails.size;
  let next = 0;
  let dead = false;
  server.status.then(() => dead = true);
  const writer = async (w: number) => {
    while (!dead) {
      const label = `r${round}-w${w}-${next++}`;
      try {
        await write(server.url, who, inbox, label, acked);
      } catch {
        // The connection failed: the server is being killed (or was). Not acknowledged.
      }
      if (!dead && acked.mailboxes.size + acked.emails.size - before >= killAfter) {
        server.kill("SIGKILL");
        await server.status;
      }
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
}

/** Asserts that the server returns every acknowledged mailbox and email, with its name or subject. */
async function assertAllThere(url: string, who: Who, acked: Acknowledged, context: string): Promise<void> {
  const target = serverTarget(url);
  const mailboxes = await mailCall(target, "Mailbox/get", {
    accountId: who.accountId,
    ids: [...acked.mailboxes.keys()],
    properties: ["name"],
  }, who);
  assert.deepEqual(mailboxes.notFound, [], `${context}: acknowledged mailboxes lost`);
  for (const mailbox of mailboxes.list as Obj[]) {
    assert.equal(mailbox.name, acked.mailboxes.get(mailbox.id as string), context);
  }
  const emails = await mailCall(target, "Email/get", {
    accountId: who.accountId,
    ids: [...acked.emails.keys()],
    properties: ["subject"],
  }, who);
  assert.deepEqual(emails.notFound, [], `${context}: acknowledged emails lost`);
  for (const email of emails.list as Obj[]) {
    assert.equal(email.subject, acked.emails.get(email.id as string), context);
  }
}

Deno.test("no acknowledged write is lost when the server is killed with SIGKILL mid-write", async () => {
  const seed = Number(Deno.env.get("POSTERN_KILL_SEED") ?? Math.floor(Math.random() * 2 ** 31));
  const next = random(seed);
  const dataDir = await Deno.makeTempDir({ prefix: "postern-kill-" });
  let server = await startServerProcess(dataDir);
  try {
    const [alice] = await createUsers(serverTarget(server.url), ["alice"]);
    const inbox = (await mailboxesByName(serverTarget(server.url), alice)).Inbox.id as string;
    const acked: Acknowledged = { mailboxes: new Map(), emails: new Map() };
    for (let round = 1; round <= ROUNDS; round++) {
      const killAfter = MIN_ACKED + Math.floor(next() * (MAX_ACKED - MIN_ACKED + 1));
      const context = `round ${round} (seed ${seed}, killed after ${killAfter} acknowledged writes)`;
      await writeUntilKilled(server, alice, inbox, { round, killAfter, acked });
      assert.equal((await server.status).signal, "SIGKILL", context);
      const check = await cli(["db", "check", "--data", dataDir]);
      assert.equal(check.code, 0, `${context}: db check\n${check.stdout}${check.stderr}`);
      assert.match(check.stdout, /Database OK/, context);
      server = await startServerProcess(dataDir);
      await assertAllThere(server.url, alice, acked, context);
    }
    assert.ok(acked.mailboxes.size > 0 && acked.emails.size > 0, `both kinds written (seed ${seed})`);
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
  }
});
