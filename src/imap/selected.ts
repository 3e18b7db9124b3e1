/**
 * The selected state of a session (RFC 9051 §3.3): which mailbox, and what the client has been told
 * about it. The client's view is the list of UIDs it knows in ascending order (index + 1 is the
 * message sequence number), with each message's flags and MODSEQ as last reported; it changes only
 * when the session writes EXISTS, EXPUNGE/VANISHED or FETCH, never behind the client's back, so
 * sequence numbers stay stable between those responses (RFC 9051 §7.4.1).
 *
 * The handlers of the selected state resolve sequence sets here, and record what they reported
 * (a STORE's FETCH, a MOVE's EXPUNGE) so the synchronisation after the command does not repeat it.
 * Pure data: the store is read by the session's sync (session_sync.ts) and by the handlers.
 */
import type { SequenceSet } from "./command.ts";
import { type ImapMailboxView, internFlags as interned } from "../mail/mod.ts";
import { ImapBad } from "./errors.ts";

/** A message of the selected mailbox as the client knows it. */
export interface KnownMessage {
  uid: number;
  emailId: number;
  modseq: number;
  flags: string[];
}

/** What the session reads of a mailbox when it selects it (the IMAP mail service's ImapSelection). */
export interface SelectedMailboxInit {
  accountId: number;
  mailboxId: number;
  /** The name as selected (decoded). */
  name: string;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  readOnly: boolean;
  /** Ascending by UID (read only when there is no `view`). */
  messages: readonly KnownMessage[];
  /** The mailbox's shared view at `highestModseq`: the session starts from its arrays. */
  view?: ImapMailboxView;
}

/** One selected mailbox and the client's view of it. */
export class SelectedMailbox {
  readonly accountId: number;
  readonly mailboxId: number;
  readonly name: string;
  readonly uidValidity: number;
  readonly readOnly: boolean;
  /** UIDNEXT as last reported or read. */
  uidNext: number;
  /** The highest MODSEQ the client's view is complete up to (HIGHESTMODSEQ as last reported). */
  modseq: number;
  /** The last SEARCH … RETURN (SAVE) result, as UIDs (RFC 5182 `$`); empty until one is saved. */
  saved: number[] = [];
  // The client's view in parallel arrays, index = sequence number - 1: small integers in packed arrays
  // and one shared array per distinct flag set. Copy-on-write: while the client knows exactly what
  // the mailbox's shared view holds (after SELECT, and after each sync that told it everything), the
  // arrays ARE the view's, so a session idling in a 100,000-message mailbox holds none of its own;
  // the first change the session records copies them (#own), and a later sync that catches up with
  // the shared view again gives the copy back (adopt).
  #uids: number[];
  #emailIds: number[];
  #modseqs: number[];
  #flags: (readonly string[])[];
  /** The shared view whose arrays these are, or undefined once the session holds its own. */
  #shared: ImapMailboxView | undefined;
  /**
   * While shared: flags and MODSEQs the session told that the view does not hold yet (a STORE's
   * FETCH), by index, so a STORE on one message does not copy a whole mailbox; past PATCH_LIMIT
   * entries the session takes its own copy.
   */
  #patch = new Map<number, { modseq: number; flags: readonly string[] }>();
  /** The highest MODSEQ the session recorded itself (a STORE's or FETCH's), which a view must reach. */
  #recorded = 0;

  constructor(init: SelectedMailboxInit) {
    this.accountId = init.accountId;
    this.mailboxId = init.mailboxId;
    this.name = init.name;
    this.uidValidity = init.uidValidity;
    this.uidNext = init.uidNext;
    this.modseq = init.highestModseq;
    this.readOnly = init.readOnly;
    if (init.view && init.view.highestModseq === init.highestModseq) {
      // Never written while shared (every mutation goes through #own first): the casts only drop readonly.
      this.#shared = init.view;
      this.#uids = init.view.uids as number[];
      this.#emailIds = init.view.emailIds as number[];
      this.#modseqs = init.view.modseqs as number[];
      this.#flags = init.view.flags as (readonly string[])[];
      return;
    }
    this.#uids = init.messages.map((m) => m.uid);
    this.#emailIds = init.messages.map((m) => m.emailId);
    this.#modseqs = init.messages.map((m) => m.modseq);
    this.#flags = init.messages.map((m) => interned(m.flags));
  }

  /** The shared view the arrays are, while the session has recorded nothing of its own. */
  get shared(): ImapMailboxView | undefined {
    return this.#shared;
  }

  /**
   * Takes the arrays of `view` back once the client knows exactly what it holds: the caller has
   * told every change up to `view.highestModseq` and holds no expunge back (session_sync.ts).
   */
  adopt(view: ImapMailboxView): boolean {
    if (!this.canAdopt(view)) return false;
    this.#shared = view;
    this.#uids = view.uids as number[];
    this.#emailIds = view.emailIds as number[];
    this.#modseqs = view.modseqs as number[];
    this.#flags = view.flags as (readonly string[])[];
    this.#patch.clear();
    if (view.highestModseq > this.modseq) this.modseq = view.highestModseq;
    if (view.uidNext > this.uidNext) this.uidNext = view.uidNext;
    return true;
  }

  /** Whether {@link adopt} would take `view`: the same mailbox, and not older than what the client was told. */
  canAdopt(view: ImapMailboxView): boolean {
    if (view.mailboxId !== this.mailboxId || view.uidValidity !== this.uidValidity) return false;
    // An older view (a slower overlapping sync) would take back what the client was told since.
    return view.highestModseq >= this.modseq && view.highestModseq >= this.#recorded;
  }

  /** Copies the shared arrays before the first change the session records. */
  #own(): void {
    if (!this.#shared) return;
    this.#shared = undefined;
    this.#uids = this.#uids.slice();
    this.#emailIds = this.#emailIds.slice();
    this.#modseqs = this.#modseqs.slice();
    this.#flags = this.#flags.slice();
    for (const [i, told] of this.#patch) {
      this.#modseqs[i] = told.modseq;
      this.#flags[i] = told.flags;
    }
    this.#patch.clear();
  }

  /** The mailbox reference the IMAP mail service takes. */
  get ref(): { accountId: number; mailboxId: number } {
    return { accountId: this.accountId, mailboxId: this.mailboxId };
  }

  /** The number of messages the client knows (its last EXISTS). */
  get exists(): number {
    return this.#uids.length;
  }

  /** The known UIDs, ascending (index + 1 = sequence number). Do not modify. */
  get uids(): readonly number[] {
    return this.#uids;
  }

  /** The UID of sequence number `seq` (1-based), or undefined past the end. */
  uidAt(seq: number): number | undefined {
    return this.#uids[seq - 1];
  }

  /** The MODSEQ the client knows of sequence number `seq` (1-based), or undefined past the end. */
  modseqAt(seq: number): number | undefined {
    return this.#patch.get(seq - 1)?.modseq ?? this.#modseqs[seq - 1];
  }

  /** The flags the client knows of sequence number `seq` (1-based; shared, do not modify). */
  flagsAt(seq: number): readonly string[] | undefined {
    return this.#patch.get(seq - 1)?.flags ?? this.#flags[seq - 1];
  }

  /** The sequence number of `uid`, or undefined when the client does not know it. */
  seqOf(uid: number): number | undefined {
    let low = 0;
    let high = this.#uids.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const at = this.#uids[middle];
      if (at === uid) return middle + 1;
      if (at < uid) low = middle + 1;
      else high = middle - 1;
    }
    return undefined;
  }

  /** The message of `uid` as the client knows it (a copy). */
  message(uid: number): KnownMessage | undefined {
    const seq = this.seqOf(uid);
    if (seq === undefined) return undefined;
    const i = seq - 1;
    const told = this.#patch.get(i);
    const flags = told?.flags ?? this.#flags[i];
    return { uid, emailId: this.#emailIds[i], modseq: told?.modseq ?? this.#modseqs[i], flags: [...flags] };
  }

  /**
   * The UIDs a sequence set names, ascending and without repeats (RFC 9051 §9 `sequence-set`).
   * By UID: `*` is the largest known UID (or, in an empty mailbox, UIDNEXT - 1, so `UID FETCH 5:*`
   * names nothing), and UIDs the mailbox does not hold are skipped (RFC 9051 §6.4.8). By sequence
   * number: `*` is the last message, and a number past the last is a client error (BAD), as Dovecot
   * and RFC 9051 §6.4.5 expect ("Invalid messageset"). `$` is the saved search result (RFC 5182).
   */
  resolve(set: SequenceSet, byUid: boolean): number[] {
    if (set === "$") return this.saved.filter((uid) => this.seqOf(uid) !== undefined);
    if (byUid) {
      const largest = this.#uids.length ? this.#uids[this.#uids.length - 1] : Math.max(0, this.uidNext - 1);
      const out: number[] = [];
      // Walk the known UIDs in each merged range, not every number in it: `1:4294967295` stays cheap.
      for (const [low, high] of merged(set, largest)) {
        for (let i = this.#lowerBound(low); i < this.#uids.length && this.#uids[i] <= high; i++) {
          out.push(this.#uids[i]);
        }
      }
      return out;
    }
    const last = this.#uids.length;
    for (const range of set) {
      const a = range.start === "*" ? last : range.start;
      const b = range.end === "*" ? last : range.end;
      if (a > last || b > last || a === 0 || b === 0) {
        throw new ImapBad(
          last === 0 ? "The mailbox is empty" : `Invalid message sequence number (there are ${last})`,
        );
      }
    }
    // Ranges merged, then one slice each: `1:*` of 100,000 messages is a copy, not a set and a sort.
    const out: number[] = [];
    for (const [low, high] of merged(set, last)) {
      for (let i = low - 1; i < high; i++) out.push(this.#uids[i]);
    }
    return out;
  }

  /** Messages the client is told about by EXISTS (new UIDs, above every known one), in UID order. */
  append(messages: readonly KnownMessage[]): void {
    if (messages.length) this.#own();
    for (const m of [...messages].sort((x, y) => x.uid - y.uid)) {
      const last = this.#uids[this.#uids.length - 1];
      if (last === m.uid) continue;
      if (last !== undefined && m.uid < last) {
        if (this.seqOf(m.uid) !== undefined) continue;
        throw new Error(`UID ${m.uid} arrived below ${last}`);
      }
      this.#uids.push(m.uid);
      this.#emailIds.push(m.emailId);
      this.#modseqs.push(m.modseq);
      this.#flags.push(interned(m.flags));
      if (m.modseq > this.#recorded) this.#recorded = m.modseq;
      if (m.uid >= this.uidNext) this.uidNext = m.uid + 1;
    }
  }

  /** Records flags and MODSEQ the client was told by a FETCH response. */
  update(message: Pick<KnownMessage, "uid" | "modseq" | "flags">): void {
    const seq = this.seqOf(message.uid);
    if (seq === undefined) return;
    const flags = interned(message.flags);
    // What the client already knows (a FETCH of the shared view's own flags) costs no copy.
    if (this.modseqAt(seq) === message.modseq && this.flagsAt(seq) === flags) return;
    if (message.modseq > this.#recorded) this.#recorded = message.modseq;
    if (this.#shared && this.#patch.size < PATCH_LIMIT) {
      this.#patch.set(seq - 1, { modseq: message.modseq, flags });
      return;
    }
    this.#own();
    this.#modseqs[seq - 1] = message.modseq;
    this.#flags[seq - 1] = flags;
  }

  /**
   * Removes the UIDs the client is told are expunged, and returns the sequence numbers each had at
   * the moment its EXPUNGE is written, in writing order (RFC 9051 §7.5.1: each EXPUNGE renumbers the
   * messages after it, so they are written from the highest down and every number is still valid).
   * UIDs the client does not know are ignored.
   */
  remove(uids: Iterable<number>): number[] {
    const seqs: number[] = [];
    for (const uid of uids) {
      const seq = this.seqOf(uid);
      if (seq !== undefined) seqs.push(seq);
    }
    if (seqs.length === 0) return seqs;
    seqs.sort((x, y) => y - x);
    // One pass, not a splice per message: expunging thousands of a 100,000-message mailbox stays linear.
    const gone = new Set(seqs.map((seq) => seq - 1));
    // What was patched goes into the session's own arrays first; filter then makes new ones.
    this.#own();
    const keep = (_: unknown, i: number) => !gone.has(i);
    this.#uids = this.#uids.filter(keep);
    this.#emailIds = this.#emailIds.filter(keep);
    this.#modseqs = this.#modseqs.filter(keep);
    this.#flags = this.#flags.filter(keep);
    return seqs;
  }

  /** Index of the first known UID ≥ `uid`. */
  #lowerBound(uid: number): number {
    let low = 0;
    let high = this.#uids.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.#uids[middle] < uid) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/** Messages a shared session records as told before it copies the arrays (see #patch). */
const PATCH_LIMIT = 1024;

/** The ranges of a sequence set (`*` = `star`), ordered low to high, sorted and merged. */
function merged(set: Exclude<SequenceSet, "$">, star: number): [number, number][] {
  const ranges = set.map(({ start, end }): [number, number] => {
    const a = start === "*" ? star : start;
    const b = end === "*" ? star : end;
    return a <= b ? [a, b] : [b, a];
  }).sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const range of ranges) {
    const last = out[out.length - 1];
    if (last && range[0] <= last[1] + 1) last[1] = Math.max(last[1], range[1]);
    else out.push(range);
  }
  return out;
}
