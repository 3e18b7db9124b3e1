/**
 * What the IMAP mail service (src/mail/imap_mailbox.ts, imap_updates.ts) costs per operation on a
 * large mailbox, in-process on one database file, without the wire (the handlers' own cost is
 * issue 24's benchmark against Dovecot):
 *
 * 1. SELECT: ImapMailboxService.select of the mailbox, its shared view kept (one state lookup), and
 *    cold (the view dropped first: every message's UID, MODSEQ and flags read).
 * 2. FETCH 1:* (FLAGS UID): the view a FETCH of flags answers from (view), and the facts of every
 *    message (what other FETCH items read).
 * 3. UID FETCH of 50 full messages: message(uid) 50 times, and messages(uids) once when it exists.
 * 4. STORE +FLAGS (\Flagged) then -FLAGS on the first `--store` messages: µs per message.
 *
 * The mailbox is built by SQL in seconds: a few real messages imported through Email/import, then
 * copies of the first one's row, each with a blob of its own (same bytes, a random hash), put in the
 * mailbox by one INSERT so the triggers of store/migrations/041_imap.ts give their UIDs; a third are
 * \Seen. Each figure is the median of `--rounds` runs on the same mailbox.
 *
 *   deno run -A scripts/bench/imap_service_speed.ts [--messages 100000] [--store 10000] [--rounds 5]
 */
import { parseArgs } from "node:util";
import { resolveConfig } from "../../src/config/mod.ts";
import { bootstrap } from "../../src/directory/mod.ts";
import { openData } from "../../src/server.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "100000" },
    store: { type: "string", default: "10000" },
    rounds: { type: "string", default: "5" },
  },
});
const COUNT = Number(values.messages);
const STORED = Math.min(Number(values.store), COUNT);
const ROUNDS = Number(values.rounds);
const encoder = new TextEncoder();

function message(i: number): Uint8Array<ArrayBuffer> {
  const body = `Line ${i} of a message about the weather, the harvest and the fair.\r\n`.repeat(60);
  return encoder.encode(
    `From: sender${i % 17}@example.net\r\nTo: bench@example.org\r\nSubject: Bench message ${i}\r\n` +
      `Message-ID: <m${i}.${crypto.randomUUID()}@example.net>\r\nDate: Mon, 7 Dec 2026 00:00:00 +0000\r\n\r\n${body}`,
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed(body: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    await body();
    times.push(performance.now() - started);
  }
  return median(times);
}

const dataDir = await Deno.makeTempDir({ prefix: "postern-imap-speed-" });
const { services } = await openData(
  resolveConfig({ data: dataDir }, { POSTERN_ADMIN_PASSWORD: "x".repeat(24) }),
);
try {
  await bootstrap(services, { domain: "example.org", adminPassword: "bench admin password long enough" });
  const domain = await services.domains.getByName("example.org");
  const user = await services.accounts.create({ type: "User", name: "bench", domainId: domain!.id });
  const inbox = (await services.store.mailboxes.list(user.id)).find((m) => m.role === "inbox")!;
  const upload = await services.blobs.upload(user.id, user.id, { data: message(0), type: "message/rfc822" });
  await services.emails.import(user.id, user.id, [{
    blobId: upload.blobId,
    mailboxIds: [inbox.id],
    keywords: [],
  }]);
  let started = performance.now();
  // Copies of the first email (its thread too), each with a blob of its own, then all put in the Inbox.
  services.store.unsafeExec(`
    BEGIN;
    CREATE TEMP TABLE n AS WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${
    COUNT - 1
  })
      SELECT i FROM c;
    INSERT INTO blobs (hash, size, data, created_at)
      SELECT randomblob(32), b.size, b.data, b.created_at FROM n, blobs b
      WHERE b.id = (SELECT blob_id FROM emails WHERE account_id = ${user.id} ORDER BY id LIMIT 1);
    INSERT INTO emails (account_id, thread_id, blob_id, size, received_at, sent_at, sent_ms, subject,
        base_subject, from_sort, to_sort, has_attachment, preview, headers, created_at, imap_size)
      SELECT e.account_id, e.thread_id, b.id, e.size, e.received_at + b.id, e.sent_at, e.sent_ms, e.subject,
        e.base_subject, e.from_sort, e.to_sort, e.has_attachment, e.preview, e.headers, e.created_at, e.imap_size
      FROM blobs b, emails e
      WHERE b.id > e.blob_id AND e.id = (SELECT min(id) FROM emails WHERE account_id = ${user.id});
    INSERT INTO email_keywords (email_id, keyword)
      SELECT id, '$seen' FROM emails WHERE account_id = ${user.id} AND id % 3 = 0;
    INSERT OR IGNORE INTO email_mailboxes (mailbox_id, email_id, received_at)
      SELECT ${inbox.id}, id, received_at FROM emails WHERE account_id = ${user.id} ORDER BY id;
    DROP TABLE n;
    COMMIT;
  `);
  const built = performance.now() - started;
  const imap = services.imapMailboxes;
  const ref = { accountId: user.id, mailboxId: inbox.id };
  started = performance.now();
  const selection = await imap.select(user.id, "INBOX");
  if (selection.messages.length !== COUNT) {
    throw new Error(`${selection.messages.length} messages, not ${COUNT}`);
  }
  const all = [[1, selection.uidNext - 1] as const];
  const fifty = selection.messages.slice(0, 50).map((m) => m.uid);
  const select = await timed(() => imap.select(user.id, "INBOX"));
  const selectCold = await timed(() => {
    imap.views.forget(inbox.id);
    return imap.select(user.id, "INBOX");
  });
  const view = await timed(() => imap.view(user.id, ref));
  const facts = await timed(() => imap.facts(user.id, ref, all));
  const message50 = await timed(async () => {
    for (const uid of fifty) await imap.message(user.id, ref, uid);
  });
  const batch = (imap as unknown as {
    messages?: (viewer: number, ref: unknown, uids: readonly number[]) => Promise<unknown>;
  }).messages;
  const messages50 = batch ? await timed(() => batch.call(imap, user.id, ref, fifty)) : null;
  const some = [[1, selection.messages[STORED - 1].uid] as const];
  const store = await timed(async () => {
    await imap.storeFlags(user.id, ref, some, { operation: "add", flags: ["\\Flagged"] });
    await imap.storeFlags(user.id, ref, some, { operation: "remove", flags: ["\\Flagged"] });
  });
  const us = (ms: number, n: number) => Math.round((ms * 1000 / n) * 10) / 10;
  console.log(JSON.stringify({
    messages: COUNT,
    rounds: ROUNDS,
    buildSeconds: Math.round(built / 100) / 10,
    selectMs: Math.round(select * 100) / 100,
    selectUsPerMessage: us(select, COUNT),
    selectColdMs: Math.round(selectCold),
    viewMs: Math.round(view * 100) / 100,
    factsAllMs: Math.round(facts),
    factsUsPerMessage: us(facts, COUNT),
    message50Ms: Math.round(message50 * 10) / 10,
    messages50Ms: messages50 === null ? null : Math.round(messages50 * 10) / 10,
    storeMessages: STORED,
    storeUsPerMessage: us(store, 2 * STORED),
  }));
} finally {
  await services.close();
  await Deno.remove(dataDir, { recursive: true });
}
