/**
 * What the IMAP mail services answer (src/mail/imap_mailbox.ts, imap_updates.ts): pure types, each
 * citing the RFC section it serves.
 */
import type { ImapMailboxState, UidRanges } from "../store/mod.ts";
import type { rightBit } from "./deps.ts";
import type { ImapMailboxRef } from "./imap_names.ts";
import type { ImapMailboxView } from "./imap_view.ts";

/** A message of a selected mailbox: UID, email, MODSEQ and IMAP flags. */
export interface ImapMessage {
  uid: number;
  emailId: number;
  modseq: number;
  flags: string[];
}

/** A selected mailbox (RFC 9051 §6.3.2 SELECT, §6.3.3 EXAMINE; RFC 7162 §3.1.2 HIGHESTMODSEQ). */
export interface ImapSelection extends ImapMailboxRef {
  name: string;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  /** EXAMINE, or the viewer may change nothing in it (RFC 4314 §4: no s, w, t or e right). */
  readOnly: boolean;
  /** The viewer's JMAP rights bitmask on it. */
  rights: number;
  /** The mailbox's shared view at `highestModseq` (the session starts from its arrays). */
  view?: ImapMailboxView;
  /** Every message by ascending UID: index + 1 is its sequence number (made from the view when read). */
  readonly messages: ImapMessage[];
  /** How many messages (EXISTS): read this, not `messages.length`, which makes the list (absent: that). */
  exists?: number;
  /** Messages without \Seen. */
  unseen: number;
  /** Sequence number of the first message without \Seen (the UNSEEN code of RFC 3501), or null. */
  firstUnseen: number | null;
  /** FLAGS (RFC 9051 §7.3.5): the system flags and the keywords in use. */
  flags: string[];
  /** PERMANENTFLAGS (RFC 9051 §7.1): empty when read-only. */
  permanentFlags: string[];
}

/** STATUS of a mailbox (RFC 9051 §6.3.11; HIGHESTMODSEQ RFC 7162 §3.1.10). */
export interface ImapStatus {
  messages: number;
  unseen: number;
  uidNext: number;
  uidValidity: number;
  highestModseq: number;
  /** Total size of its messages (RFC 8438 STATUS=SIZE). */
  size: number;
  deleted: number;
}

/**
 * What changed in a mailbox since a MODSEQ (RFC 7162 §3.1.4.1 CHANGEDSINCE, §3.2.5 QRESYNC, §3.2.10
 * VANISHED; and the EXISTS/EXPUNGE/FETCH a session sends between commands, RFC 9051 §7.4).
 */
export interface ImapChanges {
  uidNext: number;
  highestModseq: number;
  /** Messages whose flags changed or that arrived (a UID the session does not know), by UID. */
  changed: ImapMessage[];
  /** UIDs expunged since then. */
  vanished: UidRanges;
  /**
   * False when the expunge log no longer reaches back that far (purged): `vanished` then holds every
   * UID below uidNext that is not in the mailbox, as RFC 7162 §3.2.5.2 allows, never a short list.
   */
  vanishedExact: boolean;
  /**
   * The mailbox's shared view when one is at hand; when its HIGHESTMODSEQ is this one's, it holds
   * exactly what a session knows after being told these changes (the session may take its arrays).
   */
  view?: ImapMailboxView;
}

/** What FETCH needs of a message without opening it (RFC 9051 §6.4.5; RFC 8474 EMAILID, THREADID). */
export interface ImapMessageFacts extends ImapMessage {
  threadId: number;
  /** RFC822.SIZE. */
  size: number;
  /** INTERNALDATE (ms since the epoch, whole seconds). */
  internalDate: number;
}

/** Checks the viewer's right on a mailbox and returns its rights and state (ImapMailboxService's). */
export type ImapAccess = (
  viewerId: number,
  ref: ImapMailboxRef,
  right: Parameters<typeof rightBit>[0],
) => Promise<{ bits: number; state: ImapMailboxState }>;

/** COPY/MOVE results for COPYUID (RFC 4315 §3): the target's UIDVALIDITY and source → target UIDs. */
export interface ImapCopyResult {
  uidValidity: number;
  pairs: [number, number][];
}
