/**
 * IMAP SEARCH (RFC 9051 §6.4.4) on the store: the key tree becomes one Email/query filter (the same
 * planner and FTS5 index as JMAP's Email/query, through EmailService.query so a sharer reads only
 * what its grants let it read), its email ids become UIDs of the mailbox, and the keys a filter has
 * no condition for (message sets, MODSEQ, EMAILID, THREADID) are applied to the mailbox's list of
 * messages: a search never reads a message body. Read in order: search, the split of the top-level
 * conjunction, one key as a filter, dates.
 *
 * Where IMAP and the index differ (said once here, relied on everywhere below):
 * - TEXT, BODY and the address and subject keys match by token, not by substring: each word of the
 *   key must start a word of the field (FTS5 prefix queries, as Email/query and Dovecot's fts
 *   plugins do), so `BODY ell` does not find "hello" while IMAP's substring rule would. A key with
 *   no word at all (only punctuation, or empty) asks for no word and matches every message, as
 *   Email/query's text conditions do; for the header keys it is looked up as a substring in the
 *   header itself instead.
 * - TEXT looks in the indexed fields (subject, addresses, body text, attachment names), not in
 *   every header field; HEADER with another field name (Message-ID, List-Id…) reads that header
 *   through the header-match function, a substring match; an empty value means "has the field".
 * - Dates compare whole UTC days (RFC 9051 leaves the time zone to the server).
 */
import { NotFoundError, type Store } from "./deps.ts";
import type { EmailCondition, EmailFilter } from "../store/mod.ts";
import { searchWords } from "../model/search_words.ts";
import type { EmailService } from "./emails.ts";
import { keywordOfFlag } from "./imap_flags.ts";
import { type ImapSortCriterion, sortUids } from "./imap_sort.ts";
import { orderedSubject, references, type ThreadNode } from "./imap_thread.ts";
import type { ImapMailboxRef } from "./imap_names.ts";

/**
 * A search key as the mail service takes it: the session's key tree with its message sets already
 * resolved to email ids (sequence numbers, UIDs and `$` are the client's view, which only the
 * session knows), EMAILID and THREADID decoded (undefined when the id is not one of ours).
 */
export type ImapSearchKey =
  | { op: "all" }
  | { op: "and"; keys: ImapSearchKey[] }
  | { op: "or"; left: ImapSearchKey; right: ImapSearchKey }
  | { op: "not"; key: ImapSearchKey }
  | { op: "emails"; emailIds: readonly number[] }
  | { op: "flag"; flag: string; present: boolean }
  | { op: "recent"; which: "RECENT" | "NEW" | "OLD" }
  | { op: "header"; field: string; value: string }
  | { op: "body"; value: string }
  | { op: "text"; value: string }
  | { op: "date"; field: "internal" | "sent"; compare: "before" | "on" | "since"; date: string }
  | { op: "size"; compare: "larger" | "smaller"; size: number }
  | { op: "modseq"; modseq: number }
  | { op: "emailid"; emailId: number | undefined }
  | { op: "threadid"; threadId: number | undefined };

/** What a search found: UIDs ascending, and the highest MODSEQ among them when a MODSEQ key was used. */
export interface ImapSearchResult {
  uids: number[];
  /** RFC 7162 §3.1.5: set when the search had a MODSEQ key and found something. */
  highestModseq?: number;
}

/** Fields the index keeps in a column of its own (the rest go through the header-match function). */
const INDEXED_HEADERS = new Set(["from", "to", "cc", "bcc", "subject"]);
const DAY = 86_400_000;
const MATCH_NONE: EmailFilter = { operator: "OR", conditions: [] };
const MATCH_ALL: EmailFilter = { operator: "AND", conditions: [] };

/** Per-message facts a key needs that a filter has no condition for. */
interface Candidate {
  emailId: number;
  modseq: number;
  threadId: number;
}

/** IMAP SEARCH for the IMAP mail service. */
export class ImapSearch {
  constructor(
    private readonly store: Store,
    private readonly emails: EmailService,
    /** The IMAP service's access check (throws NotFoundError / ForbiddenError). */
    private readonly access: (
      viewerId: number,
      ref: ImapMailboxRef,
      right: "mayReadItems",
    ) => Promise<unknown>,
  ) {}

  /**
   * The UIDs of the messages of the mailbox that match `key`, ascending, among those `known` keeps
   * (the session's view: a message that arrived since its last EXISTS is not in it yet). Needs
   * mayReadItems.
   */
  async search(
    viewerId: number,
    ref: ImapMailboxRef,
    key: ImapSearchKey,
    known: (uid: number) => boolean = () => true,
  ): Promise<ImapSearchResult> {
    await this.access(viewerId, ref, "mayReadItems");
    const candidates = needsCandidates(key) ? await this.#candidates(ref.mailboxId) : undefined;
    const { filter, local } = split(key, candidates);
    local.sort((a, b) => a.size - b.size);
    const ids = filter === MATCH_ALL && local.length
      // Only message sets: the mailbox's messages among them, without a query.
      ? [...local[0]].filter((id) => local.every((allowed) => allowed.has(id)))
      : await this.#query(viewerId, ref, key, narrowed(filter, local[0]), local);
    const uidOf = await this.store.imap.uidsOf(ref.mailboxId, ids);
    const uids = [...uidOf.values()].filter(known).sort((a, b) => a - b);
    if (!usesModseq(key) || !candidates) return { uids };
    let highest = 0;
    for (const [id, uid] of uidOf) {
      if (known(uid)) highest = Math.max(highest, candidates.get(id)?.modseq ?? 0);
    }
    return highest > 0 ? { uids, highestModseq: highest } : { uids };
  }

  /** The email ids of the mailbox that match `filter` and are in every `local` set. */
  async #query(
    viewerId: number,
    ref: ImapMailboxRef,
    key: ImapSearchKey,
    filter: EmailFilter,
    local: Set<number>[],
  ): Promise<number[]> {
    const found = await this.emails.query(viewerId, ref.accountId, {
      filter: inMailbox(ref.mailboxId, filter),
      // The order does not matter (UIDs are sorted below), but it picks the plan: by received date
      // the planner walks the mailbox's own index, which suits flag, date and set keys; by email id
      // a text key's index lookup drives, which a rare word makes far cheaper than the walk.
      sort: someKey(key, usesIndex) ? [] : [{ property: "receivedAt", isAscending: true }],
      collapseThreads: false,
      position: 0,
      calculateTotal: false,
    });
    return found.ids.filter((id) => local.every((allowed) => allowed.has(id)));
  }

  /** SORT (RFC 5256 §3): the UIDs that match `key`, in the order of `criteria`. Needs mayReadItems. */
  async sort(
    viewerId: number,
    ref: ImapMailboxRef,
    key: ImapSearchKey,
    criteria: readonly ImapSortCriterion[],
    known?: (uid: number) => boolean,
  ): Promise<number[]> {
    const { uids } = await this.search(viewerId, ref, key, known);
    return sortUids(await this.store.imap.sortRows(ref.mailboxId, uids), criteria);
  }

  /** THREAD (RFC 5256 §4): the messages that match `key` as thread trees of UIDs. Needs mayReadItems. */
  async thread(
    viewerId: number,
    ref: ImapMailboxRef,
    key: ImapSearchKey,
    algorithm: "REFERENCES" | "ORDEREDSUBJECT",
    known?: (uid: number) => boolean,
  ): Promise<ThreadNode[]> {
    const { uids } = await this.search(viewerId, ref, key, known);
    const rows = await this.store.imap.sortRows(ref.mailboxId, uids);
    return algorithm === "REFERENCES" ? references(rows) : orderedSubject(rows);
  }

  /** The messages of a mailbox with their MODSEQ and thread, by email id (only for MODSEQ/THREADID keys). */
  async #candidates(mailboxId: number): Promise<Map<number, Candidate>> {
    const rows = await this.store.imap.facts(mailboxId, [[1, 0xffffffff]]);
    if (rows.length === 0 && !(await this.store.imap.states([mailboxId])).has(mailboxId)) {
      throw new NotFoundError("Mailbox", String(mailboxId));
    }
    return new Map(
      rows.map((r) => [r.emailId, { emailId: r.emailId, modseq: r.modseq, threadId: r.threadId }]),
    );
  }
}

/** A small message set (`UID 5:20 TEXT …`) bounds the query itself; a large one is checked after it. */
const NARROWING_SET = 1000;

function narrowed(filter: EmailFilter, smallest: Set<number> | undefined): EmailFilter {
  if (!smallest || smallest.size > NARROWING_SET) return filter;
  const ids = { emailIds: [...smallest] };
  if ("condition" in filter && !filter.condition.emailIds) {
    return { condition: { ...filter.condition, ...ids } };
  }
  return { operator: "AND", conditions: [{ condition: ids }, filter] };
}

/**
 * `filter` within the mailbox: one condition when it is one (the planner then starts from the
 * mailbox's index), else the mailbox condition AND the filter.
 */
function inMailbox(mailboxId: number, filter: EmailFilter): EmailFilter {
  // The mailbox first: its test comes first in the SQL, before any header match reads a message.
  if ("condition" in filter) return { condition: { inMailbox: mailboxId, ...filter.condition } };
  if (filter.operator === "AND" && filter.conditions.length === 0) {
    return { condition: { inMailbox: mailboxId } };
  }
  return { operator: "AND", conditions: [{ condition: { inMailbox: mailboxId } }, filter] };
}

/** Whether a key is looked up in the full-text index (a header match by the function is not). */
function usesIndex(key: ImapSearchKey): boolean {
  if (key.op === "text" || key.op === "body") return true;
  return key.op === "header" && key.value !== "" && INDEXED_HEADERS.has(key.field.toLowerCase());
}

function needsCandidates(key: ImapSearchKey): boolean {
  return someKey(key, (k) => k.op === "modseq" || k.op === "threadid");
}

function usesModseq(key: ImapSearchKey): boolean {
  return someKey(key, (k) => k.op === "modseq");
}

function someKey(key: ImapSearchKey, test: (key: ImapSearchKey) => boolean): boolean {
  if (test(key)) return true;
  switch (key.op) {
    case "and":
      return key.keys.some((k) => someKey(k, test));
    case "or":
      return someKey(key.left, test) || someKey(key.right, test);
    case "not":
      return someKey(key.key, test);
    default:
      return false;
  }
}

/**
 * The filter of a key, and the email-id sets of the top-level conjunction's message-set keys: those
 * are checked on the query's result (a `UID 1:*` of 100,000 messages never becomes a 100,000-id
 * condition); a set under OR or NOT becomes an id condition.
 */
function split(
  key: ImapSearchKey,
  candidates: Map<number, Candidate> | undefined,
): { filter: EmailFilter; local: Set<number>[] } {
  const conjuncts: ImapSearchKey[] = [];
  const flatten = (k: ImapSearchKey) => k.op === "and" ? k.keys.forEach(flatten) : conjuncts.push(k);
  flatten(key);
  const local: Set<number>[] = [];
  const rest: EmailFilter[] = [];
  for (const conjunct of conjuncts) {
    const ids = localIds(conjunct, candidates);
    if (ids) local.push(new Set(ids));
    else rest.push(filterOf(conjunct, candidates));
  }
  const filter = rest.length === 0
    ? MATCH_ALL
    : rest.length === 1
    ? rest[0]
    : { operator: "AND" as const, conditions: rest };
  return { filter, local };
}

/** The email ids a key names when no filter condition can say it, or undefined for a filter key. */
function localIds(
  key: ImapSearchKey,
  candidates: Map<number, Candidate> | undefined,
): readonly number[] | undefined {
  switch (key.op) {
    case "emails":
      return key.emailIds;
    case "emailid":
      return key.emailId === undefined ? [] : [key.emailId];
    case "modseq":
      return [...candidates!.values()].filter((c) => c.modseq >= key.modseq).map((c) => c.emailId);
    case "threadid":
      return [...candidates!.values()].filter((c) => c.threadId === key.threadId).map((c) => c.emailId);
    default:
      return undefined;
  }
}

/** One key as a filter (RFC 9051 §6.4.4 key by key). */
function filterOf(key: ImapSearchKey, candidates: Map<number, Candidate> | undefined): EmailFilter {
  const ids = localIds(key, candidates);
  if (ids) return ids.length ? { condition: { emailIds: ids } } : MATCH_NONE;
  const condition = (c: EmailCondition): EmailFilter => ({ condition: c });
  switch (key.op) {
    case "all":
      return MATCH_ALL;
    case "and":
      return { operator: "AND", conditions: key.keys.map((k) => filterOf(k, candidates)) };
    case "or":
      return {
        operator: "OR",
        conditions: [filterOf(key.left, candidates), filterOf(key.right, candidates)],
      };
    case "not":
      return { operator: "NOT", conditions: [filterOf(key.key, candidates)] };
    case "flag": {
      let keyword: string;
      try {
        keyword = keywordOfFlag(key.flag);
      } catch {
        // \Recent or a keyword that cannot be stored: no message has it.
        return key.present ? MATCH_NONE : MATCH_ALL;
      }
      return condition(key.present ? { hasKeyword: keyword } : { notKeyword: keyword });
    }
    case "recent":
      // RFC 9051 §2.3.2: no message is ever \Recent in Postern, so RECENT and NEW match none.
      return key.which === "OLD" ? MATCH_ALL : MATCH_NONE;
    case "header":
      return headerFilter(key.field.toLowerCase(), key.value);
    case "body":
    case "text": {
      const words = searchWords(key.value);
      return words.length ? condition({ [key.op]: words }) : MATCH_ALL;
    }
    case "size":
      return condition(key.compare === "larger" ? { minSize: key.size + 1 } : { maxSize: key.size });
    case "date":
      return dateFilter(key);
    default:
      throw new Error(`Search key ${key.op} has no filter`);
  }
}

/** FROM/TO/CC/BCC/SUBJECT by the index's words; any other field (and word-less text) by the header. */
function headerFilter(field: string, value: string): EmailFilter {
  if (value === "") return { condition: { header: [field] } };
  const words = INDEXED_HEADERS.has(field) ? searchWords(value) : [];
  if (words.length) return { condition: { [field]: words } };
  return { condition: { header: [field, value] } };
}

/** BEFORE/ON/SINCE on the received date, SENT… on the sent date, by whole UTC days. */
function dateFilter(key: ImapSearchKey & { op: "date" }): EmailFilter {
  const start = Date.parse(`${key.date}T00:00:00Z`);
  const [before, after] = key.field === "internal"
    ? ["before", "after"] as const
    : ["sentBefore", "sentAfter"] as const;
  if (key.compare === "before") return { condition: { [before]: start } };
  if (key.compare === "since") return { condition: { [after]: start } };
  return { condition: { [after]: start, [before]: start + DAY } };
}
