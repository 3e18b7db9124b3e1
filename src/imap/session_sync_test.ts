/**
 * The sync of the selected mailbox (session_sync.ts) on a session over a mailbox model: EXISTS for
 * arrivals, FETCH for flag changes (UID, MODSEQ by what is enabled), expunges only when the command
 * allows them and held until then, VANISHED under QRESYNC, a message added and removed between two
 * syncs never told, no read past the state lookup when nothing changed, IDLE's subscription stopped
 * when the session ends, and BYE when the mailbox is gone.
 */
import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { NotFoundError } from "../model/errors.ts";
import { COMMANDS } from "./commands/table.ts";
import { createCommandDecoder } from "./decoder.ts";
import type { ImapMailboxes, ImapMessages } from "./mailbox_deps.ts";
import { ImapMetrics } from "./metrics.ts";
import { ImapSession, type SessionDeps } from "./session.ts";
import { TEST_LIMITS } from "./test_helpers.ts";

interface Row {
  uid: number;
  modseq: number;
  flags: string[];
}

/** One mailbox: its messages, what was expunged (uid, modseq), and counters of reads. */
class Model {
  rows: Row[] = [];
  expunged: { uid: number; modseq: number }[] = [];
  modseq = 1;
  uidNext = 1;
  gone = false;
  reads = 0;
  subscriptions = 0;
  listeners = new Set<() => void>();

  add(flags: string[] = []): number {
    this.rows.push({ uid: this.uidNext++, modseq: ++this.modseq, flags });
    return this.uidNext - 1;
  }
  flag(uid: number, flags: string[]): void {
    const row = this.rows.find((r) => r.uid === uid)!;
    row.flags = flags;
    row.modseq = ++this.modseq;
  }
  expunge(uid: number): void {
    this.rows = this.rows.filter((r) => r.uid !== uid);
    this.expunged.push({ uid, modseq: ++this.modseq });
  }
  notify(): void {
    for (const listener of this.listeners) listener();
  }
}

function messagesOf(model: Model): ImapMessages {
  const message = (r: Row) => ({ uid: r.uid, emailId: r.uid * 10, modseq: r.modseq, flags: [...r.flags] });
  const fake: Partial<ImapMessages> = {
    selectMailbox: (_viewer, entry, options) =>
      Promise.resolve({
        accountId: entry.accountId,
        mailboxId: entry.mailboxId,
        name: entry.name,
        uidValidity: 77,
        uidNext: model.uidNext,
        highestModseq: model.modseq,
        readOnly: options?.examine === true,
        rights: 0xffff,
        messages: model.rows.map(message),
        unseen: 0,
        firstUnseen: null,
        flags: ["\\Seen"],
        permanentFlags: ["\\Seen", "\\*"],
      }),
    changes: (_viewer, _ref, since) => {
      if (model.gone) return Promise.reject(new NotFoundError("Mailbox", "2"));
      const base = { uidNext: model.uidNext, highestModseq: model.modseq };
      if (since >= model.modseq) {
        return Promise.resolve({ ...base, changed: [], vanished: [], vanishedExact: true });
      }
      model.reads++;
      return Promise.resolve({
        ...base,
        changed: model.rows.filter((r) => r.modseq > since).map(message),
        vanished: model.expunged.filter((e) => e.modseq > since).map((e) =>
          [e.uid, e.uid] as [number, number]
        ),
        vanishedExact: true,
      });
    },
    expunge: () => Promise.resolve([]),
  };
  return fake as ImapMessages;
}

const mailboxes: ImapMailboxes = {
  list: () =>
    Promise.resolve([{
      id: 2,
      accountId: 1,
      name: "Inbox",
      parentId: null,
      role: "inbox",
      subscribed: true,
      rights: 0xffff,
      messages: 0,
      unseen: 0,
      shareWith: null,
    }]),
  sharers: () => Promise.resolve([]),
} as unknown as ImapMailboxes;

/** A logged-in session over `model`, its output as text, and a way to send a command. */
function sessionOver(model: Model) {
  let output = "";
  let ended = false;
  const deps: SessionDeps = {
    checkLogin: () => Promise.reject(new Error("unused")),
    recheck: () => Promise.resolve({ accountId: 1 } as never),
    mailboxes,
    messages: messagesOf(model),
    metrics: new ImapMetrics(),
    log: getLogger(["postern", "imap", "test"]),
    limits: { maxErrors: 100 },
    version: "test",
    changes: (_accountId, listener) => {
      model.subscriptions++;
      model.listeners.add(listener);
      return {
        stop() {
          if (model.listeners.delete(listener)) model.subscriptions--;
        },
      };
    },
  };
  const io = {
    client: "127.0.0.1",
    secure: true,
    starttls: false,
    write: (bytes: Uint8Array) => output += new TextDecoder().decode(bytes),
    startTls: () => Promise.resolve(),
    compress() {},
    close: () => ended = true,
  };
  const decoder = createCommandDecoder(TEST_LIMITS);
  const session = new ImapSession(io, decoder, deps, COMMANDS);
  session.state = "authenticated";
  session.principal = { accountId: 1 } as never;
  session.authorization = "Basic x";
  const send = async (text: string): Promise<string[]> => {
    output = "";
    for (const event of decoder.push(new TextEncoder().encode(`${text}\r\n`))) await session.handle(event);
    return output.split("\r\n").filter((line) => line);
  };
  return { session, send, output: () => output, ended: () => ended };
}

Deno.test("NOOP tells arrivals (EXISTS), flag changes (FETCH) and expunges from the highest down", async () => {
  const model = new Model();
  for (let i = 0; i < 4; i++) model.add();
  const { send } = sessionOver(model);
  const selected = await send("a SELECT INBOX");
  assert.match(selected.at(-1)!, /^a OK \[READ-WRITE\]/);
  assert.ok(selected.includes("* 4 EXISTS"), selected.join("\n"));
  model.add();
  model.flag(2, ["\\Seen"]);
  model.expunge(1);
  model.expunge(3);
  assert.deepEqual(await send("b NOOP"), [
    "* 3 EXPUNGE",
    "* 1 EXPUNGE",
    "* 3 EXISTS",
    "* 1 FETCH (FLAGS (\\Seen))",
    "b OK NOOP completed",
  ]);
  const reads = model.reads;
  assert.deepEqual(await send("c NOOP"), ["c OK NOOP completed"]);
  assert.equal(model.reads, reads, "nothing changed: only the state was looked up");
});

Deno.test("expunges wait for a command that may tell them; a message added and removed meanwhile is never told", async () => {
  const model = new Model();
  for (let i = 0; i < 3; i++) model.add();
  const { send, session } = sessionOver(model);
  await send("a SELECT INBOX");
  model.expunge(2);
  // FETCH is not in this branch's table: its entry (no `expunges`) is what a FETCH gets.
  session.table.FETCH = {
    states: ["selected"],
    run: (_s, c) => Promise.resolve({ tag: c.tag, status: "OK", text: "done" }),
  };
  assert.deepEqual(await send("b FETCH 1:* FLAGS"), ["b OK done"]);
  assert.equal(session.selected!.exists, 3, "the expunged message keeps its number");
  const added = model.add();
  model.expunge(added);
  model.add();
  assert.deepEqual(await send("c UID FETCH 1:* FLAGS"), ["* 2 EXPUNGE", "* 3 EXISTS", "c OK done"]);
  assert.deepEqual(session.selected!.uids, [1, 3, 5]);
});

Deno.test("CONDSTORE adds MODSEQ, QRESYNC adds UID and turns EXPUNGE into VANISHED", async () => {
  const model = new Model();
  for (let i = 0; i < 3; i++) model.add();
  const { send } = sessionOver(model);
  assert.deepEqual(await send("a ENABLE QRESYNC"), ["* ENABLED QRESYNC", "a OK ENABLE completed"]);
  await send("b SELECT INBOX");
  model.flag(3, ["\\Flagged"]);
  model.expunge(1);
  model.expunge(2);
  assert.deepEqual(await send("c NOOP"), [
    "* VANISHED 1:2",
    `* 1 FETCH (UID 3 FLAGS (\\Flagged) MODSEQ (${model.modseq - 2}))`,
    "c OK NOOP completed",
  ]);
});

Deno.test("IDLE tells changes as they are announced and stops listening on DONE and when the connection ends", async () => {
  const model = new Model();
  model.add();
  const { send, session, output } = sessionOver(model);
  await send("a SELECT INBOX");
  assert.deepEqual(await send("b IDLE"), ["+ idling"]);
  assert.equal(model.subscriptions, 1);
  model.add();
  model.expunge(1);
  model.notify();
  const deadline = Date.now() + 30_000;
  while (!output().includes("EXISTS") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(output(), "+ idling\r\n* 1 EXPUNGE\r\n* 1 EXISTS\r\n");
  assert.deepEqual(await send("DONE"), ["b OK IDLE terminated"]);
  assert.equal(model.subscriptions, 0);
  await send("c IDLE");
  assert.equal(model.subscriptions, 1);
  session.ended();
  assert.equal(model.subscriptions, 0, "the session's end stops its subscription");
});

Deno.test("the selected mailbox gone: the next command gets BYE and the session ends", async () => {
  const model = new Model();
  model.add();
  const { send, ended } = sessionOver(model);
  await send("a SELECT INBOX");
  model.gone = true;
  // As Dovecot: the command under way is answered, then the session ends.
  assert.deepEqual(await send("b NOOP"), [
    "b OK NOOP completed",
    "* BYE Selected mailbox was deleted, have to disconnect.",
  ]);
  assert.ok(ended());
});

Deno.test("EXAMINE is read-only: EXPUNGE is NO [READ-ONLY]; SELECT again closes it with [CLOSED]", async () => {
  const model = new Model();
  model.add(["\\Deleted"]);
  const { send } = sessionOver(model);
  assert.match((await send("a EXAMINE INBOX")).at(-1)!, /^a OK \[READ-ONLY\] Examine completed/);
  assert.match((await send("b EXPUNGE")).at(-1)!, /^b NO \[READ-ONLY\]/);
  const again = await send("c SELECT INBOX");
  assert.equal(again[0], "* OK [CLOSED] Previous mailbox closed.");
  assert.match(again.at(-1)!, /^c OK \[READ-WRITE\]/);
  const missing = await send("d SELECT Nowhere");
  assert.match(missing.at(-1)!, /^d NO \[NONEXISTENT\]/);
  assert.match((await send("e NOOP")).at(-1)!, /^e OK/);
  assert.match(
    (await send("f EXPUNGE")).at(-1)!,
    /^f BAD .*selected/,
    "the failed SELECT left no mailbox selected",
  );
});

Deno.test("IDLE ended by a refused line stops listening too", async () => {
  const model = new Model();
  const { send } = sessionOver(model);
  await send("a SELECT INBOX");
  await send("b IDLE");
  assert.equal(model.subscriptions, 1);
  const refused = await send("x".repeat(70_000));
  assert.match(refused.join("\n"), /BAD/);
  assert.equal(model.subscriptions, 0);
});
