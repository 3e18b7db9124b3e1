/**
 * The window of a full-text Email/query sorted by receivedAt, read from the index in rowid order and
 * stopped at the window, instead of collecting every match and sorting them all.
 *
 * Email ids grow with arrival, so rowid order (the full-text index's own order, which it streams) is
 * nearly receivedAt order, but not always (Email/import takes any receivedAt). The walk is exact all
 * the same:
 *
 * 1. Stream the matches that pass the other conditions in rowid order (descending for newest first)
 *    until `position + limit` are found, `c` the last rowid read. Every match with a rowid past `c`
 *    on the near side is then known.
 * 2. The window's boundary `R` is the last of those matches in (receivedAt, id) order. A match beyond
 *    `c` that belongs in the window must sort before `R`, so its receivedAt is at least `R`'s (at
 *    most, ascending): the receivedAt index lists those few emails (usually none out of order), each
 *    checked against the index by its rowid.
 * 3. Both lists, merged and sorted, give the window.
 *
 * It serves a filter that is one condition or an AND of conditions, with at least one full-text
 * property, sorted by receivedAt alone, without thread collapsing or a total; anything else takes the
 * general query.
 */
import type { Db } from "./db.ts";
import type { EmailCondition, EmailFilter, EmailQuery, EmailQueryResult } from "./email_query_types.ts";

/** The furthest window end this path serves; deeper windows take the general query. */
const MAX_WINDOW_END = 1_000;
/** The most conditions it joins into one full-text expression (a long chain nests too deep for FTS5). */
const MAX_CONDITIONS = 16;

/** The full-text properties of a condition; `text` reads every column, so it names none. */
const COLUMN_SETS: Record<string, string | undefined> = {
  text: undefined,
  from: "from_text",
  to: "to_text",
  cc: "cc_text",
  bcc: "bcc_text",
  subject: "subject",
  body: "body",
};

/** The pieces a condition's SQL is made of, from email_query.ts. */
export interface ConditionSql {
  /** SQL and parameters of the condition's other properties (already AND-ed). */
  other(condition: EmailCondition, params: unknown[]): string;
  /** An FTS5 expression that every word starts a token. */
  allWords(words: readonly string[]): string;
}

/** The window, or undefined when the query is not one this path serves. */
export function textWindow(db: Db, query: EmailQuery, sql: ConditionSql): EmailQueryResult | undefined {
  if (
    query.collapseThreads || query.calculateTotal || query.limit === undefined || query.position < 0 ||
    query.sort.length !== 1 || query.sort[0].property !== "receivedAt"
  ) return undefined;
  const end = Math.floor(query.position) + Math.floor(query.limit);
  if (end > MAX_WINDOW_END) return undefined;
  const conditions = andedConditions(query.filter);
  if (!conditions || conditions.length > MAX_CONDITIONS) return undefined;
  const match: string[] = [];
  const params: unknown[] = [query.accountId];
  const where = ["e.account_id = ?"];
  if (query.readable) {
    where.push(
      "EXISTS (SELECT 1 FROM email_mailboxes v WHERE v.email_id = e.id AND v.mailbox_id IN (SELECT value FROM json_each(?)))",
    );
    params.push(JSON.stringify(query.readable));
  }
  for (const condition of conditions) {
    const rest: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(condition)) {
      if (key in COLUMN_SETS) {
        const words = sql.allWords(value as string[]);
        const columns = COLUMN_SETS[key];
        match.push(columns ? `(${columns} : (${words}))` : `(${words})`);
      } else rest[key] = value;
    }
    where.push(`(${sql.other(rest as EmailCondition, params)})`);
  }
  if (match.length === 0) return undefined;
  const expression = match.join(" AND ");
  const ascending = query.sort[0].isAscending;
  const direction = ascending ? "ASC" : "DESC";
  type Hit = { id: number; at: number };
  // 1. Matches in rowid order until the window is full.
  const streamed = db.all<Hit>(
    `SELECT e.id AS id, e.received_at AS at FROM email_search s JOIN emails e ON e.id = s.rowid
     WHERE email_search MATCH ? AND ${where.join(" AND ")} ORDER BY s.rowid ${direction} LIMIT ${end}`,
    expression,
    ...params as never[],
  );
  const before = (a: Hit, b: Hit) => ascending ? (a.at - b.at || a.id - b.id) : (b.at - a.at || b.id - a.id);
  let hits = streamed.map((r) => ({ id: Number(r.id), at: Number(r.at) }));
  if (hits.length === end) {
    // 2. Matches past the last rowid read that sort inside the window's boundary.
    const last = hits.at(-1)!.id;
    const boundary = [...hits].sort(before).at(-1)!;
    // Strictly: a tie on receivedAt sorts by id, and every id past `last` is below the boundary's.
    const late = db.all<Hit>(
      `SELECT e.id AS id, e.received_at AS at FROM emails e
       WHERE e.account_id = ? AND e.received_at ${ascending ? "<" : ">"} ? AND e.id ${ascending ? ">" : "<"} ?
       AND ${where.join(" AND ")}`,
      query.accountId,
      boundary.at,
      last,
      ...params as never[],
    );
    const matching = late.length === 0 ? new Set<number>() : new Set(
      db.all<{ id: number }>(
        "SELECT rowid AS id FROM email_search WHERE email_search MATCH ? AND rowid IN (SELECT value FROM json_each(?))",
        expression,
        JSON.stringify(late.map((r) => Number(r.id))),
      ).map((r) => Number(r.id)),
    );
    hits = hits.concat(
      late.filter((r) => matching.has(Number(r.id))).map((r) => ({ id: Number(r.id), at: Number(r.at) })),
    );
  }
  // 3. The window of both, in the query's order.
  hits.sort(before);
  return { ids: hits.slice(query.position, end).map((h) => h.id), position: query.position };
}

/** The conditions of a filter that is one condition or an AND of conditions; else undefined. */
function andedConditions(filter: EmailFilter | null): EmailCondition[] | undefined {
  if (!filter) return undefined;
  if ("condition" in filter) return [filter.condition];
  if (filter.operator !== "AND") return undefined;
  const all: EmailCondition[] = [];
  for (const inner of filter.conditions) {
    const conditions = andedConditions(inner);
    if (!conditions || conditions.length > MAX_CONDITIONS) return undefined;
    all.push(...conditions);
  }
  return all;
}
