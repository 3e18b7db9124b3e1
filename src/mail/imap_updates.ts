/**
 * IMAP's writes as JMAP email changes, each in one transaction that logs its Email, Thread and
 * Mailbox changes (so the JMAP states move and a StateChange is pushed; the triggers of
 * store/migrations/041_imap.ts give the UIDs and MODSEQs):
 *
 * - STORE changes keywords (imap_flags.ts maps flags to keywords);
 * - COPY adds the mailbox to the email's mailboxIds (an email in several mailboxes is one email with
 *   a UID in each); COPY into a mailbox that already holds the email answers its UID there;
 * - MOVE swaps one mailbox for the other in one write;
 * - EXPUNGE takes the mailbox out of the mailboxIds of its \Deleted messages, and destroys an email
 *   that was in no other mailbox (as Email/set would);
 * - APPEND is an Email/import (threads, search index, quota, push): imap_appends.ts.
 *
 * Rights are JMAP's (RFC 8621 §2): keywords need maySetKeywords, $seen maySetSeen and \Deleted
 * mayRemoveItems (RFC 4314 §4: STORE \Deleted needs "t") on every mailbox of the email, as
 * Email/set asks; COPY needs mayAddItems on the target, MOVE and EXPUNGE mayRemoveItems on the source.
 */
import type { AccountService } from "../directory/mod.ts";
import { type Change, ForbiddenError, type LoggedWrite, rightBit, type Store } from "./deps.ts";
import type { EmailRecord, ImapMessageFactsRow, ImapMessageRow, UidRanges } from "../store/mod.ts";
import type { BlobService } from "./blobs.ts";
import type { EmailService } from "./emails.ts";
import type { MailboxService } from "./mailboxes.ts";
import { DELETED_KEYWORD, flagsOfKeywords, keywordsOfFlags } from "./imap_flags.ts";
import type { ImapMailboxRef } from "./imap_names.ts";
import type { ImapMessage } from "./imap_types.ts";
import { ImapAppends } from "./imap_appends.ts";
import type { ImapAccess, ImapCopyResult } from "./imap_types.ts";

export type { ImapAccess, ImapCopyResult };

/** A STORE (RFC 9051 §6.4.6) with CONDSTORE's UNCHANGEDSINCE (RFC 7162 §3.1.3). */
export interface ImapFlagChange {
  operation: "add" | "remove" | "replace";
  flags: readonly string[];
  unchangedSince?: number;
}

const SEEN = rightBit("maySetSeen");
const KEYWORDS = rightBit("maySetKeywords");
const REMOVE = rightBit("mayRemoveItems");

/** The writes of ImapMailboxService. */
export class ImapUpdates {
  constructor(
    private readonly store: Store,
    private readonly services: {
      accounts: AccountService;
      mailboxes: MailboxService;
      emails: EmailService;
      blobs: BlobService;
    },
    private readonly write: LoggedWrite,
    private readonly access: ImapAccess,
  ) {
    this.appends = new ImapAppends(store, services, access);
  }

  /** APPEND, MULTIAPPEND and COPY into another account (imap_appends.ts). */
  readonly appends: ImapAppends;

  /**
   * STORE FLAGS/+FLAGS/-FLAGS on the messages of `uids`: returns every message touched with its
   * flags and MODSEQ after the write (for the FETCH responses), and, with `unchangedSince`, the UIDs
   * left alone because their MODSEQ is above it (the MODIFIED code of RFC 7162 §3.1.3). The test and
   * the write are one transaction.
   */
  async storeFlags(
    viewerId: number,
    ref: ImapMailboxRef,
    uids: UidRanges,
    change: ImapFlagChange,
  ): Promise<{ messages: ImapMessage[]; modified: number[] }> {
    const wanted = keywordsOfFlags(change.flags);
    await this.access(viewerId, ref, "mayReadItems");
    const rights = await this.services.mailboxes.rightsIn(viewerId, ref.accountId);
    return await this.write(async () => {
      const rows = await this.store.imap.rows(ref.mailboxId, uids);
      const since = change.unchangedSince;
      const modified = since === undefined ? [] : rows.filter((r) => r.modseq > since).map((r) => r.uid);
      const kept = since === undefined ? rows : rows.filter((r) => r.modseq <= since);
      // What each message gains or loses, from the keywords just read in this transaction.
      const needs = new Map<number, { need: number; seen: boolean }>();
      for (const row of kept) {
        const has = new Set(row.keywords);
        const touched = change.operation === "add"
          ? wanted.filter((k) => !has.has(k))
          : change.operation === "remove"
          ? wanted.filter((k) => has.has(k))
          : [...wanted.filter((k) => !has.has(k)), ...row.keywords.filter((k) => !wanted.includes(k))];
        if (touched.length === 0) continue;
        const need = touched.reduce(
          (bits, k) => bits | (k === "$seen" ? SEEN : k === DELETED_KEYWORD ? REMOVE : KEYWORDS),
          0,
        );
        needs.set(row.emailId, { need, seen: touched.includes("$seen") });
      }
      const ids = [...needs.keys()];
      // Email/set's rule: the rights on every mailbox of the email, this one and any other.
      const others = await this.store.imap.otherMailboxes(ref.mailboxId, ids);
      const recounted = new Set<number>();
      for (const [emailId, { need, seen }] of needs) {
        const mailboxIds = [ref.mailboxId, ...others.get(emailId) ?? []];
        if (!mailboxIds.every((m) => (rights(m) & need) === need)) {
          throw new ForbiddenError(
            "You may not change these flags (maySetSeen, maySetKeywords or mayRemoveItems is not granted " +
              "on every mailbox of the message)",
          );
        }
        if (seen) { for (const m of mailboxIds) recounted.add(m); }
      }
      const modseqs = await this.store.imap.setKeywords(
        ids,
        change.operation === "add"
          ? { add: wanted }
          : change.operation === "remove"
          ? { add: [], remove: wanted }
          : { add: wanted, keepOnly: wanted },
      );
      // The rows after the write, from the rows read before it in this transaction and the change.
      const after = kept.map((row): ImapMessageRow =>
        needs.has(row.emailId)
          ? {
            ...row,
            keywords: keywordsAfter(row.keywords, wanted, change.operation),
            modseq: modseqs.get(row.emailId) ?? row.modseq,
          }
          : row
      );
      return {
        result: { messages: after.map(messageOf), modified },
        events: [],
        changes: [
          ...ids.map((id): Change => ({
            type: "Email",
            objectId: id,
            kind: "updated",
            accountId: ref.accountId,
          })),
          ...counts(recounted, ref.accountId),
        ],
      };
    });
  }

  /**
   * COPY: the messages of `uids` into `to`. In one account, one write adding `to` to each email's
   * mailboxIds; into another account (a shared mailbox), an APPEND of each message, all in one
   * transaction (appendAll).
   */
  async copy(
    viewerId: number,
    from: ImapMailboxRef,
    uids: UidRanges,
    to: ImapMailboxRef,
  ): Promise<ImapCopyResult> {
    await this.access(viewerId, from, "mayReadItems");
    const { state } = await this.access(viewerId, to, "mayAddItems");
    if (from.accountId !== to.accountId) return await this.appends.copyAcross(viewerId, from, uids, to);
    return await this.write(async () => {
      const rows = await this.store.imap.facts(from.mailboxId, uids);
      const emails = await this.emailsOf(from.accountId, rows);
      const changes: Change[] = [];
      for (const email of emails.values()) {
        if (email.mailboxIds.includes(to.mailboxId)) continue;
        await this.store.emails.setMailboxes(email, { add: [to.mailboxId], remove: [] });
        changes.push({ type: "Email", objectId: email.id, kind: "updated", accountId: to.accountId });
      }
      const pairs = await this.pairs(rows, to.mailboxId);
      return {
        result: { uidValidity: state.uidValidity, pairs },
        events: [],
        changes: changes.length ? [...changes, ...counts([to.mailboxId], to.accountId)] : [],
      };
    });
  }

  /**
   * MOVE (RFC 6851 §3.3): COPY and EXPUNGE of the moved messages at once; in one account one write
   * that replaces the mailbox in each email's mailboxIds (so it is never in both, nor in neither).
   * Returns the COPYUID pairs; their source UIDs are the ones expunged.
   */
  async move(
    viewerId: number,
    from: ImapMailboxRef,
    uids: UidRanges,
    to: ImapMailboxRef,
  ): Promise<ImapCopyResult> {
    await this.access(viewerId, from, "mayRemoveItems");
    const { state } = await this.access(viewerId, to, "mayAddItems");
    if (from.accountId !== to.accountId) {
      const copied = await this.appends.copyAcross(viewerId, from, uids, to);
      await this.expunge(viewerId, from, toPairs(copied.pairs.map(([uid]) => ({ uid }))), {
        deletedOnly: false,
      });
      return copied;
    }
    return await this.write(async () => {
      const rows = await this.store.imap.facts(from.mailboxId, uids);
      const emails = await this.emailsOf(from.accountId, rows);
      for (const email of emails.values()) {
        await this.store.emails.setMailboxes(email, { add: [to.mailboxId], remove: [from.mailboxId] });
      }
      const pairs = await this.pairs(rows, to.mailboxId);
      return {
        result: { uidValidity: state.uidValidity, pairs },
        events: [],
        changes: emails.size
          ? [
            ...[...emails.keys()].map((id): Change => ({
              type: "Email",
              objectId: id,
              kind: "updated",
              accountId: from.accountId,
            })),
            ...counts([from.mailboxId, to.mailboxId], from.accountId),
          ]
          : [],
      };
    });
  }

  /**
   * EXPUNGE (all \Deleted messages) or UID EXPUNGE (those of `uids`, RFC 4315 §2.1): each leaves the
   * mailbox, an email in no other mailbox is destroyed. Returns the expunged UIDs, ascending.
   */
  async expunge(
    viewerId: number,
    ref: ImapMailboxRef,
    uids?: UidRanges,
    options: { deletedOnly?: boolean } = {},
  ): Promise<number[]> {
    await this.access(viewerId, ref, "mayRemoveItems");
    return await this.write(async () => {
      // Without a set, only the \Deleted messages are read (by the keyword index), not the mailbox.
      const asked = uids ?? toRanges(await this.store.imap.withKeyword(ref.mailboxId, DELETED_KEYWORD));
      const rows = asked.length === 0 ? [] : (await this.store.imap.facts(ref.mailboxId, asked))
        .filter((r) => options.deletedOnly === false || r.keywords.includes(DELETED_KEYWORD));
      const emails = await this.emailsOf(ref.accountId, rows);
      const changes: Change[] = [];
      for (const email of emails.values()) {
        if (email.mailboxIds.length > 1) {
          await this.store.emails.setMailboxes(email, { add: [], remove: [ref.mailboxId] });
          changes.push({ type: "Email", objectId: email.id, kind: "updated", accountId: ref.accountId });
          continue;
        }
        const { threadDeleted } = await this.store.emails.delete(email);
        changes.push(
          { type: "Email", objectId: email.id, kind: "destroyed", accountId: ref.accountId },
          {
            type: "Thread",
            objectId: email.threadId,
            kind: threadDeleted ? "destroyed" : "updated",
            accountId: ref.accountId,
          },
        );
      }
      return {
        result: rows.filter((r) => emails.has(r.emailId)).map((r) => r.uid),
        events: [],
        changes: changes.length ? [...changes, ...counts([ref.mailboxId], ref.accountId)] : [],
      };
    });
  }

  /** The emails of the rows, by id, in the rows' order (ascending source UID: new UIDs follow it). */
  private async emailsOf(
    accountId: number,
    rows: readonly ImapMessageFactsRow[],
  ): Promise<Map<number, EmailRecord>> {
    const emails = new Map(
      (await this.store.emails.get(accountId, rows.map((r) => r.emailId))).map((e) => [e.id, e]),
    );
    return new Map(rows.filter((r) => emails.has(r.emailId)).map((r) => [r.emailId, emails.get(r.emailId)!]));
  }

  /** Source UID → its email's UID in the target, in source order. */
  private async pairs(rows: readonly ImapMessageFactsRow[], target: number): Promise<[number, number][]> {
    const uids = await this.store.imap.uidsOf(target, rows.map((r) => r.emailId));
    return rows.filter((r) => uids.has(r.emailId)).map((r) => [r.uid, uids.get(r.emailId)!]);
  }
}

function messageOf(row: ImapMessageRow): ImapMessage {
  return { uid: row.uid, emailId: row.emailId, modseq: row.modseq, flags: flagsOfKeywords(row.keywords) };
}

/** The UIDs of rows (ascending) as ranges. */
function toPairs(rows: readonly { uid: number }[]): [number, number][] {
  return toRanges(rows.map((r) => r.uid).sort((a, b) => a - b));
}

/** A message's keywords (sorted) after a STORE of `wanted` (lower case, deduplicated). */
function keywordsAfter(
  keywords: readonly string[],
  wanted: readonly string[],
  operation: ImapFlagChange["operation"],
): string[] {
  if (operation === "replace") return [...wanted].sort();
  if (operation === "remove") return keywords.filter((k) => !wanted.includes(k));
  return [...new Set([...keywords, ...wanted])].sort();
}

/** Ascending UIDs as ranges. */
export function toRanges(uids: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const uid of uids) {
    const last = out[out.length - 1];
    if (last && uid === last[1] + 1) last[1] = uid;
    else out.push([uid, uid]);
  }
  return out;
}

function counts(mailboxIds: Iterable<number>, accountId: number): Change[] {
  return [...new Set(mailboxIds)].map((m) => ({
    type: "Mailbox",
    objectId: m,
    kind: "updated",
    accountId,
    countsOnly: true,
  }));
}
