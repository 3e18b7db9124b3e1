/**
 * The synchronisation of the selected mailbox (RFC 9051 §7.4, §7.5.1; RFC 7162 §3.1.4, §3.2.10):
 * after every command in the selected state, before its tagged answer, and during IDLE, the session
 * tells the client what other sessions, JMAP clients and other processes changed. Read in order:
 *
 * 1. one read of what changed since the MODSEQ the client's view is complete up to; when nothing
 *    changed that is a single lookup of the mailbox's state (the service's fast path);
 * 2. expunges of known messages, when the command allows them (CommandEntry.expunges, a UID command,
 *    IDLE): `* n EXPUNGE` from the highest number down, or `* VANISHED uids` once QRESYNC is enabled.
 *    Otherwise they are held (the messages keep their numbers) and told at the next sync that may;
 * 3. new messages: `* n EXISTS` (as Dovecot, without their flags);
 * 4. flag changes of known messages: `* n FETCH (FLAGS (…))`, with UID under QRESYNC or in a UID
 *    command, and MODSEQ once CONDSTORE is enabled;
 * 5. the view's MODSEQ moves up to the state read in 1; when nothing is held back and the IMAP mail
 *    service's shared view is at that MODSEQ, the session takes its arrays instead of its own copy.
 *
 * A message added and removed between two syncs is in neither list the client sees: it is not in the
 * mailbox (so no EXPUNGE) and not known (so no EXISTS). The mailbox gone, or no longer visible to the
 * user (a grant taken back), ends the session with `* BYE`, as Dovecot does: after the tagged answer
 * of the command under way (its own DELETE of the mailbox is answered OK first), at once in IDLE.
 */
import { ForbiddenError, NotFoundError } from "../model/errors.ts";
import type { ResponseValue } from "./command.ts";
import type { ImapChanges, ImapMailboxView } from "../mail/mod.ts";
import { atom } from "./response.ts";
import type { ImapMessages } from "./mailbox_deps.ts";
import type { SelectedMailbox } from "./selected.ts";

/** The session as the sync uses it (session.ts ImapSession). */
export interface SyncSession {
  selected: SelectedMailbox | undefined;
  readonly closed: boolean;
  readonly principal: { accountId: number } | undefined;
  /** ENABLEd extensions: CONDSTORE adds MODSEQ, QRESYNC turns EXPUNGE into VANISHED. */
  readonly enabled: ReadonlySet<string>;
  readonly deps: {
    messages: Pick<ImapMessages, "changes">;
    changes?(accountId: number, listener: () => void): { stop(): void };
  };
  untagged(values: ResponseValue[]): void;
  /** The selected mailbox is gone: `* BYE text` (after the answer of a command under way). */
  selectedGone(text: string): void;
  sync(options: SyncOptions): Promise<void>;
  atEnd(cleanup: () => void): () => void;
}

/** Dovecot's words when the selected mailbox is deleted under a session. */
export const MAILBOX_DELETED = "Selected mailbox was deleted, have to disconnect.";

/** Expunged UIDs the client still has to be told, per selected mailbox. */
const held = new WeakMap<SelectedMailbox, Set<number>>();

/** How one sync may report. */
export interface SyncOptions {
  /** EXPUNGE/VANISHED may be written now (RFC 9051 §7.5.1). */
  expunges: boolean;
  /** The command was a UID command: FETCH responses carry UID (RFC 9051 §6.4.8). */
  uid?: boolean;
}

/** Reports what changed in the selected mailbox since the client's view; no-op when none is selected. */
export async function syncSelected(session: SyncSession, options: SyncOptions): Promise<void> {
  const selected = session.selected;
  if (!selected || session.closed) return;
  let changes;
  try {
    changes = await session.deps.messages.changes(
      session.principal!.accountId,
      selected.ref,
      selected.modseq,
    );
  } catch (error) {
    if (!(error instanceof NotFoundError || error instanceof ForbiddenError)) throw error;
    session.selectedGone(MAILBOX_DELETED);
    return;
  }
  // Another command or sync moved the view on while this one read (IDLE's wake-ups overlap).
  if (session.selected !== selected) return;
  const hold = held.get(selected) ?? new Set<number>();
  for (const [low, high] of changes.vanished) {
    for (const uid of selected.resolve([{ start: low, end: high }], true)) hold.add(uid);
  }
  const view = changes.view;
  if (
    view?.highestModseq === changes.highestModseq && (options.expunges || hold.size === 0) &&
    selected.canAdopt(view) && view.exists === expectedCount(selected, changes, hold.size)
  ) {
    held.delete(selected);
    tellOntoView(session, selected, { changes, view, expunged: [...hold].sort((a, b) => a - b), options });
    return;
  }
  if (options.expunges && hold.size) {
    writeExpunges(session, selected, [...hold].sort((a, b) => a - b));
    hold.clear();
  }
  if (hold.size) held.set(selected, hold);
  else held.delete(selected);

  const last = selected.uids.length ? selected.uids[selected.uids.length - 1] : 0;
  const arrived = changes.changed.filter((m) => m.uid > last && !hold.has(m.uid));
  if (arrived.length) {
    selected.append(arrived);
    session.untagged([selected.exists, atom("EXISTS")]);
  }
  const condstore = session.enabled.has("CONDSTORE");
  const withUid = options.uid === true || session.enabled.has("QRESYNC");
  for (const m of changes.changed) {
    if (m.uid > last || hold.has(m.uid)) continue;
    const known = selected.message(m.uid);
    if (!known || m.modseq <= known.modseq) continue;
    const flagsChanged = !sameFlags(known.flags, m.flags);
    selected.update(m);
    if (!flagsChanged && !condstore) continue;
    session.untagged([selected.seqOf(m.uid)!, atom("FETCH"), fetchFlags(m, { withUid, condstore })]);
  }
  if (changes.highestModseq > selected.modseq) selected.modseq = changes.highestModseq;
  if (changes.uidNext > selected.uidNext) selected.uidNext = changes.uidNext;
  // Told everything up to the shared view's MODSEQ, nothing held back: the session's copy goes, the
  // view's arrays serve again (what an idle session costs stays small).
  if (hold.size === 0 && changes.view?.highestModseq === changes.highestModseq) selected.adopt(changes.view);
}

/**
 * The sync's answers when the shared view at the MODSEQ read is what the client will know once told
 * (nothing held back): every number is taken from the client's arrays as they are and the view's,
 * then the session takes the view's arrays. No copy of a large mailbox is made on the way, as
 * applying each change to the session's own arrays would.
 */
function tellOntoView(
  session: SyncSession,
  selected: SelectedMailbox,
  sync: { changes: ImapChanges; view: ImapMailboxView; expunged: number[]; options: SyncOptions },
): void {
  const { changes, view, expunged, options } = sync;
  if (expunged.length && session.enabled.has("QRESYNC")) {
    session.untagged([atom("VANISHED"), atom(uidSet(expunged))]);
  } else if (expunged.length) {
    // From the highest number down, so each is still valid when written (RFC 9051 §7.5.1).
    const seqs = expunged.map((uid) => selected.seqOf(uid)!).sort((a, b) => b - a);
    for (const seq of seqs) session.untagged([seq, atom("EXPUNGE")]);
  }
  const last = selected.uids.length ? selected.uids[selected.uids.length - 1] : 0;
  if (changes.changed.some((m) => m.uid > last)) session.untagged([view.exists, atom("EXISTS")]);
  const condstore = session.enabled.has("CONDSTORE");
  const withUid = options.uid === true || session.enabled.has("QRESYNC");
  for (const m of changes.changed) {
    if (m.uid > last) continue;
    const seq = selected.seqOf(m.uid);
    const knownModseq = seq === undefined ? undefined : selected.modseqAt(seq);
    if (knownModseq === undefined || m.modseq <= knownModseq) continue;
    const at = view.indexOf(m.uid);
    if (at < 0) continue;
    if (!condstore && sameFlags(selected.flagsAt(seq!)!, m.flags)) continue;
    session.untagged([at + 1, atom("FETCH"), fetchFlags(m, { withUid, condstore })]);
  }
  selected.adopt(view);
  if (changes.uidNext > selected.uidNext) selected.uidNext = changes.uidNext;
}

/** How many messages the client knows once told `changes` with `expunged` of its own gone. */
function expectedCount(selected: SelectedMailbox, changes: ImapChanges, expunged: number): number {
  const last = selected.uids.length ? selected.uids[selected.uids.length - 1] : 0;
  return selected.exists - expunged + changes.changed.filter((m) => m.uid > last).length;
}

/** Writes the removal of `uids` (ascending, all known): VANISHED under QRESYNC, EXPUNGEs otherwise. */
export function writeExpunges(
  session: SyncSession,
  selected: SelectedMailbox,
  uids: readonly number[],
): void {
  if (uids.length === 0) return;
  if (session.enabled.has("QRESYNC")) {
    const known = uids.filter((uid) => selected.seqOf(uid) !== undefined);
    selected.remove(known);
    if (known.length) session.untagged([atom("VANISHED"), atom(uidSet(known))]);
    return;
  }
  for (const seq of selected.remove(uids)) session.untagged([seq, atom("EXPUNGE")]);
}

/** Whether `uid` was expunged and the client has not been told yet. */
export function heldExpunge(selected: SelectedMailbox, uid: number): boolean {
  return held.get(selected)?.has(uid) ?? false;
}

/** The FETCH data of a flag change: `(UID n FLAGS (…) MODSEQ (n))`, as Dovecot orders it. */
export function fetchFlags(
  message: { uid: number; modseq: number; flags: readonly string[] },
  options: { withUid: boolean; condstore: boolean },
): ResponseValue[] {
  const out: ResponseValue[] = [];
  if (options.withUid) out.push(atom("UID"), message.uid);
  out.push(atom("FLAGS"), message.flags.map(atom));
  if (options.condstore) out.push(atom("MODSEQ"), [message.modseq]);
  return out;
}

/** Ascending UIDs as a sequence set (`1:3,7`). */
export function uidSet(uids: Iterable<number>): string {
  const parts: string[] = [];
  let start = -1;
  let end = -1;
  for (const uid of uids) {
    if (uid === end + 1 && start !== -1) {
      end = uid;
      continue;
    }
    if (start !== -1) parts.push(start === end ? `${start}` : `${start}:${end}`);
    start = end = uid;
  }
  if (start !== -1) parts.push(start === end ? `${start}` : `${start}:${end}`);
  return parts.join(",");
}

/** Ranges as a sequence set. */
export function rangeSet(ranges: readonly (readonly [number, number])[]): string {
  return ranges.map(([low, high]) => low === high ? `${low}` : `${low}:${high}`).join(",");
}

function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((f) => set.has(f));
}

/**
 * IDLE's watch of the selected mailbox (RFC 2177): each write that may concern the account wakes a
 * sync with expunges allowed; wake-ups during a sync make one more after it, never two at once. One
 * sync runs at the start, for what changed between the last answer and the subscription. `stop`
 * ends the subscription (also when the session ends) and waits for a sync under way.
 */
export function watchSelected(session: SyncSession): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const wake = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        await session.sync({ expunges: true });
      } while (again && !stopped);
    })().finally(() => running = undefined);
  };
  const subscription = session.deps.changes?.(session.principal!.accountId, wake);
  const forget = session.atEnd(() => {
    stopped = true;
    subscription?.stop();
  });
  wake();
  return {
    async stop() {
      stopped = true;
      subscription?.stop();
      forget();
      await running;
    },
  };
}
