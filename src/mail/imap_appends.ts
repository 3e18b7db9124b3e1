/**
 * IMAP's APPENDs as Email/imports (threads, search index, quota, push): one message (APPEND), several
 * all or none (MULTIAPPEND, RFC 3502), and COPY into another account's shared mailbox, which is an
 * APPEND of each message there (RFC 9051 §6.4.7: all or none too). Split from imap_updates.ts.
 */
import {
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  QuotaError,
  RuleError,
  type Store,
} from "./deps.ts";
import type { UidRanges } from "../store/mod.ts";
import type { BlobService } from "./blobs.ts";
import type { EmailService } from "./emails.ts";
import { flagsOfKeywords, keywordsOfFlags } from "./imap_flags.ts";
import type { ImapMailboxRef } from "./imap_names.ts";
import type { ImapAccess, ImapCopyResult } from "./imap_types.ts";

/** One message to APPEND: its octets, flags and internal date (ms). */
export interface ImapAppendInput {
  message: Uint8Array;
  flags?: readonly string[];
  internalDate?: number;
}

/** The APPENDs of ImapMailboxService. */
export class ImapAppends {
  constructor(
    private readonly store: Store,
    private readonly services: { emails: EmailService; blobs: BlobService },
    private readonly access: ImapAccess,
  ) {}

  /**
   * APPEND one message into `to` through Email/import (threading, search index, quota, push), with
   * its flags and internal date; returns APPENDUID's UIDVALIDITY and UID (RFC 4315 §3). Octets the
   * account already holds make a new message all the same (a new email in the same thread, counted
   * by the quota again), as Dovecot does: the client may expunge the UID it got as its own.
   */
  async append(
    viewerId: number,
    to: ImapMailboxRef,
    input: ImapAppendInput,
  ): Promise<{ uidValidity: number; uid: number }> {
    const { uidValidity, uids } = await this.appendAll(viewerId, to, [input]);
    return { uidValidity, uid: uids[0] };
  }

  /**
   * Several APPENDs, all or none: MULTIAPPEND (RFC 3502 §6.3.11) and COPY into another account (RFC
   * 9051 §6.4.7: a COPY that fails leaves the target as it was). Every message's upload and
   * Email/import join one transaction, so a refused message (over quota, a right revoked meanwhile)
   * or a crash rolls back those before it, and nothing is told committed before all are. `inputs` is
   * read one message at a time, so a large COPY never holds every message in memory. The UIDs come
   * in the order of `inputs`.
   */
  async appendAll(
    viewerId: number,
    to: ImapMailboxRef,
    inputs: Iterable<ImapAppendInput> | AsyncIterable<ImapAppendInput>,
  ): Promise<{ uidValidity: number; uids: number[] }> {
    return await this.store.transaction(async () => {
      const { state } = await this.access(viewerId, to, "mayAddItems");
      const emailIds: number[] = [];
      for await (const input of inputs) {
        const upload = await this.services.blobs.upload(viewerId, to.accountId, {
          data: new Uint8Array(input.message),
          type: "message/rfc822",
        });
        const [outcome] = await this.services.emails.import(viewerId, to.accountId, [{
          blobId: upload.blobId,
          mailboxIds: [to.mailboxId],
          keywords: keywordsOfFlags(input.flags ?? []),
          receivedAt: input.internalDate,
        }], { duplicates: "store" });
        // A refusal throws its domain error, which rolls the whole transaction back.
        emailIds.push(emailIdOf(outcome));
      }
      const uids = await this.store.imap.uidsOf(to.mailboxId, emailIds);
      return {
        uidValidity: state.uidValidity,
        uids: emailIds.map((id) => {
          const uid = uids.get(id);
          if (uid === undefined) throw new NotFoundError("Email", String(id));
          return uid;
        }),
      };
    });
  }

  /**
   * COPY into another account: every message appended there (its flags and internal date kept), all
   * or none (appendAll).
   */
  async copyAcross(
    viewerId: number,
    from: ImapMailboxRef,
    uids: UidRanges,
    to: ImapMailboxRef,
  ): Promise<ImapCopyResult> {
    const rows = await this.store.imap.facts(from.mailboxId, uids);
    const copied: number[] = [];
    const store = this.store;
    async function* messages(): AsyncGenerator<ImapAppendInput> {
      for (const row of rows) {
        // copy() checked mayReadItems on the source, which holds the message.
        const message = (await store.imap.bodies(from.mailboxId, [row.uid])).get(row.uid);
        if (!message) continue;
        copied.push(row.uid);
        yield { message, flags: flagsOfKeywords(row.keywords), internalDate: row.receivedAt };
      }
    }
    const { uidValidity, uids: added } = await this.appendAll(viewerId, to, messages());
    return { uidValidity, pairs: copied.map((uid, i) => [uid, added[i]]) };
  }
}

/** The id of an imported email, or its refusal thrown as the matching domain error. */
function emailIdOf(outcome: Awaited<ReturnType<EmailService["import"]>>[number]): number {
  if (!("type" in outcome)) return outcome.id;
  if (outcome.type === "overQuota") throw new QuotaError(outcome.description);
  if (outcome.type === "forbidden") throw new ForbiddenError(outcome.description);
  if (outcome.type === "invalidProperties") {
    throw new InvalidInputError(outcome.description, [{ property: "message", message: outcome.description }]);
  }
  throw new RuleError(outcome.type, outcome.description);
}
