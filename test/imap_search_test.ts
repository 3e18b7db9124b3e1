/**
 * SEARCH, UID SEARCH, ESEARCH, SAVE/`$`, SORT and THREAD in a session with a crafted mailbox
 * selected (test/imap_search_helpers.ts), on the real store: every key family, OR/NOT nesting,
 * sequence numbers against UIDs (the mailbox's UIDs start at 3), the result forms, a sharer's view
 * and a revoked share, and bad input (charsets, nesting, FTS operators in search text).
 */
import assert from "node:assert/strict";
import { decodeId, encodeId } from "../src/model/ids.ts";
import type { TestApp } from "./helpers.ts";
import { withApp } from "./jmap_helpers.ts";
import { createMailbox, createUsers, rights, share, type Who } from "./mail_helpers.ts";
import { CRAFTED, craftedBytes, SearchSession } from "./imap_search_helpers.ts";

const id = (who: Who) => decodeId(who.accountId)!;
/** The UID of crafted message n (1-based): two messages were appended and expunged first. */
const U = (n: number) => n + 2;

async function fill(t: TestApp, who: Who, mailbox = "INBOX"): Promise<void> {
  const imap = t.services.imapMailboxes;
  const entry = (await imap.resolve(id(who), mailbox))!;
  const ref = { accountId: entry.accountId, mailboxId: entry.mailboxId };
  for (const n of [1, 2]) {
    await imap.append(id(who), ref, { message: new TextEncoder().encode(`Subject: gone ${n}\r\n\r\nx\r\n`) });
  }
  await imap.expunge(id(who), ref, [[1, 2]], { deletedOnly: false });
  for (const m of CRAFTED) {
    await imap.append(id(who), ref, {
      message: craftedBytes(m),
      flags: m.flags,
      internalDate: m.internalDate,
    });
  }
}

function withMailbox(
  body: (s: SearchSession, t: TestApp, alice: Who, bob: Who) => Promise<void>,
): Promise<void> {
  return withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    await fill(t, alice);
    await body(await SearchSession.open(t, id(alice), "INBOX"), t, alice, bob);
  });
}

/** Expected answers by key: crafted message numbers (= sequence numbers). */
const KEYS: [string, number[]][] = [
  ["ALL", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]],
  ["ANSWERED", [2]],
  ["UNANSWERED SEEN", [1, 8, 10, 12]],
  ["FLAGGED", [3, 10]],
  ["DELETED", [6]],
  ["UNDELETED DRAFT", [7]],
  ["UNSEEN UNFLAGGED", [4, 5, 6, 7, 9, 11]],
  ["KEYWORD $Important", [5]],
  ["UNKEYWORD $important", [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12]],
  ["NEW", []],
  ["RECENT", []],
  ["OLD", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]],
  ["FROM bob", [2, 9, 12]],
  ['FROM "Alice Able"', [1]],
  ["TO team", [8, 9]],
  ["CC carol", [1]],
  ["BCC carol", []],
  ["SUBJECT lunch", [4, 5, 11]],
  ["SUBJECT quarterly", [1, 2, 3, 12]],
  ["SUBJECT {7}\r\ngrüße", [7]],
  ["BODY budget", [1, 2, 3]],
  ["BODY {8}\r\nmünchen", [7]],
  ["TEXT budget", [1, 2, 3]],
  ["TEXT invoice.pdf", [6]],
  ["TEXT zed", [4]],
  ["HEADER X-Project apollo", [1]],
  ['HEADER X-Project ""', [1]],
  ['HEADER Message-ID ""', [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12]],
  ["HEADER In-Reply-To h1@x", [9]],
  ["HEADER FROM example.de", [7]],
  ['HEADER Subject "?"', [4, 5, 11]],
  ["LARGER 2000", [10]],
  ["NOT SMALLER 2000", [10]],
  ["BEFORE 4-Jan-2023", [1, 2]],
  ["ON 4-Jan-2023", [3]],
  ["SINCE 12-Jan-2023", [11, 12]],
  ["SENTBEFORE 3-Jan-2023", [1]],
  ["SENTON 8-Jan-2023", [7]],
  ["SENTSINCE 13-Jan-2023", [12]],
  ["OR FROM bob FROM carol", [2, 3, 9, 11, 12]],
  ["NOT SEEN", [3, 4, 5, 6, 7, 9, 11]],
  ["OR (FLAGGED SEEN) DELETED", [6, 10]],
  ["NOT (OR FROM bob SUBJECT lunch)", [1, 3, 6, 7, 8, 10]],
  ["NOT NOT NOT NOT FROM bob", [2, 9, 12]],
  ["OR (OR 1 2) (NOT OR UID 3:12 SUBJECT quarterly)", [1, 2, 11]],
  ["FROM bob 2:9", [2, 9]],
  ["UID 4:6 OR TEXT budget TEXT lunch", [2, 3, 4]],
  ["1:3,12 NOT 2", [1, 3, 12]],
  ["*", [12]],
  ["UID *", [12]],
  ["UID 1:2", []],
];

Deno.test("SEARCH: every key family, OR/NOT nesting and sets, by sequence number and by UID", () =>
  withMailbox(async (s) => {
    for (const [key, expected] of KEYS) {
      assert.deepEqual(await s.numbers(`SEARCH ${key}`), expected, `SEARCH ${key}`);
      assert.deepEqual(await s.numbers(`UID SEARCH ${key}`), expected.map(U), `UID SEARCH ${key}`);
    }
    assert.deepEqual(await s.numbers("SEARCH CHARSET UTF-8 FROM bob"), [2, 9, 12]);
    assert.deepEqual(await s.numbers("SEARCH CHARSET us-ascii FROM bob"), [2, 9, 12]);
    assert.deepEqual(await s.numbers("SEARCH SUBJECT {7}\r\ngrüße"), [7]);
  }));

Deno.test("a message that arrived since the client's last EXISTS is not searched, sorted or threaded yet", () =>
  withMailbox(async (s, t, alice) => {
    const imap = t.services.imapMailboxes;
    const entry = (await imap.resolve(id(alice), "INBOX"))!;
    const late = (subject: string) =>
      imap.append(id(alice), entry, {
        message: new TextEncoder().encode(`From: bob@example.net\r\nSubject: ${subject}\r\n\r\nbudget\r\n`),
      });
    // Each command leaves out what arrived since the last EXISTS; the sync after it announces the
    // arrival (RFC 9051 §7.4.1), so the next command includes it.
    const { uid } = await late("late one");
    assert.deepEqual(await s.numbers("UID SEARCH FROM bob"), [2, 9, 12].map(U));
    await late("late two");
    assert.deepEqual(await s.numbers("SORT (ARRIVAL) UTF-8 BODY budget", "SORT"), [1, 2, 3, 13]);
    await late("late three");
    assert.equal((await s.answer("THREAD ORDEREDSUBJECT UTF-8 SUBJECT three", "THREAD")).data, "* THREAD");
    assert.deepEqual(await s.numbers("UID SEARCH FROM bob"), [...[2, 9, 12].map(U), uid, uid + 1, uid + 2]);
  }));

Deno.test("SEARCH: EMAILID, THREADID and MODSEQ (with the highest MODSEQ in the answer)", () =>
  withMailbox(async (s, t, alice) => {
    const selected = s.session.selected!;
    const facts = await t.services.imapMailboxes.facts(id(alice), selected.ref, [[1, 100]]);
    const byUid = new Map(facts.map((f) => [f.uid, f]));
    const fourth = byUid.get(U(4))!;
    assert.deepEqual(await s.numbers(`SEARCH EMAILID ${encodeId(fourth.emailId)}`), [4]);
    assert.deepEqual(await s.numbers("SEARCH EMAILID nonsense"), []);
    const first = byUid.get(U(1))!;
    const sameThread = facts.filter((f) => f.threadId === first.threadId).map((f) => f.uid - 2);
    assert.ok(sameThread.length >= 3, "the plans thread");
    assert.deepEqual(await s.numbers(`SEARCH THREADID ${encodeId(first.threadId)}`), sameThread);
    const modseqs = facts.map((f) => f.modseq).sort((a, b) => a - b);
    const middle = modseqs[6];
    const above = facts.filter((f) => f.modseq >= middle).map((f) => f.uid - 2);
    const enabling = await s.command(`SEARCH MODSEQ ${middle}`);
    assert.match(enabling[0], /^\* OK \[HIGHESTMODSEQ \d+\]/);
    assert.ok(s.session.enabled.has("CONDSTORE"));
    const plain = await s.answer(`SEARCH MODSEQ ${middle}`);
    const highest = Math.max(...facts.map((f) => f.modseq));
    assert.equal(plain.data, `* SEARCH ${above.join(" ")} (MODSEQ ${highest})`);
    const esearch = await s.answer(`SEARCH RETURN (COUNT) MODSEQ ${middle}`, "ESEARCH");
    assert.match(esearch.data!, new RegExp(`COUNT ${above.length} MODSEQ ${highest}$`));
    const none = await s.answer(`SEARCH MODSEQ ${highest + 1}`);
    assert.equal(none.data, "* SEARCH");
    // Under OR the MODSEQ set becomes a condition of the query.
    assert.deepEqual(
      await s.numbers(`SEARCH OR MODSEQ ${highest} FROM dave`),
      [
        ...new Set([4, ...facts.filter((f) => f.modseq === highest).map((f) => f.uid - 2)]),
      ].sort((a, b) => a - b),
    );
  }));

Deno.test("ESEARCH result options, IMAP4rev2's ESEARCH answer, SAVE and $", () =>
  withMailbox(async (s) => {
    const answer = async (command: string) => (await s.answer(command, "ESEARCH")).data;
    assert.match(
      (await answer("SEARCH RETURN (MIN MAX COUNT) FROM bob"))!,
      /^\* ESEARCH \(TAG "t\d+"\) MIN 2 MAX 12 COUNT 3$/,
    );
    assert.match(
      (await answer("UID SEARCH RETURN () FROM bob"))!,
      /^\* ESEARCH \(TAG "t\d+"\) UID ALL 4,11,14$/,
    );
    assert.match((await answer("SEARCH RETURN (ALL) OR FROM bob 1:3"))!, /ALL 1:3,9,12$/);
    assert.match(
      (await answer("SEARCH RETURN (MIN MAX ALL COUNT) FROM nobody"))!,
      /^\* ESEARCH \(TAG "t\d+"\) COUNT 0$/,
    );
    // SAVE alone answers no ESEARCH; `$` is then the result, by UID and by sequence number.
    const saved = await s.command("SEARCH RETURN (SAVE) FROM bob");
    assert.equal(saved.length, 1);
    assert.match(saved[0], /^t\d+ OK/);
    assert.deepEqual(await s.numbers("UID SEARCH $"), [4, 11, 14]);
    assert.deepEqual(await s.numbers("SEARCH $ SUBJECT quarterly"), [2, 12]);
    assert.deepEqual(await s.numbers("SEARCH OR $ 1"), [1, 2, 9, 12]);
    assert.match((await answer("SEARCH RETURN (SAVE MIN) FROM carol"))!, /MIN 3$/);
    assert.deepEqual(await s.numbers("UID SEARCH $"), [U(3)]);
    assert.match((await answer("SEARCH RETURN (SAVE MIN MAX) FROM carol"))!, /MIN 3 MAX 11$/);
    assert.deepEqual(await s.numbers("SEARCH $"), [3, 11]);
    // A search that fails leaves $ empty (RFC 5182 §2.1).
    const failed = await s.command("SEARCH RETURN (SAVE) CHARSET KOI8-R ALL");
    assert.match(failed.at(-1)!, /^t\d+ NO \[BADCHARSET/);
    assert.deepEqual(await s.numbers("UID SEARCH $"), []);
    s.session.enabled.add("IMAP4REV2");
    assert.match((await answer("SEARCH FROM bob"))!, /^\* ESEARCH \(TAG "t\d+"\) ALL 2,9,12$/);
    assert.match((await answer("UID SEARCH FROM nobody"))!, /^\* ESEARCH \(TAG "t\d+"\) UID$/);
  }));

Deno.test("SORT by every key and REVERSE; THREAD ORDEREDSUBJECT and REFERENCES", () =>
  withMailbox(async (s) => {
    const sorted = (criteria: string, search = "ALL") =>
      s.numbers(`SORT (${criteria}) UTF-8 ${search}`, "SORT");
    assert.deepEqual(await sorted("FROM"), [1, 8, 2, 9, 12, 3, 11, 4, 5, 6, 7, 10]);
    assert.deepEqual(await sorted("ARRIVAL"), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.deepEqual(await sorted("REVERSE ARRIVAL", "FROM bob"), [12, 9, 2]);
    assert.deepEqual(await sorted("SIZE", "LARGER 1000"), [10]);
    assert.deepEqual(await sorted("SUBJECT DATE", "NOT DELETED"), [10, 7, 4, 5, 11, 1, 2, 3, 12, 8, 9]);
    assert.deepEqual(await sorted("TO REVERSE DATE", "1:4"), [3, 2, 1, 4]);
    assert.deepEqual(await sorted("DISPLAYFROM", "1:5"), [1, 2, 3, 4, 5]);
    assert.deepEqual(await sorted("CC ARRIVAL", "1:3"), [2, 3, 1]);
    assert.deepEqual(await s.numbers("UID SORT (REVERSE DATE) UTF-8 FROM bob", "SORT"), [U(12), U(9), U(2)]);
    assert.match(
      (await s.command("SORT (FROM) ISO-8859-1 ALL")).at(-1)!,
      /NO \[BADCHARSET \(UTF-8 US-ASCII\)\]/,
    );
    assert.match((await s.command("SORT RETURN (MIN) (FROM) UTF-8 ALL")).at(-1)!, /^t\d+ BAD/);

    const thread = async (command: string) => (await s.answer(command, "THREAD")).data;
    assert.equal(
      await thread("THREAD ORDEREDSUBJECT UTF-8 ALL"),
      "* THREAD (1 (2)(3)(12))(4 (5)(11))(6)(7)(8 9)(10)",
    );
    assert.equal(
      await thread("THREAD REFERENCES UTF-8 ALL"),
      "* THREAD (1 (2 3)(12))((4 5)(11))(6)(7)(8 9)(10)",
    );
    assert.equal(
      await thread("UID THREAD REFERENCES UTF-8 FROM bob"),
      `* THREAD ((${U(2)})(${U(12)}))(${U(9)})`,
    );
    assert.equal(await thread("THREAD REFERENCES UTF-8 FROM nobody"), "* THREAD");
  }));

Deno.test("a sharer searches only the shared mailbox it may read; a revoked share answers NO [NONEXISTENT]", () =>
  withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    const shared = await createMailbox(t, bob, { name: "Shared" });
    await fill(t, bob, "Shared");
    await fill(t, bob, "INBOX");
    await share(t, bob, shared.id as string, { [alice.accountId]: rights("mayReadItems") });
    const s = await SearchSession.open(t, id(alice), "Other Users/bob/Shared");
    assert.deepEqual(await s.numbers("SEARCH FROM bob"), [2, 9, 12]);
    assert.deepEqual(await s.numbers("SEARCH TEXT budget"), [1, 2, 3]);
    assert.deepEqual(await s.numbers("SORT (REVERSE ARRIVAL) UTF-8 FROM bob", "SORT"), [12, 9, 2]);
    // Bob's INBOX reached with a forged selection: not Alice's to search.
    const bobInbox = (await t.services.imapMailboxes.resolve(id(bob), "INBOX"))!;
    const forged = await SearchSession.open(t, id(alice), "Other Users/bob/Shared");
    Object.assign(forged.session.selected!, { mailboxId: bobInbox.mailboxId });
    // The command is refused, then the session ends: its selected mailbox is not one Alice can see.
    const refused = await forged.command("SEARCH ALL");
    assert.match(refused.find((line) => /^t\d+ /.test(line))!, /^t\d+ NO \[NONEXISTENT\]/);
    assert.match(refused.at(-1)!, /^\* BYE /);
    // A grant that still shows the mailbox but no longer lets Alice read it.
    // Each refusal is answered, then the session ends (Dovecot's "Selected mailbox was deleted").
    const tagged = (lines: string[]) => lines.find((line) => /^t\d+ /.test(line))!;
    const later = await SearchSession.open(t, id(alice), "Other Users/bob/Shared");
    await share(t, bob, shared.id as string, { [alice.accountId]: rights("mayAddItems") });
    const noRead = await s.command("SEARCH FROM bob");
    assert.match(tagged(noRead), /^t\d+ NO \[NOPERM\]/);
    assert.match(noRead.at(-1)!, /^\* BYE /);
    await share(t, bob, shared.id as string, null);
    const gone = await later.command("THREAD REFERENCES UTF-8 ALL");
    assert.match(tagged(gone), /^t\d+ NO \[NONEXISTENT\]/);
    assert.match(gone.at(-1)!, /^\* BYE /);
  }));

Deno.test("bad input: charsets, deep nesting, FTS syntax in search text, sets past the end", () =>
  withMailbox(async (s, t, alice) => {
    const empty = await SearchSession.open(t, id(alice), "Drafts");
    assert.deepEqual(await empty.numbers("SEARCH 1:*"), []);
    assert.deepEqual(await empty.numbers("UID SEARCH UID 1:* $"), []);
    assert.equal((await empty.answer("SORT (DATE) UTF-8 *", "SORT")).data, "* SORT");
    assert.equal((await empty.answer("THREAD REFERENCES UTF-8 ALL", "THREAD")).data, "* THREAD");
    const status = async (command: string) => (await s.command(command)).at(-1)!;
    assert.match(
      await status("SEARCH CHARSET ISO-8859-1 FROM bob"),
      /^t\d+ NO \[BADCHARSET \(UTF-8 US-ASCII\)\]/,
    );
    assert.match(
      await status("SEARCH CHARSET X-NOPE FROM bob"),
      /^t\d+ NO \[BADCHARSET \(UTF-8 US-ASCII\)\]/,
    );
    assert.match(await status(`SEARCH ${"NOT ".repeat(150)}ALL`), /^t\d+ BAD .*nested too deeply/);
    assert.match(await status(`SEARCH ${"(".repeat(90)}FROM bob${")".repeat(90)}`), /^t\d+ OK/);
    const nested = `${"OR FROM bob ".repeat(60)}SUBJECT lunch`;
    assert.deepEqual(await s.numbers(`SEARCH ${nested}`), [2, 4, 5, 9, 11, 12]);
    for (
      const text of [
        '"a OR b"',
        '"*"',
        "NEAR",
        '"NEAR(a b)"',
        '"\\""',
        '"("',
        "AND",
        '"x*"',
        '"-budget"',
        '"c:d"',
        '"^a"',
      ]
    ) {
      for (const key of ["TEXT", "BODY", "SUBJECT", "FROM", "HEADER X-Project"]) {
        const answer = await status(`SEARCH ${key} ${text}`);
        assert.match(answer, /^t\d+ OK/, `${key} ${text}: ${answer}`);
      }
    }
    assert.deepEqual(await s.numbers('SEARCH SUBJECT "a OR b"'), [10]);
    assert.deepEqual(await s.numbers('SEARCH TEXT "quoted"'), [10]);
    // Sequence numbers past the end match nothing (as in Dovecot), not BAD.
    assert.deepEqual(await s.numbers("SEARCH 13"), []);
    assert.deepEqual(await s.numbers("SEARCH 11:99"), [11, 12]);
    assert.deepEqual(
      await s.numbers("UID SEARCH UID 1:4294967295"),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map(U),
    );
    assert.match(await status("SEARCH NONSENSE"), /^t\d+ BAD/);
  }));

/** Random search text: FTS5 operators, quotes, stars, carets, parentheses, non-ASCII and spaces. */
const PIECES = [
  '"',
  "*",
  "^",
  "(",
  ")",
  ":",
  "-",
  "+",
  "NEAR",
  "AND",
  "OR",
  "NOT",
  "a",
  "budget",
  "ü",
  "日本",
  " ",
  "\\",
  "{",
  "'",
];

Deno.test("random search programs with FTS syntax in their strings never fail the server", () =>
  withMailbox(async (s) => {
    let seed = 11;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    const text = () => {
      const value = Array.from({ length: random(6) }, () => PIECES[random(PIECES.length)]).join("");
      return `{${new TextEncoder().encode(value).length}}\r\n${value}`;
    };
    const key = (depth: number): string => {
      const leaves = [
        () => `TEXT ${text()}`,
        () => `BODY ${text()}`,
        () => `SUBJECT ${text()}`,
        () => `FROM ${text()}`,
        () => `HEADER X-Project ${text()}`,
        () => `HEADER ${["Subject", "To", "List-Id"][random(3)]} ${text()}`,
        () => ["SEEN", "UNSEEN", "FLAGGED", "ALL", "OLD", "NEW"][random(6)],
        () => `${1 + random(15)}:*`,
        () => `UID ${1 + random(20)}:${1 + random(20)}`,
        () => `LARGER ${random(3000)}`,
        () => `SENTSINCE ${1 + random(28)}-Jan-2023`,
      ];
      if (depth > 3 || random(3) === 0) return leaves[random(leaves.length)]();
      switch (random(3)) {
        case 0:
          return `OR ${key(depth + 1)} ${key(depth + 1)}`;
        case 1:
          return `NOT ${key(depth + 1)}`;
        default:
          return `(${key(depth + 1)} ${key(depth + 1)})`;
      }
    };
    for (let i = 0; i < 300; i++) {
      const program = key(0);
      const command =
        ["SEARCH", "UID SEARCH RETURN (MIN COUNT)", "SORT (SUBJECT) UTF-8", "THREAD REFERENCES UTF-8"][
          random(4)
        ];
      const status = (await s.command(`${command} ${program}`)).at(-1)!;
      assert.match(status, /^t\d+ OK/, `${command} ${program}: ${status}`);
    }
  }));
