/**
 * One mailbox as IMAP sees it at one MODSEQ, immutable: UIDs in ascending order, each message's email,
 * MODSEQ and flag set (one shared frozen array per distinct set), UIDVALIDITY, UIDNEXT and
 * HIGHESTMODSEQ. This is Postern's counterpart of Dovecot's index: the IMAP mail service keeps one per
 * mailbox (imap_views.ts) and every session that selects the mailbox starts from the same arrays, so
 * twenty sessions on a 100,000-message INBOX hold one copy, not twenty.
 *
 * A newer view is made from an older one and the rows changed since its MODSEQ ({@link applyChanges}):
 * the arrays are copied (a memcpy of each) and patched, never changed in place, because sessions
 * still hold the older one.
 */
import type { ImapViewColumns, ImapViewRead } from "../store/mod.ts";
import { flagsOfKeywords } from "./imap_flags.ts";

/** Flag sets in use, one shared frozen array each (a mailbox has few distinct ones). */
const FLAG_SETS = new Map<string, readonly string[]>();
const MAX_FLAG_SETS = 10_000;

/** The shared frozen array for the flag set `flags` (order as given). */
export function internFlags(flags: readonly string[]): readonly string[] {
  const key = flags.join(" ");
  let shared = FLAG_SETS.get(key);
  if (!shared) {
    // A bound, not a cache policy: past it the table starts again (arrays already shared stay valid).
    if (FLAG_SETS.size >= MAX_FLAG_SETS) FLAG_SETS.clear();
    shared = Object.freeze([...flags]);
    FLAG_SETS.set(key, shared);
  }
  return shared;
}

/** The interned flag set of stored keywords as SQLite's group_concat gives them (unordered, or null). */
function flagsOfConcat(keywords: string | null, memo: Map<string, readonly string[]>): readonly string[] {
  if (keywords === null) return internFlags([]);
  let flags = memo.get(keywords);
  if (!flags) {
    flags = internFlags(flagsOfKeywords(keywords.split(" ").sort()));
    memo.set(keywords, flags);
  }
  return flags;
}

/** A mailbox at one MODSEQ. The arrays are shared: never modify them. */
export class ImapMailboxView {
  /** Summaries computed at most once per view (SELECT's UNSEEN, FLAGS). */
  #summary?: { unseen: number; firstUnseen: number | null; keywords: string[] };

  constructor(
    readonly accountId: number,
    readonly mailboxId: number,
    readonly uidValidity: number,
    readonly uidNext: number,
    readonly highestModseq: number,
    readonly uids: readonly number[],
    readonly emailIds: readonly number[],
    readonly modseqs: readonly number[],
    readonly flags: readonly (readonly string[])[],
  ) {}

  /** The number of messages. */
  get exists(): number {
    return this.uids.length;
  }

  /** Index of `uid` in the arrays, or -1. */
  indexOf(uid: number): number {
    let low = 0;
    let high = this.uids.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const at = this.uids[middle];
      if (at === uid) return middle;
      if (at < uid) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  }

  /** Every message as a new object (for callers that want a list; SELECT itself does not). */
  messages(): { uid: number; emailId: number; modseq: number; flags: string[] }[] {
    return this.uids.map((uid, i) => ({
      uid,
      emailId: this.emailIds[i],
      modseq: this.modseqs[i],
      flags: [...this.flags[i]],
    }));
  }

  /** Messages without \Seen, the sequence number of the first, and the keywords in use. */
  summary(): { unseen: number; firstUnseen: number | null; keywords: string[] } {
    if (this.#summary) return this.#summary;
    const seen = new Map<readonly string[], boolean>();
    const keywords = new Set<string>();
    let unseen = 0;
    let firstUnseen: number | null = null;
    for (let i = 0; i < this.flags.length; i++) {
      const set = this.flags[i];
      let isSeen = seen.get(set);
      if (isSeen === undefined) {
        isSeen = set.includes("\\Seen");
        seen.set(set, isSeen);
        for (const f of set) if (!f.startsWith("\\")) keywords.add(f);
      }
      if (!isSeen) {
        unseen++;
        firstUnseen ??= i + 1;
      }
    }
    return this.#summary = { unseen, firstUnseen, keywords: [...keywords].sort() };
  }

  /** Rough bytes held by the arrays (the views' bound counts these). */
  get bytes(): number {
    return 200 + this.uids.length * 32;
  }
}

/** A view of every row of a full read. */
export function viewOfRead(read: ImapViewRead): ImapMailboxView {
  const memo = new Map<string, readonly string[]>();
  const { rows, state } = read;
  return new ImapMailboxView(
    state.accountId,
    state.mailboxId,
    state.uidValidity,
    state.uidNext,
    state.highestModseq,
    rows.uids,
    rows.emailIds,
    rows.modseqs,
    rows.keywords.map((k) => flagsOfConcat(k, memo)),
  );
}

/**
 * The view after the changes of a read since `view.highestModseq`: expunged UIDs removed, changed
 * rows patched in place of a copy, new ones added in UID order.
 */
export function applyChanges(view: ImapMailboxView, read: ImapViewRead): ImapMailboxView {
  const { state, rows } = read;
  let uids = view.uids.slice();
  let emailIds = view.emailIds.slice();
  let modseqs = view.modseqs.slice();
  let flags = view.flags.slice();
  if (read.expunged.length) {
    const gone = new Set(read.expunged);
    const keep = (_: unknown, i: number) => !gone.has(uids[i]);
    [emailIds, modseqs, flags] = [emailIds.filter(keep), modseqs.filter(keep), flags.filter(keep)];
    uids = uids.filter((uid) => !gone.has(uid));
  }
  const memo = new Map<string, readonly string[]>();
  const added: number[] = [];
  for (let r = 0; r < rows.uids.length; r++) {
    const i = indexIn(uids, rows.uids[r]);
    if (i < 0) {
      added.push(r);
      continue;
    }
    emailIds[i] = rows.emailIds[r];
    modseqs[i] = rows.modseqs[r];
    flags[i] = flagsOfConcat(rows.keywords[r], memo);
  }
  added.sort((a, b) => rows.uids[a] - rows.uids[b]);
  const last = uids.length ? uids[uids.length - 1] : 0;
  const inOrder = added.length === 0 || rows.uids[added[0]] > last;
  for (const r of added) {
    uids.push(rows.uids[r]);
    emailIds.push(rows.emailIds[r]);
    modseqs.push(rows.modseqs[r]);
    flags.push(flagsOfConcat(rows.keywords[r], memo));
  }
  if (!inOrder) [uids, emailIds, modseqs, flags] = sortedByUid(uids, emailIds, modseqs, flags);
  return new ImapMailboxView(
    state.accountId,
    state.mailboxId,
    state.uidValidity,
    state.uidNext,
    state.highestModseq,
    uids,
    emailIds,
    modseqs,
    flags,
  );
}

/** Rows of no view yet, as columns (for tests and callers building one by hand). */
export type { ImapViewColumns };

function indexIn(uids: readonly number[], uid: number): number {
  let low = 0;
  let high = uids.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const at = uids[middle];
    if (at === uid) return middle;
    if (at < uid) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}

/** A UID below the last one arrived (it cannot, UIDs ascend; but never trust it): sort all four. */
function sortedByUid(
  uids: number[],
  emailIds: number[],
  modseqs: number[],
  flags: (readonly string[])[],
): [number[], number[], number[], (readonly string[])[]] {
  const order = uids.map((_, i) => i).sort((a, b) => uids[a] - uids[b]);
  return [
    order.map((i) => uids[i]),
    order.map((i) => emailIds[i]),
    order.map((i) => modseqs[i]),
    order.map((i) => flags[i]),
  ];
}
