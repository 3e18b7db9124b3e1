import assert from "node:assert/strict";
import type { ImapMailboxState, ImapViewRead } from "../store/mod.ts";
import { ImapViews } from "./imap_views.ts";

/** A store whose reads answer what the test sets, counting them. */
function fakeStore() {
  const rows = new Map<number, { uids: number[]; keywords: (string | null)[]; modseq: number }>();
  const reads: { mailboxId: number; since?: number }[] = [];
  const state = (mailboxId: number): ImapMailboxState => {
    const r = rows.get(mailboxId)!;
    return {
      mailboxId,
      accountId: 1,
      uidValidity: 7,
      uidNext: (r.uids.at(-1) ?? 0) + 1,
      highestModseq: r.modseq,
      purgedModseq: 0,
    };
  };
  const store = {
    imap: {
      viewRead(mailboxId: number, since?: number): Promise<ImapViewRead | undefined> {
        reads.push({ mailboxId, since });
        const r = rows.get(mailboxId);
        if (!r) return Promise.resolve(undefined);
        return Promise.resolve({
          state: state(mailboxId),
          full: since === undefined,
          rows: {
            uids: r.uids,
            emailIds: r.uids.map((uid) => uid * 10),
            modseqs: r.uids.map(() => r.modseq),
            keywords: r.keywords,
          },
          expunged: [],
          consistent: true,
        });
      },
    },
  };
  return { store: store as never, fake: store, rows, reads, state };
}

Deno.test("views are kept by MODSEQ: unchanged is a hit, changed reads only what changed", async () => {
  const { store, rows, reads, state } = fakeStore();
  const views = new ImapViews(store);
  rows.set(1, { uids: [1, 2, 3], keywords: [null, "$seen", "$seen $flagged"], modseq: 5 });
  const first = (await views.view(state(1)))!;
  assert.deepEqual([...first.uids], [1, 2, 3]);
  assert.deepEqual(first.flags.map((f) => [...f]), [[], ["\\Seen"], ["\\Flagged", "\\Seen"]]);
  assert.deepEqual(first.summary(), { unseen: 1, firstUnseen: 1, keywords: [] });
  assert.equal(await views.view(state(1)), first, "same MODSEQ: the same view");
  rows.set(1, { uids: [2, 4], keywords: ["$forwarded", null], modseq: 6 });
  const second = (await views.view(state(1)))!;
  assert.deepEqual(reads.at(-1), { mailboxId: 1, since: 5 });
  // The fake's "changes" are uids 2 and 4: 2 patched, 4 added, 1 and 3 untouched.
  assert.deepEqual([...second.uids], [1, 2, 3, 4]);
  assert.deepEqual(second.flags.map((f) => [...f]), [[], ["$Forwarded"], ["\\Flagged", "\\Seen"], []]);
  assert.deepEqual([...first.uids], [1, 2, 3], "the older view is never changed in place");
  assert.deepEqual(views.stats().hits, 1);
  assert.deepEqual(views.stats().refreshes, 1);
});

Deno.test("views are bounded by bytes, least recently used first; a gone mailbox is forgotten", async () => {
  const { store, rows, state } = fakeStore();
  rows.set(1, { uids: [1, 2], keywords: [null, null], modseq: 1 });
  rows.set(2, { uids: [1, 2], keywords: [null, null], modseq: 1 });
  rows.set(3, { uids: [1, 2], keywords: [null, null], modseq: 1 });
  const one = (await new ImapViews(store).view(state(1)))!.bytes;
  const views = new ImapViews(store, 2 * one);
  await views.view(state(1));
  await views.view(state(2));
  await views.view(state(1)); // 1 is now the most recently used
  await views.view(state(3));
  assert.equal(views.stats().evictions, 1);
  assert.equal(views.stats().views, 2);
  assert.ok(views.peek(state(1)), "the recently used one stays");
  assert.equal(views.peek(state(2)), undefined, "the least recently used one went");
  const gone = state(3);
  rows.delete(3);
  assert.equal(await views.view({ ...gone, highestModseq: 2 }), undefined);
  assert.equal(views.stats().views, 1);
});

Deno.test("an older view never replaces a newer one, and a view newer than the database is read again", async () => {
  const { store, fake, rows, reads, state } = fakeStore();
  const views = new ImapViews(store);
  rows.set(1, { uids: [1], keywords: [null], modseq: 9 });
  const newer = (await views.view(state(1)))!;
  // A refresh that read before the newer one was kept comes back late.
  rows.set(1, { uids: [1], keywords: [null], modseq: 4 });
  const late = await fake.imap.viewRead(1);
  await views.after({ ...late!, full: false }, 3);
  assert.equal(views.peek({ ...state(1), highestModseq: 9 }), newer);
  // The database went back (a restore): a full read, not a refresh from MODSEQ 9.
  const restored = (await views.view(state(1)))!;
  assert.deepEqual(reads.at(-1), { mailboxId: 1, since: undefined });
  assert.equal(restored.highestModseq, 4);
});
