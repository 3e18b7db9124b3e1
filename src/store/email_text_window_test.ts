import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { migrate } from "./connection.ts";
import { Db } from "./db.ts";
import { allWords, type EmailFilter, type EmailQuery, runEmailQuery } from "./email_query.ts";
import { textWindow } from "./email_text_window.ts";

const WORDS = ["alpha", "alder", "beta", "bet", "gamma", "delta", "deltas", "omega", "café", "quay"];

/**
 * One account, three mailboxes, `count` emails whose receivedAt is often out of id order (an import
 * of old mail) and often tied, with words drawn from a small vocabulary.
 */
function corpus(count: number): Db {
  const raw = new DatabaseSync(":memory:");
  migrate(raw);
  raw.exec(`
    INSERT INTO domains (id, name, created_at) VALUES (1, 'example.org', 0);
    INSERT INTO accounts (id, name, type, domain_id, secret, created_at, updated_at)
    VALUES (1, 'alice', 'User', 1, x'00', 0, 0), (2, 'bob', 'User', 1, x'00', 0, 0);
    INSERT INTO threads (id, account_id) VALUES (1, 1), (2, 2);
    INSERT INTO mailboxes (id, account_id, name, created_at, updated_at)
    VALUES (101, 1, 'A', 0, 0), (102, 1, 'B', 0, 0), (103, 1, 'C', 0, 0);
  `);
  const boxes = [101, 102, 103];
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = () => WORDS[Math.floor(next() * WORDS.length)];
  const words = (n: number) => Array.from({ length: n }, pick).join(" ");
  for (let id = 1; id <= count; id++) {
    const account = id % 17 === 0 ? 2 : 1;
    // Mostly in order, a third out of order, and ties every few.
    const at = next() < 0.33 ? Math.floor(next() * count) * 10 : id * 10 - (id % 4 === 0 ? 10 : 0);
    raw.prepare("INSERT INTO blobs (id, hash, size, data, created_at) VALUES (?, ?, 1, x'00', 0)")
      .run(id, new Uint8Array([id >> 8, id & 255]));
    raw.prepare(
      `INSERT INTO emails (id, account_id, thread_id, blob_id, size, received_at, subject, base_subject, from_sort,
        to_sort, has_attachment, preview, headers, created_at) VALUES (?, ?, ?, ?, 1, ?, '', '', '', '', 0, '', '{}', 0)`,
    ).run(id, account, account, id, at);
    if (account === 1) {
      raw.prepare("INSERT INTO email_mailboxes (mailbox_id, email_id, received_at) VALUES (?, ?, ?)")
        .run(boxes[id % 3], id, at);
    }
    raw.prepare(
      `INSERT INTO email_search (rowid, subject, from_text, to_text, cc_text, bcc_text, body, attachments)
       VALUES (?, ?, ?, '', '', '', ?, '')`,
    ).run(id, words(2), `sender${id % 5} ${pick()}`, words(6));
  }
  return new Db(raw);
}

const db = corpus(600);
const boxes = [101, 102, 103];

const FILTERS: EmailFilter[] = [
  { condition: { text: ["alpha"] } },
  { condition: { text: ["al"] } },
  { condition: { text: ["cafe", "quay"] } },
  { condition: { text: ["delta"] } },
  { condition: { from: ["sender3"] } },
  { condition: { inMailbox: boxes[1], subject: ["bet"] } },
  { condition: { inMailbox: boxes[2], text: ["omega"], after: 1000, before: 5000 } },
  {
    operator: "AND",
    conditions: [{ condition: { body: ["gamma"] } }, { condition: { inMailboxOtherThan: [boxes[0]] } }],
  },
  { condition: { text: ["nowhere"] } },
];

Deno.test("a full-text window read in rowid order is the general query's window, with receivedAt out of id order and tied", () => {
  let served = 0;
  for (const filter of FILTERS) {
    for (const isAscending of [false, true]) {
      for (const [position, limit] of [[0, 1], [0, 10], [0, 50], [7, 20], [40, 30], [500, 100]]) {
        for (const readable of [undefined, [boxes[0], boxes[2]]]) {
          const query: EmailQuery = {
            accountId: 1,
            readable,
            filter,
            sort: [{ property: "receivedAt", isAscending }],
            collapseThreads: false,
            position,
            limit,
            calculateTotal: false,
          };
          const fast = textWindow(db, query, { other: () => "1", allWords });
          if (fast) served++;
          const general = runEmailQuery(db, { ...query, calculateTotal: true });
          assert.deepEqual(
            runEmailQuery(db, query).ids,
            general.ids,
            `${JSON.stringify(filter)} ${isAscending ? "asc" : "desc"} ${position}+${limit}`,
          );
        }
      }
    }
  }
  assert.ok(served > 0, "the rowid-order path served some queries");
});

Deno.test("queries the rowid-order path does not serve take the general query", () => {
  const base: EmailQuery = {
    accountId: 1,
    filter: { condition: { text: ["alpha"] } },
    sort: [{ property: "receivedAt", isAscending: false }],
    collapseThreads: false,
    position: 0,
    limit: 10,
    calculateTotal: false,
  };
  const sql = { other: () => "1", allWords };
  assert.ok(textWindow(db, base, sql));
  assert.equal(textWindow(db, { ...base, calculateTotal: true }, sql), undefined);
  assert.equal(textWindow(db, { ...base, collapseThreads: true }, sql), undefined);
  assert.equal(textWindow(db, { ...base, sort: [{ property: "size", isAscending: false }] }, sql), undefined);
  assert.equal(textWindow(db, { ...base, position: -5 }, sql), undefined);
  assert.equal(textWindow(db, { ...base, limit: undefined }, sql), undefined);
  assert.equal(textWindow(db, { ...base, position: 2000 }, sql), undefined);
  assert.equal(textWindow(db, { ...base, filter: { condition: { inMailbox: boxes[0] } } }, sql), undefined);
  const or: EmailFilter = { operator: "OR", conditions: [base.filter!, { condition: { text: ["beta"] } }] };
  assert.equal(textWindow(db, { ...base, filter: or }, sql), undefined);
  // Another account's mail is never in the window.
  const mine = new Set(db.all<{ id: number }>("SELECT id FROM emails WHERE account_id = 1").map((r) => r.id));
  assert.ok(runEmailQuery(db, { ...base, limit: 500 }).ids.every((id) => mine.has(id)));
});
