/**
 * What an IMAP session needs of the store, as a viewer (the account's owner, or a sharer with the
 * JMAP rights of its grants, checked on every call so a revoked grant stops the next command):
 * LIST, SELECT/EXAMINE, STATUS, the changes between commands and for CONDSTORE/QRESYNC, per-message
 * facts and bytes for FETCH (here), and STORE, COPY, MOVE, EXPUNGE and APPEND (imap_updates.ts).
 *
 * UIDs, UIDVALIDITY and MODSEQ are kept by the database (store/migrations/041_imap.ts) for every
 * write path; every write here goes through the JMAP change log, so it bumps the JMAP states and
 * pushes a StateChange, and is answered only after its transaction committed.
 *
 * SELECT, the sync between commands and FETCH of flags answer from one shared view per mailbox
 * (imap_view.ts, imap_views.ts: Postern's counterpart of Dovecot's index), kept coherent with every
 * process's writes by the MODSEQ read on each use.
 *
 * Refusals are the domain errors, for the session's one mapping to IMAP: NotFoundError (a mailbox
 * gone, or never visible to the viewer) → NO [NONEXISTENT] (APPEND/COPY/MOVE: [TRYCREATE]),
 * ForbiddenError → NO [NOPERM], InvalidInputError (a flag that cannot be stored) → BAD, QuotaError →
 * NO [OVERQUOTA]. Modseqs are numbers (safe integers); the wire's bigints convert at the session.
 */
import type { AccountService } from "../directory/mod.ts";
import {
  ForbiddenError,
  InvalidInputError,
  type LoggedWrite,
  NotFoundError,
  rightBit,
  type Store,
  WRITE_RIGHTS,
} from "./deps.ts";
import type { ImapMailboxState, ImapMessageRow, UidRanges } from "../store/mod.ts";
import type { BlobService } from "./blobs.ts";
import type { EmailService } from "./emails.ts";
import type { MailboxService } from "./mailboxes.ts";
import { DELETED_KEYWORD, flagsOfKeywords, PERMANENT_FLAGS, SYSTEM_FLAG_NAMES } from "./imap_flags.ts";
import { type ImapListEntry, type ImapMailboxRef, listImapMailboxes, sameImapName } from "./imap_names.ts";
import { ImapUpdates, toRanges } from "./imap_updates.ts";
import type { ImapAppends } from "./imap_appends.ts";
import { ImapSearch } from "./imap_search.ts";
import type { ImapChanges, ImapMessage, ImapMessageFacts, ImapSelection, ImapStatus } from "./imap_types.ts";
import type { ImapMailboxView } from "./imap_view.ts";
import { ImapViews } from "./imap_views.ts";

export type { ImapChanges, ImapMessage, ImapMessageFacts, ImapSelection, ImapStatus, UidRanges };

/** How many messages {@link ImapMailboxService.messages} reads at once. */
export const MAX_MESSAGES_BATCH = 1000;

/** RFC 4314 §4: SELECT is read-write with any of s (seen), w (write), t (delete-message), e (expunge). */
const CHANGE = rightBit("maySetSeen") | rightBit("maySetKeywords") | rightBit("mayRemoveItems");

/** The IMAP view of the mail store for a session. */
export class ImapMailboxService {
  readonly #updates: ImapUpdates;
  readonly #search: ImapSearch;
  /** The shared per-mailbox views (imap_views.ts says why and how they stay coherent). */
  readonly views: ImapViews;

  constructor(
    private readonly store: Store,
    private readonly services: {
      accounts: AccountService;
      mailboxes: MailboxService;
      emails: EmailService;
      blobs: BlobService;
    },
    /** Logs events and changes in the write's transaction and applies the events afterwards. */
    write: LoggedWrite,
    options: { viewBytes?: number } = {},
  ) {
    this.views = new ImapViews(store, options.viewBytes);
    this.#updates = new ImapUpdates(
      store,
      services,
      write,
      (viewerId, ref, right) => this.access(viewerId, ref, right),
    );
    this.#search = new ImapSearch(
      store,
      services.emails,
      (viewerId, ref, right) => this.access(viewerId, ref, right),
    );
  }

  /** LIST/LSUB (RFC 9051 §6.3.9, RFC 5258, RFC 6154): every mailbox the viewer can see. */
  list(viewerId: number): Promise<ImapListEntry[]> {
    return listImapMailboxes(viewerId, this.services);
  }

  /** The mailbox of an IMAP name the viewer can see, or undefined (a session answers NO [NONEXISTENT]). */
  async resolve(viewerId: number, name: string): Promise<ImapListEntry | undefined> {
    return (await this.list(viewerId)).find((entry) => sameImapName(entry.name, name));
  }

  /**
   * SELECT or EXAMINE (RFC 9051 §6.3.2, §6.3.3): the mailbox's state and messages. Needs
   * mayReadItems; read-only for EXAMINE or without a right to change anything (RFC 4314 §4).
   */
  async select(viewerId: number, name: string, options: { examine?: boolean } = {}): Promise<ImapSelection> {
    const entry = await this.resolve(viewerId, name);
    if (!entry) throw new NotFoundError("Mailbox", name);
    return await this.selectMailbox(viewerId, entry, options);
  }

  /**
   * SELECT or EXAMINE of a mailbox the session has already resolved by its own names (`name` is
   * answered as is); the same checks as {@link select}.
   */
  async selectMailbox(
    viewerId: number,
    entry: ImapMailboxRef & { name: string },
    options: { examine?: boolean } = {},
  ): Promise<ImapSelection> {
    const { bits: rights, state } = await this.access(viewerId, entry, "mayReadItems");
    const view = await this.views.view(state);
    if (!view) throw new NotFoundError("Mailbox", entry.name);
    const { unseen, firstUnseen, keywords } = view.summary();
    const readOnly = options.examine === true || (rights & CHANGE) === 0;
    let messages: ImapMessage[] | undefined;
    return {
      accountId: entry.accountId,
      mailboxId: entry.mailboxId,
      name: entry.name,
      uidValidity: view.uidValidity,
      uidNext: view.uidNext,
      highestModseq: view.highestModseq,
      readOnly,
      rights,
      view,
      // Made only when asked: the session starts from the shared view's arrays instead.
      get messages() {
        return messages ??= view.messages();
      },
      exists: view.exists,
      unseen,
      firstUnseen,
      flags: [...SYSTEM_FLAG_NAMES, ...keywords],
      permanentFlags: readOnly || (rights & WRITE_RIGHTS) === 0 ? [] : [...PERMANENT_FLAGS],
    };
  }

  /**
   * The mailbox's shared view, up to date (one state lookup when nothing changed): what FETCH of
   * FLAGS, UID and MODSEQ answers from without reading rows. Needs mayReadItems.
   */
  async view(viewerId: number, ref: ImapMailboxRef): Promise<ImapMailboxView> {
    const { state } = await this.access(viewerId, ref, "mayReadItems");
    const view = await this.views.view(state);
    if (!view) throw new NotFoundError("Mailbox", String(ref.mailboxId));
    return view;
  }

  /** STATUS (RFC 9051 §6.3.11) of a mailbox by name; needs mayReadItems. */
  async status(viewerId: number, name: string): Promise<ImapStatus> {
    const entry = await this.resolve(viewerId, name);
    if (!entry) throw new NotFoundError("Mailbox", name);
    return await this.statusOf(viewerId, entry);
  }

  /** STATUS of a mailbox the session has already resolved; needs mayReadItems. */
  async statusOf(viewerId: number, entry: ImapMailboxRef): Promise<ImapStatus> {
    const { state } = await this.access(viewerId, entry, "mayReadItems");
    const counts = (await this.store.emails.counts([entry.mailboxId])).get(entry.mailboxId);
    const totals = await this.store.imap.totals(entry.mailboxId, DELETED_KEYWORD);
    return {
      messages: counts?.totalEmails ?? 0,
      unseen: counts?.unreadEmails ?? 0,
      uidNext: state.uidNext,
      uidValidity: state.uidValidity,
      highestModseq: state.highestModseq,
      size: totals.size,
      deleted: totals.withKeyword,
    };
  }

  /**
   * What changed since `modseq` (RFC 7162 §3.1.4.1, §3.2.5, §3.2.10; RFC 9051 §7.4 between commands).
   * When nothing changed it costs one lookup of the mailbox's state. Needs mayReadItems.
   */
  async changes(viewerId: number, ref: ImapMailboxRef, modseq: number): Promise<ImapChanges> {
    const { state } = await this.access(viewerId, ref, "mayReadItems");
    const base = { uidNext: state.uidNext, highestModseq: state.highestModseq };
    if (modseq >= state.highestModseq) {
      const view = this.views.peek(state);
      return { ...base, changed: [], vanished: [], vanishedExact: true, view };
    }
    // The rows, the expunges and the state they reach up to from one read transaction, so the shared
    // view at that MODSEQ is exactly what the session knows once it has told them (session_sync.ts).
    const read = await this.store.imap.viewRead(ref.mailboxId, modseq);
    if (!read) throw new NotFoundError("Mailbox", String(ref.mailboxId));
    const view = await this.views.after(read, modseq);
    const { rows } = read;
    const changed: ImapMessage[] = rows.uids.map((uid, i) => ({
      uid,
      emailId: rows.emailIds[i],
      modseq: rows.modseqs[i],
      flags: rows.keywords[i] === null ? [] : flagsOfKeywords(rows.keywords[i]!.split(" ").sort()),
    })).filter((m) => m.modseq > modseq).sort((a, b) => a.uid - b.uid);
    const after = { uidNext: read.state.uidNext, highestModseq: read.state.highestModseq, view };
    if (!read.full) return { ...after, changed, vanished: toRanges(read.expunged), vanishedExact: true };
    return { ...after, changed, vanished: gaps(rows.uids, read.state.uidNext), vanishedExact: false };
  }

  /** FETCH facts of the messages of `uids` (FLAGS, UID, MODSEQ, RFC822.SIZE, INTERNALDATE, EMAILID…). */
  async facts(viewerId: number, ref: ImapMailboxRef, uids: UidRanges): Promise<ImapMessageFacts[]> {
    await this.access(viewerId, ref, "mayReadItems");
    return (await this.store.imap.facts(ref.mailboxId, uids)).map((row) => ({
      ...toMessage(row),
      threadId: row.threadId,
      size: row.size,
      internalDate: row.receivedAt,
    }));
  }

  /** The message of a UID as stored (BODY[], RFC822; the renderers take their parts from it). */
  async message(viewerId: number, ref: ImapMailboxRef, uid: number): Promise<Uint8Array | undefined> {
    return (await this.messages(viewerId, ref, [uid])).get(uid);
  }

  /**
   * The messages of up to {@link MAX_MESSAGES_BATCH} UIDs as stored, by UID, after one rights check
   * (mayReadItems on the mailbox, which holds them) and one read: a FETCH of bodies asks per batch.
   * A UID not in the mailbox (expunged meanwhile) is left out; a UID that is not a positive integer,
   * or too many of them, is an InvalidInputError.
   */
  async messages(
    viewerId: number,
    ref: ImapMailboxRef,
    uids: readonly number[],
  ): Promise<Map<number, Uint8Array>> {
    if (uids.length > MAX_MESSAGES_BATCH) {
      throw new InvalidInputError(
        `Cannot read ${uids.length} messages at once (at most ${MAX_MESSAGES_BATCH})`,
        [
          { property: "uids", message: "too many" },
        ],
      );
    }
    const bad = uids.find((uid) => !Number.isSafeInteger(uid) || uid < 1);
    if (bad !== undefined) {
      throw new InvalidInputError(`"${bad}" is not a UID`, [{ property: "uids", message: "not a UID" }]);
    }
    await this.access(viewerId, ref, "mayReadItems");
    return await this.store.imap.bodies(ref.mailboxId, uids);
  }

  /**
   * SUBSCRIBE/UNSUBSCRIBE (RFC 9051 §6.3.7, §6.3.8): the viewer's JMAP isSubscribed of the mailbox,
   * through Mailbox/set's path (its change is logged and pushed like any other).
   */
  async subscribe(viewerId: number, ref: ImapMailboxRef, subscribed: boolean): Promise<void> {
    await this.access(viewerId, ref, "mayReadItems");
    await this.services.mailboxes.update(viewerId, ref.accountId, ref.mailboxId, {
      isSubscribed: subscribed,
    });
  }

  /** STORE (RFC 9051 §6.4.6, RFC 7162 §3.1.3): see {@link ImapUpdates.storeFlags}. */
  storeFlags(...args: Parameters<ImapUpdates["storeFlags"]>): ReturnType<ImapUpdates["storeFlags"]> {
    return this.#updates.storeFlags(...args);
  }

  /** COPY (RFC 9051 §6.4.7, RFC 4315 COPYUID): see {@link ImapUpdates.copy}. */
  copy(...args: Parameters<ImapUpdates["copy"]>): ReturnType<ImapUpdates["copy"]> {
    return this.#updates.copy(...args);
  }

  /** MOVE (RFC 6851): see {@link ImapUpdates.move}. */
  move(...args: Parameters<ImapUpdates["move"]>): ReturnType<ImapUpdates["move"]> {
    return this.#updates.move(...args);
  }

  /** EXPUNGE and UID EXPUNGE (RFC 9051 §6.4.3, RFC 4315): see {@link ImapUpdates.expunge}. */
  expunge(...args: Parameters<ImapUpdates["expunge"]>): ReturnType<ImapUpdates["expunge"]> {
    return this.#updates.expunge(...args);
  }

  /** APPEND (RFC 9051 §6.3.12, RFC 4315 APPENDUID): see {@link ImapUpdates.append}. */
  append(...args: Parameters<ImapAppends["append"]>): ReturnType<ImapAppends["append"]> {
    return this.#updates.appends.append(...args);
  }

  /** MULTIAPPEND (RFC 3502), all or none: see {@link ImapUpdates.appendAll}. */
  appendAll(...args: Parameters<ImapAppends["appendAll"]>): ReturnType<ImapAppends["appendAll"]> {
    return this.#updates.appends.appendAll(...args);
  }

  /** SEARCH (RFC 9051 §6.4.4): see {@link ImapSearch.search}. */
  search(...args: Parameters<ImapSearch["search"]>): ReturnType<ImapSearch["search"]> {
    return this.#search.search(...args);
  }

  /** SORT (RFC 5256 §3): see {@link ImapSearch.sort}. */
  sort(...args: Parameters<ImapSearch["sort"]>): ReturnType<ImapSearch["sort"]> {
    return this.#search.sort(...args);
  }

  /** THREAD (RFC 5256 §4): see {@link ImapSearch.thread}. */
  thread(...args: Parameters<ImapSearch["thread"]>): ReturnType<ImapSearch["thread"]> {
    return this.#search.thread(...args);
  }

  /**
   * The viewer's rights on a mailbox and its state: NotFoundError when it is gone or no longer
   * visible to the viewer, ForbiddenError when visible without `right`. Two indexed lookups for the
   * owner (a sharer's grants are read too), so a revoked grant stops the very next command.
   */
  private async access(
    viewerId: number,
    ref: ImapMailboxRef,
    right: Parameters<typeof rightBit>[0],
  ): Promise<{ bits: number; state: ImapMailboxState }> {
    const state = (await this.store.imap.states([ref.mailboxId])).get(ref.mailboxId);
    const bits = state?.accountId === ref.accountId
      ? (await this.services.mailboxes.rightsIn(viewerId, ref.accountId))(ref.mailboxId)
      : 0;
    if (!state || bits === 0) throw new NotFoundError("Mailbox", String(ref.mailboxId));
    if ((bits & rightBit(right)) === 0) {
      throw new ForbiddenError(`You may not do that in this mailbox (${right} is not granted)`);
    }
    return { bits, state };
  }
}

/** A stored row as IMAP shows it. */
export function toMessage(row: ImapMessageRow): ImapMessage {
  return { uid: row.uid, emailId: row.emailId, modseq: row.modseq, flags: flagsOfKeywords(row.keywords) };
}

/** The UIDs from 1 to uidNext - 1 not in `present` (ascending), as ranges. */
function gaps(present: readonly number[], uidNext: number): [number, number][] {
  const out: [number, number][] = [];
  let next = 1;
  for (const uid of [...present, uidNext]) {
    if (uid > next) out.push([next, uid - 1]);
    next = uid + 1;
  }
  return out;
}
