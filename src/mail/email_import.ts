/**
 * Storing messages as emails (RFC 8621 §4.8 Email/import, and §4.6 Email/set create, which builds the
 * message first): every check an item needs (its blob readable by the viewer, mailboxes it may add
 * to, keywords it may set, the account's quota), the message parsed once for what lists and search
 * need, and one transaction per call that logs the Email, Thread and Mailbox changes.
 */
import type { AccountService } from "../directory/mod.ts";
import {
  type Change,
  ForbiddenError,
  InvalidInputError,
  type LoggedWrite,
  NotFoundError,
  QuotaError,
  rightBit,
  RuleError,
  type Store,
} from "./deps.ts";
import type { EmailRecord, NewEmail, StoredBlob } from "../store/mod.ts";
import { type BlobService, parseBlobId, parseBlobRef } from "./blobs.ts";
import type { MailboxService } from "./mailboxes.ts";
import { type ComposeAttachment, type ComposeInput, composeMessage, type StructurePart } from "./compose.ts";
import type { MessageFacts } from "./message_facts.ts";
import { type FactsPool, parsedHere } from "./facts_pool.ts";
import { groupedChanges } from "./change_runs.ts";

/** A body structure as Email/set create gives it: leaves with text, or the blobId of their content. */
export type StructureDraft = Omit<StructurePart, "data" | "subParts"> & {
  blobId?: string;
  subParts?: StructureDraft[];
};

/** One message to import (RFC 8621 §4.8 EmailImport), ids already decoded. */
export interface ImportItem {
  blobId: string;
  mailboxIds: number[];
  keywords: string[];
  receivedAt?: number;
}

/**
 * What an import does with a message the account already holds (the same octets): `refuse` answers
 * alreadyExists with the existing email's id, as RFC 8621 §4.8 lets Email/import do; `store` makes
 * another email of it (IMAP APPEND, as Dovecot does: a new UID the client may expunge as its own).
 */
export type DuplicateImport = "refuse" | "store";

/** Limits of the mail capability that emails obey (RFC 8621 §1.3.1). */
export const EMAIL_LIMITS = { maxSizeAttachmentsPerEmail: 50_000_000 } as const;

/** Why one import failed, as a JMAP SetError. */
export interface ImportRefusal {
  type: "invalidProperties" | "alreadyExists" | "overQuota" | "forbidden";
  description: string;
  properties?: string[];
  existingId?: number;
}

const ADD = rightBit("mayAddItems");
const SEEN = rightBit("maySetSeen");
const KEYWORDS = rightBit("maySetKeywords");

/** An import that passed its checks, its message read but not yet parsed. */
type Checked = Omit<Prepared, "facts" | "imapSize">;

/** An import that passed its checks, ready to be written. */
export interface Prepared {
  item: ImportItem;
  blob: StoredBlob;
  data: Uint8Array;
  facts: MessageFacts;
  receivedAt: number;
  /**
   * The IMAP size when the caller knows it (null: the size itself, no bare LF), so the insert need
   * not read the stored blob back to measure it (store/emails.ts).
   */
  imapSize?: number | null;
}

/** The row an import stores. */
function newEmail(accountId: number, p: Prepared): NewEmail {
  const { facts, receivedAt } = p;
  return {
    accountId,
    blobId: p.blob.id,
    size: p.data.length,
    receivedAt,
    sentAt: facts.sentAt,
    // RFC 5256 §2.2: without a readable Date, the date it arrived is the date it was sent (for sorting).
    sentMs: facts.sentAt === null ? receivedAt : Date.parse(facts.sentAt),
    subject: facts.subject ?? "",
    baseSubject: facts.baseSubject,
    fromSort: facts.fromSort,
    toSort: facts.toSort,
    hasAttachment: facts.hasAttachment,
    preview: facts.preview,
    headers: JSON.stringify(facts.headers),
    mailboxIds: [...new Set(p.item.mailboxIds)],
    keywords: [...new Set(p.item.keywords.map((k) => k.toLowerCase()))],
    threadIds: facts.threadIds,
    imapSize: p.imapSize,
  };
}
/** What the emails stored in one transaction log, gathered as they are inserted. */
export interface InsertLog {
  now: number;
  changes: Change[];
  /** Mailboxes whose counts changed (one countsOnly change each at the end). */
  recounted: Set<number>;
}

/**
 * Inserts one checked message as an email of `accountId`, inside a transaction already open, and
 * notes its changes in `log`; returns the email as a read would give it back.
 */
export async function insertPrepared(
  store: Store,
  accountId: number,
  p: Prepared,
  log: InsertLog,
): Promise<EmailRecord> {
  const row = newEmail(accountId, p);
  const { id, threadId, newThread, merged } = await store.emails.insert(row, log.now);
  // Emails of the threads this one linked moved to its thread (threading rule: store/threading.ts).
  for (const moved of await store.emails.get(accountId, merged.emailIds)) {
    log.changes.push({ type: "Email", objectId: moved.id, kind: "updated", accountId });
    for (const m of moved.mailboxIds) log.recounted.add(m);
  }
  for (const gone of merged.threadIds) {
    log.changes.push({ type: "Thread", objectId: gone, kind: "destroyed", accountId });
  }
  // What was stored, as a read would give it back (no need to read it back).
  const email: EmailRecord = {
    id,
    accountId,
    threadId,
    blobId: p.blob.id,
    blobHash: p.blob.hash,
    size: row.size,
    receivedAt: row.receivedAt,
    sentAt: row.sentAt,
    subject: row.subject,
    hasAttachment: row.hasAttachment,
    preview: row.preview,
    headers: row.headers,
    mailboxIds: [...row.mailboxIds].sort((a, b) => a - b),
    keywords: [...row.keywords].sort(),
  };
  log.changes.push(
    { type: "Email", objectId: id, kind: "created", accountId },
    { type: "Thread", objectId: threadId, kind: newThread ? "created" : "updated", accountId },
  );
  for (const m of email.mailboxIds) log.recounted.add(m);
  return email;
}

/** Imports and creates emails for a viewer (EmailService hands both to it). */
export class EmailImporter {
  constructor(
    private readonly store: Store,
    private readonly accounts: AccountService,
    private readonly mailboxes: MailboxService,
    private readonly blobs: BlobService,
    /** Logs events and changes in the write's transaction and applies the events afterwards. */
    private readonly write: LoggedWrite,
    /** Parses a call's messages in a worker thread (facts_pool.ts); without it, each is parsed here. */
    private readonly facts?: FactsPool,
  ) {}

  /**
   * Imports each item; an item's failure is its own (the others go on). Returns, in order, the
   * stored email or the refusal. A message already in the account is refused unless `duplicates`
   * is `store`.
   */
  async import(
    viewerId: number,
    accountId: number,
    items: readonly ImportItem[],
    options: { duplicates?: DuplicateImport } = {},
  ): Promise<(EmailRecord | ImportRefusal)[]> {
    const rights = await this.mailboxes.rightsIn(viewerId, accountId);
    const existing = new Set((await this.store.mailboxes.list(accountId)).map((m) => m.id));
    const checked: (Checked | ImportRefusal)[] = [];
    for (const item of items) {
      checked.push(await this.check(viewerId, accountId, item, { rights, existing }));
    }
    const ready = await this.parsed(checked.filter((c): c is Checked => !("type" in c)));
    let next = 0;
    const prepared = checked.map((c) => "type" in c ? c : ready[next++]);
    if (ready.length === 0) return prepared as ImportRefusal[];
    const limit = (await this.accounts.get(accountId))?.quotas.maxDiskQuota;
    const now = Date.now();
    // One transaction for the whole call: a batch of imports costs one commit.
    const stored = await this.write(async () => {
      const results = new Map<Prepared, EmailRecord | ImportRefusal>();
      const changes: Change[] = [];
      const recounted = new Set<number>();
      let used = limit === undefined ? 0 : await this.store.blobs.usedBytes(accountId);
      for (const p of ready) {
        const existingId = options.duplicates === "store"
          ? undefined
          : await this.store.emails.idByBlob(accountId, p.blob.id);
        if (existingId !== undefined) {
          results.set(p, {
            type: "alreadyExists",
            description: "This message is already in the account",
            existingId,
          });
          continue;
        }
        if (limit !== undefined) {
          // Each email counts; the first one filed from the account's own upload takes over its cost.
          const extra = await this.store.blobs.emailCost(accountId, p.blob.id);
          if (used + extra > limit) {
            results.set(p, {
              type: "overQuota",
              description:
                `Storing the message of ${p.data.length} bytes would pass the account's storage limit ` +
                `(maxDiskQuota ${limit} bytes, ${
                  used - (p.data.length - extra)
                } used by other mail and uploads)`,
            });
            continue;
          }
          used += extra;
        }
        results.set(
          p,
          await insertPrepared(this.store, accountId, p, { now, changes, recounted }),
        );
      }
      for (const m of recounted) {
        changes.push({ type: "Mailbox", objectId: m, kind: "updated", accountId, countsOnly: true });
      }
      return { result: results, events: [], changes: groupedChanges(changes) };
    });
    return prepared.map((p) => "type" in p ? p : stored.get(p)!);
  }

  /**
   * Email/set create (RFC 8621 §4.6): the message built from the properties given, attachments read
   * from blobs the viewer may read, then stored exactly as an import of it would be. A refusal is
   * thrown as the domain error of its SetError.
   */
  async create(
    viewerId: number,
    accountId: number,
    draft: {
      message: Omit<ComposeInput, "attachments" | "structure">;
      attachments: (Omit<ComposeAttachment, "data"> & { blobId: string })[];
      /** A whole body structure instead of text, HTML and attachments; leaves name blobs by blobId. */
      structure?: StructureDraft;
      mailboxIds: number[];
      keywords: string[];
      receivedAt?: number;
    },
  ): Promise<EmailRecord> {
    const read = async (id: string) => {
      try {
        return await this.blobs.download(viewerId, accountId, id);
      } catch (error) {
        if (error instanceof NotFoundError) {
          throw new RuleError("blobNotFound", `No blob "${id}" in this account is available to you`, {
            notFound: [id],
          });
        }
        throw error;
      }
    };
    const attachments: ComposeAttachment[] = [];
    for (const { blobId: id, ...rest } of draft.attachments) {
      attachments.push({ ...rest, data: await read(id) });
    }
    const resolve = async ({ blobId: id, subParts, ...rest }: StructureDraft): Promise<StructurePart> => ({
      ...rest,
      ...(subParts ? { subParts: await Promise.all(subParts.map(resolve)) } : {}),
      ...(id === undefined ? {} : { data: await read(id) }),
    });
    const structure = draft.structure && await resolve(draft.structure);
    const leaves = (part: StructurePart): number =>
      part.subParts ? part.subParts.reduce((n, child) => n + leaves(child), 0) : part.data?.length ?? 0;
    const attached = attachments.reduce((n, a) => n + a.data.length, 0) + (structure ? leaves(structure) : 0);
    if (attached > EMAIL_LIMITS.maxSizeAttachmentsPerEmail) {
      throw new RuleError(
        "tooLarge",
        `The attachments come to ${attached} bytes, more than maxSizeAttachmentsPerEmail (${EMAIL_LIMITS.maxSizeAttachmentsPerEmail})`,
      );
    }
    // New Message-IDs end in the account's own domain, as its mail client's would.
    const hostname = (await this.accounts.get(accountId))?.primaryAddress.split("@")[1] ?? "localhost";
    const bytes = await composeMessage({ ...draft.message, attachments, structure }, { hostname });
    const upload = await this.blobs.upload(viewerId, accountId, { data: bytes, type: "message/rfc822" });
    const [outcome] = await this.import(viewerId, accountId, [{
      blobId: upload.blobId,
      mailboxIds: draft.mailboxIds,
      keywords: draft.keywords,
      receivedAt: draft.receivedAt,
    }]);
    if (!("type" in outcome)) return outcome;
    switch (outcome.type) {
      case "invalidProperties":
        throw new InvalidInputError(
          outcome.description,
          (outcome.properties ?? []).map((property) => ({ property, message: outcome.description })),
        );
      case "forbidden":
        throw new ForbiddenError(outcome.description);
      case "overQuota":
        throw new QuotaError(outcome.description);
      default:
        throw new RuleError(outcome.type, outcome.description);
    }
  }

  /**
   * The messages parsed (in the worker thread when there is one) with what the insert needs of them.
   * The IMAP size counted here saves the insert reading the stored message back to measure it.
   */
  private async parsed(checked: Checked[]): Promise<Prepared[]> {
    const messages = checked.map((c) => c.data);
    const parsed = this.facts ? await this.facts.parse(messages) : await parsedHere(messages);
    return checked.map((c, i) => {
      const { facts, bareLineFeeds: bare } = parsed[i];
      return { ...c, facts, imapSize: bare === 0 ? null : c.data.length + bare };
    });
  }

  /** Everything an import checks before it writes, and the message it reads. */
  private async check(
    viewerId: number,
    accountId: number,
    item: ImportItem,
    context: { rights: (mailboxId: number) => number; existing: Set<number> },
  ): Promise<Checked | ImportRefusal> {
    let hash = parseBlobId(item.blobId);
    const now = Date.now();
    // A part (an attached message) is kept as a blob of its own first, like an upload of it.
    if (!hash && parseBlobRef(item.blobId)?.path.length) {
      try {
        const part = await this.blobs.download(viewerId, accountId, item.blobId);
        const kept = await this.blobs.upload(viewerId, accountId, { data: part, type: "message/rfc822" });
        hash = parseBlobId(kept.blobId);
      } catch (error) {
        if (error instanceof QuotaError) return { type: "overQuota", description: error.message };
        if (error instanceof ForbiddenError) return { type: "forbidden", description: error.message };
        if (!(error instanceof NotFoundError)) throw error;
      }
    }
    // An upload the viewer may read (its row and bytes in one lookup), or a message of the account.
    const upload = hash && await this.store.blobs.readUpload({ accountId, viewerId }, hash, now);
    const data = upload ? upload.data : hash && await this.blobs.readableMessage(viewerId, accountId, hash);
    if (!hash || !data) {
      // RFC 8621 §4.8: "If the "blobId", "mailboxIds", or "keywords" properties are invalid (e.g.,
      // missing, wrong type, id not found), the server MUST reject the import with an
      // "invalidProperties" SetError." (Email/set keeps blobNotFound, RFC 8621 §4.6.)
      return invalid("blobId", `No blob "${item.blobId}" in this account is available to you`);
    }
    if (item.mailboxIds.length === 0) {
      return invalid("mailboxIds", "An email must be in at least one mailbox");
    }
    for (const mailboxId of item.mailboxIds) {
      const bits = context.rights(mailboxId);
      if (!context.existing.has(mailboxId) || bits === 0) {
        return invalid("mailboxIds", `There is no mailbox "${mailboxId}" in this account that you can see`);
      }
      if ((bits & ADD) === 0) {
        return {
          type: "forbidden",
          description: "You may not add emails to one of these mailboxes (mayAddItems is not granted)",
        };
      }
      const seen = item.keywords.some((k) => k.toLowerCase() === "$seen");
      const others = item.keywords.some((k) => k.toLowerCase() !== "$seen");
      if ((seen && (bits & SEEN) === 0) || (others && (bits & KEYWORDS) === 0)) {
        return {
          type: "forbidden",
          description: `You may not set ${
            seen && (bits & SEEN) === 0 ? "$seen (maySetSeen)" : "keywords (maySetKeywords)"
          } in one of these mailboxes`,
        };
      }
    }
    const blob = upload ? upload.blob : (await this.store.blobs.idOf(hash))!;
    const receivedAt = Math.floor((item.receivedAt ?? now) / 1000) * 1000;
    return { item, blob, data, receivedAt };
  }
}

function invalid(property: string, description: string): ImportRefusal {
  return { type: "invalidProperties", description, properties: [property] };
}
