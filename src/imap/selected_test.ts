import assert from "node:assert/strict";
import { ImapMailboxView } from "../mail/mod.ts";
import { ImapBad } from "./errors.ts";
import { SelectedMailbox } from "./selected.ts";

function mailbox(uids: number[], uidNext = (uids.at(-1) ?? 0) + 1): SelectedMailbox {
  return new SelectedMailbox({
    accountId: 1,
    mailboxId: 2,
    name: "INBOX",
    uidValidity: 7,
    uidNext,
    highestModseq: 10,
    readOnly: false,
    messages: uids.map((uid) => ({ uid, emailId: uid * 10, modseq: 5, flags: [] })),
  });
}

Deno.test("sequence numbers and UIDs resolve as RFC 9051 §6.4.8 says", () => {
  const box = mailbox([3, 5, 9, 12]);
  assert.deepEqual(box.resolve([{ start: 2, end: "*" }], false), [5, 9, 12]);
  assert.deepEqual(box.resolve([{ start: "*", end: 1 }], false), [3, 5, 9, 12]);
  assert.deepEqual(box.resolve([{ start: 4, end: 10 }], true), [5, 9]);
  assert.deepEqual(box.resolve([{ start: 1, end: 4294967295 }, { start: 5, end: 5 }], true), [3, 5, 9, 12]);
  // `UID n:*` with n above every UID still names the last message (RFC 9051 §6.4.8).
  assert.deepEqual(box.resolve([{ start: 100, end: "*" }], true), [12]);
  assert.deepEqual(box.seqOf(9), 3);
  assert.deepEqual(box.seqOf(4), undefined);
  assert.deepEqual(box.uidAt(4), 12);
  assert.throws(
    () => box.resolve([{ start: 5, end: 5 }], false),
    (e) => e instanceof ImapBad && e.message === "Invalid message sequence number (there are 4)",
  );
  assert.throws(() => box.resolve([{ start: 0, end: 1 }], false), ImapBad);
});

Deno.test("an empty mailbox: sequence sets are refused, UID sets name nothing", () => {
  const box = mailbox([], 8);
  assert.throws(() => box.resolve([{ start: 1, end: "*" }], false), /The mailbox is empty/);
  assert.deepEqual(box.resolve([{ start: 1, end: "*" }], true), []);
});

Deno.test("expunges are numbered from the highest down; arrivals append; the saved result is `$`", () => {
  const box = mailbox([3, 5, 9, 12]);
  assert.deepEqual(box.remove([5, 12, 77]), [4, 2]);
  assert.deepEqual(box.uids, [3, 9]);
  assert.deepEqual(box.message(5), undefined);
  box.append([{ uid: 20, emailId: 1, modseq: 11, flags: ["\\Seen"] }]);
  assert.deepEqual(box.exists, 3);
  assert.deepEqual(box.uidNext, 21);
  box.update({ uid: 20, modseq: 12, flags: [] });
  assert.deepEqual(box.message(20)?.modseq, 12);
  box.saved = [9, 5, 20];
  assert.deepEqual(box.resolve("$", true), [9, 20]);
});

Deno.test("a session shares the mailbox's view until it must differ, patches a few flags, and takes a view back", () => {
  const view = new ImapMailboxView(1, 2, 7, 4, 10, [1, 2, 3], [10, 20, 30], [4, 5, 6], [[], [], []]);
  const box = new SelectedMailbox({
    accountId: 1,
    mailboxId: 2,
    name: "INBOX",
    uidValidity: 7,
    uidNext: 4,
    highestModseq: 10,
    readOnly: false,
    messages: [],
    view,
  });
  assert.equal(box.shared, view);
  assert.deepEqual(box.resolve([{ start: 1, end: "*" }], false), [1, 2, 3]);
  // What the client already knows costs nothing; a STORE's FETCH is patched, the view untouched.
  box.update({ uid: 2, modseq: 5, flags: [] });
  box.update({ uid: 2, modseq: 11, flags: ["\\Seen"] });
  assert.equal(box.shared, view);
  assert.deepEqual(box.message(2), { uid: 2, emailId: 20, modseq: 11, flags: ["\\Seen"] });
  assert.deepEqual([...view.flags[1]], [], "the shared view is never written");
  assert.equal(box.adopt(view), false, "a view older than what the client was told is refused");
  // An expunge makes the session's own arrays, with the patch in them.
  assert.deepEqual(box.remove([1]), [1]);
  assert.equal(box.shared, undefined);
  assert.deepEqual(box.message(2)?.flags, ["\\Seen"]);
  const newer = new ImapMailboxView(1, 2, 7, 4, 11, [2, 3], [20, 30], [11, 6], [["\\Seen"], []]);
  assert.equal(box.adopt(newer), true);
  assert.equal(box.shared, newer);
  assert.equal(box.modseq, 11);
  assert.deepEqual(box.uids, [2, 3]);
});
