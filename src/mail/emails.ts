/**
 * Emails (RFC 8621 §4) as a viewer may see and change them (the owner everything; a sharer the emails
 * of the mailboxes it may read, with only those mailboxes in `mailboxIds`): reads, queries, search
 * snippets, filing and flagging, destroying; importing is email_import.ts. Every write logs the
 * Email, Thread and Mailbox changes it makes in its transaction; the mailbox counts follow from the
 * database's own triggers.
 */
import type { AccountService } from "../directory/mod.ts";
import {
  type Change,
  ForbiddenError,
  InvalidInputError,
  type LoggedWrite,
  NotFoundError,
  rightBit,
  type Store,
} from "./deps.ts";
import {
  type EmailQuery,
  type EmailQueryResult,
  type EmailRecord,
  HEADER_MATCH_FUNCTION,
} from "../store/mod.ts";
import type { BlobService } from "./blobs.ts";
import type { MailboxService } from "./mailboxes.ts";
import { type DuplicateImport, EmailImporter, type ImportItem, type ImportRefusal } from "./email_import.ts";
import { asText, messageHeaders } from "./mime/mod.ts";
import { parseMessage } from "./parse_pool.ts";
import type { FactsPool } from "./facts_pool.ts";
import { highlight, searchTerms, snippet } from "./snippets.ts";

export { EMAIL_LIMITS } from "./email_import.ts";

/**
 * SearchSnippet/get reads the messages it marks: at most this many bytes of them per call (a call
 * names up to 500 emails of up to 50 MB each), so one call costs a bounded amount of parsing.
 */
export const SNIPPET_LIMITS = { maxParsedBytes: 16 * 1024 * 1024 } as const;
export type { ImportItem, ImportRefusal, StructureDraft } from "./email_import.ts";

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

/** Whether `keyword` is a valid keyword (before lower-casing). */
export function isKeyword(keyword: string): boolean {
  return KEYWORD.test(keyword);
}

/** Email reads and writes for a viewer. */
export class EmailService {
  readonly #importer: EmailImporter;

  constructor(
    private readonly store: Store,
    accounts: AccountService,
    private readonly mailboxes: MailboxService,
    private readonly blobs: BlobService,
    /** Logs events and changes in the write's transaction and applies the events afterwards. */
    private readonly write: LoggedWrite,
    /** Parses imports' messages in a worker thread; without it, on this one. */
    facts?: FactsPool,
  ) {
    this.#importer = new EmailImporter(store, accounts, mailboxes, blobs, write, facts);
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

  /** Imports each item (see EmailImporter.import). */
  import(
    viewerId: number,
    accountId: number,
    items: readonly ImportItem[],
    options: { duplicates?: DuplicateImport } = {},
  ): Promise<(EmailRecord | ImportRefusal)[]> {
    return this.#importer.import(viewerId, accountId, items, options);
  }

  /** Email/set create (see EmailImporter.create). */
  create(
    viewerId: number,
    accountId: number,
    draft: Parameters<EmailImporter["create"]>[2],
  ): Promise<EmailRecord> {
    return this.#importer.create(viewerId, accountId, draft);
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
          // Only the mailboxes' counts move (RFC 8621 §2.2 updatedProperties).
          ...[...recounted].map((m): Change => ({
            type: "Mailbox",
            objectId: m,
            kind: "updated",
            accountId,
            countsOnly: true,
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
            countsOnly: true,
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
   * with the search words of `conditions` (the filter's text, subject and body conditions, each a
   * list of words) in <mark>…</mark>, the rest HTML-escaped; null where nothing matched. One call
   * reads the first matching message and then others while they fit in SNIPPET_LIMITS.maxParsedBytes:
   * past that budget a matching email's preview is null, as RFC 8621 §5 allows when the server cannot
   * produce a snippet ("preview: String|null").
   */
  async snippets(
    viewerId: number,
    accountId: number,
    ids: readonly number[],
    conditions: readonly (readonly string[])[],
  ): Promise<Map<number, { subject: string | null; preview: string | null }>> {
    const visible = await this.get(viewerId, accountId, ids);
    const out = new Map(
      visible.map((e) => [e.id, { subject: null as string | null, preview: null as string | null }]),
    );
    const terms = searchTerms(conditions.flat());
    if (terms.length === 0) return out;
    const matching = await this.store.emails.matching(visible.map((e) => e.id), conditions);
    let parsed = 0;
    for (const email of visible) {
      if (!matching.has(email.id)) continue;
      let preview: string | null = null;
      if (parsed === 0 || parsed + email.size <= SNIPPET_LIMITS.maxParsedBytes) {
        parsed += email.size;
        const message = await this.message(viewerId, accountId, email);
        // The text the index holds, made with the parse (off the main thread for a large message).
        preview = snippet((await parseMessage(message)).facts.search.body, terms);
      }
      out.set(email.id, { subject: highlight(email.subject, terms), preview });
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
