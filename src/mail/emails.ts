/**
 * Emails (RFC 8621 §4): importing messages from blobs into mailboxes, and reading them as a viewer
 * may (the owner everything; a sharer the emails of the mailboxes it may read, with only those
 * mailboxes in `mailboxIds`). Every write logs the Email, Thread and Mailbox changes it makes in
 * its transaction; the mailbox counts follow from the database's own triggers.
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
import {
  type EmailQuery,
  type EmailQueryResult,
  type EmailRecord,
  HEADER_MATCH_FUNCTION,
  type NewEmail,
  type StoredBlob,
} from "../store/mod.ts";
import { type BlobService, parseBlobId, parseBlobRef } from "./blobs.ts";
import type { MailboxService } from "./mailboxes.ts";
import { type ComposeAttachment, type ComposeInput, composeMessage, type StructurePart } from "./compose.ts";

/** A body structure as Email/set create gives it: leaves with text, or the blobId of their content. */
export type StructureDraft = Omit<StructurePart, "data" | "subParts"> & {
  blobId?: string;
  subParts?: StructureDraft[];
};
import { indexedBodyText, type MessageFacts, messageFacts } from "./message_facts.ts";
import { asText, emailBody, messageHeaders } from "./mime/mod.ts";
import { highlight, searchTerms, snippet } from "./snippets.ts";

/** One message to import (RFC 8621 §4.8 EmailImport), ids already decoded. */
export interface ImportItem {
  blobId: string;
  mailboxIds: number[];
  keywords: string[];
  receivedAt?: number;
}

/** Limits of the mail capability that emails obey (RFC 8621 §1.3.1). */
export const EMAIL_LIMITS = { maxSizeAttachmentsPerEmail: 50_000_000 } as const;

/** Why one import failed, as a JMAP SetError. */
export interface ImportRefusal {
  type: "blobNotFound" | "invalidProperties" | "alreadyExists" | "overQuota" | "forbidden";
  description: string;
  properties?: string[];
  existingId?: number;
}

/** A stored email as a viewer sees it. */
export interface EmailView extends EmailRecord {
  /** The mailboxes of `mailboxIds` the viewer may see. */
  visibleMailboxIds: number[];
}

const READ = rightBit("mayReadItems");
const ADD = rightBit("mayAddItems");
const SEEN = rightBit("maySetSeen");
const KEYWORDS = rightBit("maySetKeywords");
const REMOVE = rightBit("mayRemoveItems");

/** RFC 8621 §4.1.1: a keyword is 1–255 printable ASCII characters, none of `( ) { ] % * " \`. */
const KEYWORD = /^[!#$&'+,\-./0-9:;<=>?@A-Z[^_`a-z|}~]{1,255}$/;

/** An import that passed its checks, ready to be written. */
interface Prepared {
  item: ImportItem;
  blob: StoredBlob;
  data: Uint8Array;
  facts: MessageFacts;
  receivedAt: number;
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
    search: facts.search,
  };
}

/** Whether `keyword` is a valid keyword (before lower-casing). */
export function isKeyword(keyword: string): boolean {
  return KEYWORD.test(keyword);
}

/** Email reads and writes for a viewer. */
export class EmailService {
  constructor(
    private readonly store: Store,
    private readonly accounts: AccountService,
    private readonly mailboxes: MailboxService,
    private readonly blobs: BlobService,
    /** Logs events and changes in the write's transaction and applies the events afterwards. */
    private readonly write: LoggedWrite,
  ) {
    // Email/query's header condition reads a message's header fields inside SQL.
    store.defineFunction(HEADER_MATCH_FUNCTION, (data: Uint8Array, name: string, value: string | null) => {
      const wanted = name.toLowerCase();
      const needle = value?.toLowerCase();
      return messageHeaders(data).some((h) =>
          h.name.toLowerCase() === wanted &&
          (needle === undefined || asText(h.value).toLowerCase().includes(needle))
        )
        ? 1
        : 0;
    });
  }

  /** Runs an Email/query as the viewer: a sharer's results hold only emails of mailboxes it may read. */
  async query(
    viewerId: number,
    accountId: number,
    query: Omit<EmailQuery, "accountId" | "readable">,
  ): Promise<EmailQueryResult> {
    let readable: number[] | undefined;
    if (viewerId !== accountId) {
      const rights = await this.mailboxes.rightsIn(viewerId, accountId);
      readable = (await this.store.mailboxes.list(accountId)).map((m) => m.id).filter((m) =>
        (rights(m) & READ) !== 0
      );
    }
    return await this.store.emails.query({ ...query, accountId, readable });
  }

  /**
   * Imports each item; an item's failure is its own (the others go on). Returns, in order, the
   * stored email or the refusal.
   */
  async import(
    viewerId: number,
    accountId: number,
    items: readonly ImportItem[],
  ): Promise<(EmailRecord | ImportRefusal)[]> {
    const rights = await this.mailboxes.rightsIn(viewerId, accountId);
    const existing = new Set((await this.store.mailboxes.list(accountId)).map((m) => m.id));
    const prepared: (Prepared | ImportRefusal)[] = [];
    for (const item of items) {
      prepared.push(await this.prepare(viewerId, accountId, item, { rights, existing }));
    }
    const ready = prepared.filter((p): p is Prepared => !("type" in p));
    if (ready.length === 0) return prepared as ImportRefusal[];
    const limit = (await this.accounts.get(accountId))?.quotas.maxDiskQuota;
    const now = Date.now();
    // One transaction for the whole call: a batch of imports costs one commit.
    const stored = await this.write(async () => {
      const results = new Map<Prepared, EmailRecord | ImportRefusal>();
      const changes: Change[] = [];
      const recounted = new Set<number>();
      const searchable: { id: number; search: NewEmail["search"] }[] = [];
      let used = limit === undefined ? 0 : await this.store.blobs.usedBytes(accountId, now);
      for (const p of ready) {
        const existingId = await this.store.emails.idByBlob(accountId, p.blob.id);
        if (existingId !== undefined) {
          results.set(p, {
            type: "alreadyExists",
            description: "This message is already in the account",
            existingId,
          });
          continue;
        }
        if (limit !== undefined) {
          const extra = await this.store.blobs.isLinked(accountId, p.blob.hash, now) ? 0 : p.data.length;
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
        const row = newEmail(accountId, p);
        const { id, threadId, newThread } = await this.store.emails.insert(row, now);
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
        results.set(p, email);
        searchable.push({ id, search: row.search });
        changes.push(
          { type: "Email", objectId: id, kind: "created", accountId },
          { type: "Thread", objectId: threadId, kind: newThread ? "created" : "updated", accountId },
        );
        for (const m of email.mailboxIds) recounted.add(m);
      }
      for (const m of recounted) changes.push({ type: "Mailbox", objectId: m, kind: "updated", accountId });
      await this.store.emails.index(searchable);
      return { result: results, events: [], changes };
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

  /** Everything an import checks before it writes, and the parsed message. */
  private async prepare(
    viewerId: number,
    accountId: number,
    item: ImportItem,
    context: { rights: (mailboxId: number) => number; existing: Set<number> },
  ): Promise<Prepared | ImportRefusal> {
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
    const data = hash && (
      (await this.store.blobs.read({ accountId, viewerId }, hash, now)) ??
        await this.blobs.readableMessage(viewerId, accountId, hash)
    );
    if (!hash || !data) {
      return {
        type: "blobNotFound",
        description: `No blob "${item.blobId}" in this account is available to you`,
      };
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
    const blob = (await this.store.blobs.idOf(hash))!;
    const receivedAt = Math.floor((item.receivedAt ?? now) / 1000) * 1000;
    return { item, blob, data, facts: messageFacts(data), receivedAt };
  }

  /**
   * Changes an email's keywords and/or the mailboxes it is in, as the viewer sees them (RFC 8621
   * §4.6 with the rights of §2): $seen needs maySetSeen and other keywords maySetKeywords in every
   * mailbox the email is in; adding to a mailbox needs mayAddItems there, taking it out
   * mayRemoveItems. Mailboxes the viewer cannot see keep the email.
   */
  async update(
    viewerId: number,
    accountId: number,
    id: number,
    change: { keywords?: string[]; mailboxIds?: number[] },
  ): Promise<void> {
    const rights = await this.mailboxes.rightsIn(viewerId, accountId);
    const [email] = await this.get(viewerId, accountId, [id]);
    if (!email) throw new NotFoundError("Email", String(id));
    const allow = (bit: number, mailboxIds: readonly number[]) =>
      mailboxIds.every((m) => (rights(m) & bit) !== 0);
    let keywordChange: { add: string[]; remove: string[] } | undefined;
    if (change.keywords) {
      const next = new Set(change.keywords.map((k) => k.toLowerCase()));
      const add = [...next].filter((k) => !email.keywords.includes(k));
      const remove = email.keywords.filter((k) => !next.has(k));
      const touched = [...add, ...remove];
      if (touched.includes("$seen") && !allow(SEEN, email.mailboxIds)) {
        throw new ForbiddenError(
          "You may not change $seen here (maySetSeen is not granted on all its mailboxes)",
        );
      }
      if (touched.some((k) => k !== "$seen") && !allow(KEYWORDS, email.mailboxIds)) {
        throw new ForbiddenError(
          "You may not change keywords here (maySetKeywords is not granted on all its mailboxes)",
        );
      }
      if (touched.length) keywordChange = { add, remove };
    }
    let mailboxChange: { add: number[]; remove: number[] } | undefined;
    if (change.mailboxIds) {
      const existing = new Set((await this.store.mailboxes.list(accountId)).map((m) => m.id));
      const next = new Set(change.mailboxIds);
      for (const m of next) {
        if (!existing.has(m) || rights(m) === 0) {
          throw new InvalidInputError(`There is no mailbox "${m}" in this account that you can see`, [
            { property: "mailboxIds", message: "no such mailbox" },
          ]);
        }
      }
      const add = [...next].filter((m) => !email.mailboxIds.includes(m));
      const remove = email.visibleMailboxIds.filter((m) => !next.has(m));
      const hidden = email.mailboxIds.filter((m) => !email.visibleMailboxIds.includes(m));
      if (next.size === 0 && hidden.length === 0) {
        throw new InvalidInputError("An email must stay in at least one mailbox", [
          { property: "mailboxIds", message: "must not be empty" },
        ]);
      }
      if (!allow(ADD, add)) {
        throw new ForbiddenError("You may not add emails to that mailbox (mayAddItems is not granted)");
      }
      if (!allow(REMOVE, remove)) {
        throw new ForbiddenError(
          "You may not take emails out of that mailbox (mayRemoveItems is not granted)",
        );
      }
      if (add.length || remove.length) mailboxChange = { add, remove };
    }
    if (!keywordChange && !mailboxChange) return;
    await this.write(async () => {
      if (keywordChange) await this.store.emails.setKeywords(id, keywordChange);
      if (mailboxChange) await this.store.emails.setMailboxes(email, mailboxChange);
      // Unread counts move in every mailbox of the email when $seen changes; membership in those joined or left.
      const seenChanged = keywordChange && [...keywordChange.add, ...keywordChange.remove].includes("$seen");
      const recounted = new Set([
        ...(seenChanged ? email.mailboxIds : []),
        ...(mailboxChange ? [...mailboxChange.add, ...mailboxChange.remove] : []),
      ]);
      return {
        result: undefined,
        events: [],
        changes: [
          { type: "Email", objectId: id, kind: "updated", accountId },
          ...[...recounted].map((m): Change => ({
            type: "Mailbox",
            objectId: m,
            kind: "updated",
            accountId,
          })),
        ],
      };
    });
  }

  /** Destroys an email; the viewer needs mayRemoveItems on every mailbox it is in. */
  async destroy(viewerId: number, accountId: number, id: number): Promise<void> {
    const rights = await this.mailboxes.rightsIn(viewerId, accountId);
    const [email] = await this.get(viewerId, accountId, [id]);
    if (!email) throw new NotFoundError("Email", String(id));
    if (!email.mailboxIds.every((m) => (rights(m) & REMOVE) !== 0)) {
      throw new ForbiddenError(
        "You may not destroy this email (mayRemoveItems is not granted on all its mailboxes)",
      );
    }
    await this.write(async () => {
      const { threadDeleted } = await this.store.emails.delete(email);
      return {
        result: undefined,
        events: [],
        changes: [
          { type: "Email", objectId: id, kind: "destroyed", accountId },
          {
            type: "Thread",
            objectId: email.threadId,
            kind: threadDeleted ? "destroyed" : "updated",
            accountId,
          },
          ...email.mailboxIds.map((m): Change => ({
            type: "Mailbox",
            objectId: m,
            kind: "updated",
            accountId,
          })),
        ],
      };
    });
  }

  /** The emails of `ids` the viewer may read (in mailboxes it has mayReadItems on). */
  async get(viewerId: number, accountId: number, ids: readonly number[]): Promise<EmailView[]> {
    const rights = await this.mailboxes.rightsIn(viewerId, accountId);
    const out: EmailView[] = [];
    for (const email of await this.store.emails.get(accountId, ids)) {
      const visibleMailboxIds = email.mailboxIds.filter((m) => (rights(m) & READ) !== 0);
      if (visibleMailboxIds.length) out.push({ ...email, visibleMailboxIds });
    }
    return out;
  }

  /** The message of an email the viewer may read, for its body properties. */
  async message(viewerId: number, accountId: number, email: EmailView): Promise<Uint8Array<ArrayBuffer>> {
    const data = await this.blobs.readableMessage(viewerId, accountId, email.blobHash);
    if (!data) throw new Error(`The message of email ${email.id} is missing from the blob store`);
    return data;
  }

  /**
   * RFC 8621 §5 SearchSnippet: for each email the viewer may read, its subject and a body excerpt
   * with the words of `expressions` (the filter's text, subject and body conditions, as FTS5
   * expressions) in <mark>…</mark>, the rest HTML-escaped; null where nothing matched.
   */
  async snippets(
    viewerId: number,
    accountId: number,
    ids: readonly number[],
    expressions: readonly string[],
  ): Promise<Map<number, { subject: string | null; preview: string | null }>> {
    const visible = await this.get(viewerId, accountId, ids);
    const out = new Map(
      visible.map((e) => [e.id, { subject: null as string | null, preview: null as string | null }]),
    );
    const terms = searchTerms(expressions);
    if (terms.length === 0) return out;
    const matching = await this.store.emails.matching(visible.map((e) => e.id), expressions);
    for (const email of visible) {
      if (!matching.has(email.id)) continue;
      const text = indexedBodyText(emailBody(await this.message(viewerId, accountId, email)));
      out.set(email.id, { subject: highlight(email.subject, terms), preview: snippet(text, terms) });
    }
    return out;
  }

  /** Email ids of each thread, those the viewer may read, oldest first. */
  async threads(
    viewerId: number,
    accountId: number,
    threadIds: readonly number[],
  ): Promise<Map<number, number[]>> {
    const all = await this.store.emails.threads(accountId, threadIds);
    if (viewerId === accountId) return all;
    const visible = new Set(
      (await this.get(viewerId, accountId, [...all.values()].flat())).map((e) => e.id),
    );
    return new Map(
      [...all].map(([id, emails]) => [id, emails.filter((e) => visible.has(e))] as const)
        .filter(([, emails]) => emails.length > 0),
    );
  }
}

function invalid(property: string, description: string): ImportRefusal {
  return { type: "invalidProperties", description, properties: [property] };
}
