/**
 * Email/query in SQL (RFC 8621 §4.4): a filter tree of checked conditions, sort criteria, thread
 * collapsing and the result window become one statement over the email tables, driven from the
 * mailbox index when the query lists one mailbox by date (what a mail client asks most).
 */
import type { Db } from "./db.ts";
import type {
  EmailCondition,
  EmailFilter,
  EmailQuery,
  EmailQueryResult,
  EmailSort,
} from "./email_query_types.ts";
import { textWindow } from "./email_text_window.ts";
import { wordsExpression } from "./search_terms.ts";

export type {
  EmailCondition,
  EmailFilter,
  EmailQuery,
  EmailQueryResult,
  EmailSort,
} from "./email_query_types.ts";

/** The name of the SQL function that tells whether a message has a header (with a value). */
export const HEADER_MATCH_FUNCTION = "postern_header_matches";

const SORT_COLUMNS: Record<string, string> = {
  receivedAt: "e.received_at",
  sentAt: "e.sent_ms",
  size: "e.size",
  from: "e.from_sort",
  to: "e.to_sort",
  subject: "e.base_subject",
};

// `text` reads every column, so it names none: a column filter costs a check of every row it reads.
const FTS_COLUMNS: Record<string, string> = {
  text: "",
  from: "from_text",
  to: "to_text",
  cc: "cc_text",
  bcc: "bcc_text",
  subject: "subject",
  body: "body",
};

/** Whether a filter has a condition that reads the full-text index. */
export function usesFullText(filter: EmailFilter): boolean {
  return "condition" in filter
    ? Object.keys(filter.condition).some((key) => key in FTS_COLUMNS)
    : filter.conditions.some(usesFullText);
}

/**
 * An FTS5 expression that every word starts a token of the row: each word an FTS5 string (quoted,
 * `"` doubled, so no text of the user is ever syntax) with a prefix `*`, joined by AND. A word is one
 * token of the index, so a string is never a phrase, which `detail=column` refuses.
 */
export function allWords(words: readonly string[]): string {
  return words.map((word) => `"${word.replaceAll('"', '""')}"*`).join(" AND ");
}

const keywordExists = (email: string) =>
  `EXISTS (SELECT 1 FROM email_keywords k WHERE k.email_id = ${email} AND k.keyword = ?)`;
const threadKeyword = (negated: boolean) =>
  `EXISTS (SELECT 1 FROM emails t WHERE t.thread_id = e.thread_id AND ${negated ? "NOT " : ""}${
    keywordExists("t.id")
  })`;

/** How the words of a full-text property become an FTS5 expression (see src/store/search_terms.ts). */
type WordsMatch = (words: readonly string[]) => string;

/** SQL and parameters of one condition (its properties AND-ed). */
function conditionSql(
  condition: EmailCondition,
  params: unknown[],
  { match = allWords }: { match?: WordsMatch } = {},
): string {
  const parts: string[] = [];
  const add = (sql: string, ...values: unknown[]) => {
    parts.push(sql);
    params.push(...values);
  };
  for (const [key, value] of Object.entries(condition)) {
    switch (key) {
      case "inMailbox":
        add("EXISTS (SELECT 1 FROM email_mailboxes m WHERE m.email_id = e.id AND m.mailbox_id = ?)", value);
        break;
      case "inMailboxOtherThan":
        add(
          "EXISTS (SELECT 1 FROM email_mailboxes m WHERE m.email_id = e.id AND m.mailbox_id NOT IN (SELECT value FROM json_each(?)))",
          JSON.stringify(value),
        );
        break;
      case "before":
        add("e.received_at < ?", value);
        break;
      case "after":
        add("e.received_at >= ?", value);
        break;
      case "sentBefore":
        add("e.sent_ms < ?", value);
        break;
      case "sentAfter":
        add("e.sent_ms >= ?", value);
        break;
      case "emailIds":
        add("e.id IN (SELECT value FROM json_each(?))", JSON.stringify(value));
        break;
      case "minSize":
        add("e.size >= ?", value);
        break;
      case "maxSize":
        add("e.size < ?", value);
        break;
      case "hasKeyword":
        add(keywordExists("e.id"), value);
        break;
      case "notKeyword":
        add(`NOT ${keywordExists("e.id")}`, value);
        break;
      case "allInThreadHaveKeyword":
        add(`NOT ${threadKeyword(true)}`, value);
        break;
      case "someInThreadHaveKeyword":
        add(threadKeyword(false), value);
        break;
      case "noneInThreadHaveKeyword":
        add(`NOT ${threadKeyword(false)}`, value);
        break;
      case "hasAttachment":
        add("e.has_attachment = ?", value ? 1 : 0);
        break;
      case "header": {
        const [name, text] = value as [string, string?];
        add(
          `${HEADER_MATCH_FUNCTION}((SELECT data FROM blobs WHERE id = e.blob_id), ?, ?)`,
          name,
          text ?? null,
        );
        break;
      }
      default:
        if (key in FTS_COLUMNS) {
          add(
            "e.id IN (SELECT rowid FROM email_search WHERE email_search MATCH ?)",
            FTS_COLUMNS[key]
              ? `${FTS_COLUMNS[key]} : (${match(value as string[])})`
              : `(${match(value as string[])})`,
          );
        }
    }
  }
  return parts.length ? parts.join(" AND ") : "1";
}

function filterSql(filter: EmailFilter, params: unknown[], match: { match: WordsMatch }): string {
  if ("condition" in filter) return `(${conditionSql(filter.condition, params, match)})`;
  const parts = filter.conditions.map((c) => filterSql(c, params, match));
  if (filter.operator === "NOT") return parts.length ? `NOT ${balanced(parts, "OR")}` : "1";
  if (parts.length === 0) return filter.operator === "AND" ? "1" : "0";
  return balanced(parts, filter.operator);
}

/**
 * Parts joined by AND or OR as a balanced tree: SQLite parses `a OR b OR c …` as a chain as deep as
 * it is long, and 1,000 conditions under one operator passed its expression depth limit (1,000).
 */
function balanced(parts: string[], operator: "AND" | "OR", from = 0, to = parts.length): string {
  if (to - from === 1) return parts[from];
  if (to - from === 2) return `(${parts[from]} ${operator} ${parts[from + 1]})`;
  const middle = (from + to) >> 1;
  return `(${balanced(parts, operator, from, middle)} ${operator} ${balanced(parts, operator, middle, to)})`;
}

/** The sort key expressions and their directions; the email id breaks ties in the last direction. */
function sortKeys(sort: EmailSort[], params: unknown[]): { expr: string; desc: boolean }[] {
  const keys = sort.map((s) => {
    let expr = SORT_COLUMNS[s.property];
    if (!expr) {
      params.push(s.keyword);
      expr = s.property === "hasKeyword"
        ? keywordExists("e.id")
        : s.property === "someInThreadHaveKeyword"
        ? threadKeyword(false)
        : `NOT ${threadKeyword(true)}`;
    }
    return { expr, desc: !s.isAscending };
  });
  const last = keys.at(-1);
  return [...keys, { expr: "e.id", desc: last ? last.desc : false }];
}

/** Runs an Email query. */
export function runEmailQuery(db: Db, query: EmailQuery): EmailQueryResult {
  const listed = listedMailbox(query);
  if (listed !== undefined) return mailboxWindow(db, query, listed);
  // Words as the tokens they stand for, read from the index's vocabulary in this query's snapshot.
  const match: WordsMatch = (words) => wordsExpression(db, words);
  const text = textWindow(db, query, { other: conditionSql, allWords: match });
  if (text) return text;
  const params: unknown[] = [];
  const where: string[] = ["e.account_id = ?"];
  params.push(query.accountId);
  if (query.readable) {
    where.push(
      "EXISTS (SELECT 1 FROM email_mailboxes v WHERE v.email_id = e.id AND v.mailbox_id IN (SELECT value FROM json_each(?)))",
    );
    params.push(JSON.stringify(query.readable));
  }
  // A listing of one mailbox by date reads the mailbox's own date index instead of every email.
  const fast = fastMailbox(query);
  let from = "emails e";
  if (fast !== undefined) {
    from = "email_mailboxes fm JOIN emails e ON e.id = fm.email_id";
    where.push("fm.mailbox_id = ?");
    params.push(fast);
  }
  if (query.filter) where.push(filterSql(query.filter, params, { match }));
  const sortParams: unknown[] = [];
  const keys = fast !== undefined
    ? [{ expr: "fm.received_at", desc: !query.sort[0].isAscending }, {
      expr: "fm.email_id",
      desc: !query.sort[0].isAscending,
    }]
    : sortKeys(query.sort, sortParams);
  const order = keys.map((k) => `${k.expr} ${k.desc ? "DESC" : "ASC"}`).join(", ");
  const base = `FROM ${from} WHERE ${where.join(" AND ")}`;
  let listSql: string;
  let listParams: unknown[];
  if (query.collapseThreads) {
    // The first email of each thread in the query's own order.
    listSql = `SELECT id FROM (SELECT e.id AS id, ROW_NUMBER() OVER (ORDER BY ${order}) AS pos,
                 ROW_NUMBER() OVER (PARTITION BY e.thread_id ORDER BY ${order}) AS rank ${base})
               WHERE rank = 1 ORDER BY pos`;
    listParams = [...sortParams, ...sortParams, ...params];
  } else {
    listSql = `SELECT e.id AS id ${base} ORDER BY ${order}`;
    listParams = [...params, ...sortParams];
  }
  let total: number | undefined;
  if (query.calculateTotal || query.position < 0) {
    const countSql = query.collapseThreads
      ? `SELECT count(DISTINCT e.thread_id) AS n ${base}`
      : `SELECT count(*) AS n ${base}`;
    total = Number(db.get<{ n: number }>(countSql, ...params as never[])?.n ?? 0);
  }
  let position = query.position;
  if (position < 0) position = Math.max(0, total! + position);
  const window = query.limit === undefined
    ? ""
    : ` LIMIT ${Math.floor(query.limit)} OFFSET ${Math.floor(position)}`;
  const rows = db.all<{ id: number }>(
    query.limit === undefined ? listSql : `${listSql}${window}`,
    ...listParams as never[],
  );
  const ids = rows.map((r) => Number(r.id));
  return { ids: query.limit === undefined ? ids.slice(position) : ids, position, total };
}

/**
 * The mailbox of a query that is only a mailbox listed by date (a mail client's list view): its
 * window comes from the mailbox's date index and its total from the mailbox's counts, so a page deep
 * in a large mailbox costs about what the first page does, and a threaded view reads only as far as
 * its window's last thread.
 */
export function listedMailbox(query: EmailQuery): number | undefined {
  const mailbox = fastMailbox(query);
  const condition = query.filter && "condition" in query.filter ? query.filter.condition : undefined;
  return mailbox !== undefined && Object.keys(condition ?? {}).length === 1 ? mailbox : undefined;
}

function mailboxWindow(db: Db, query: EmailQuery, mailboxId: number): EmailQueryResult {
  // Another account's mailbox, or one the viewer may not read, lists nothing, as the general query would.
  const visible = (query.readable === undefined || query.readable.includes(mailboxId)) &&
    db.get("SELECT 1 FROM mailboxes WHERE id = ? AND account_id = ?", mailboxId, query.accountId) !==
      undefined;
  let total: number | undefined;
  if (query.calculateTotal || query.position < 0) {
    const counts = visible
      ? db.get<{ emails: number; threads: number }>(
        "SELECT total_emails AS emails, total_threads AS threads FROM mailbox_counts WHERE mailbox_id = ?",
        mailboxId,
      )
      : undefined;
    total = Number((query.collapseThreads ? counts?.threads : counts?.emails) ?? 0);
  }
  const position = query.position < 0 ? Math.max(0, total! + query.position) : query.position;
  if (!visible) return { ids: [], position, total };
  const direction = query.sort[0].isAscending ? "ASC" : "DESC";
  if (query.collapseThreads) {
    // The first email of each thread, walking the mailbox by date until the window is full.
    const end = query.limit === undefined ? Infinity : position + Math.floor(query.limit);
    const seen = new Set<number>();
    const ids: number[] = [];
    for (
      const row of db.iterate<{ id: number; thread: number }>(
        `SELECT fm.email_id AS id, e.thread_id AS thread FROM email_mailboxes fm JOIN emails e ON e.id = fm.email_id
         WHERE fm.mailbox_id = ? ORDER BY fm.received_at ${direction}, fm.email_id ${direction}`,
        mailboxId,
      )
    ) {
      if (seen.size >= end) break;
      if (seen.has(row.thread)) continue;
      seen.add(row.thread);
      if (seen.size > position) ids.push(Number(row.id));
    }
    return { ids, position, total };
  }
  const window = query.limit === undefined
    ? ""
    : ` LIMIT ${Math.floor(query.limit)} OFFSET ${Math.floor(position)}`;
  const rows = db.all<{ id: number }>(
    `SELECT email_id AS id FROM email_mailboxes WHERE mailbox_id = ?
     ORDER BY received_at ${direction}, email_id ${direction}${window}`,
    mailboxId,
  );
  const ids = rows.map((r) => Number(r.id));
  return { ids: query.limit === undefined ? ids.slice(position) : ids, position, total };
}

/** The mailbox of a query that lists exactly one mailbox (plus other conditions) by receivedAt. */
function fastMailbox(query: EmailQuery): number | undefined {
  if (query.sort.length === 0 || query.sort[0].property !== "receivedAt" || query.sort.length > 1) {
    return undefined;
  }
  const filter = query.filter;
  if (!filter || !("condition" in filter)) return undefined;
  return filter.condition.inMailbox;
}
