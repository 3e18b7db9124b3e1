/**
 * Do Postern and Cyrus answer the full-text mix alike? For a few queries of each kind, both servers'
 * number of matches (`calculateTotal`) and, where the matches are few enough to list, whether they are
 * the same messages (by Message-ID, the only identity the two copies share). The comparison of speed
 * (scripts/bench/text_cyrus.ts) prints this first, so a figure never compares different work.
 *
 * The tokenisers differ in one place the mix touches: Cyrus (Xapian's query parser) matches a word
 * prefix only with a trailing `*`, while Postern matches the last word of a text condition as a prefix
 * as it stands (every word of a condition is a prefix on Postern); the Cyrus mix therefore sends `kal*`
 * where Postern's sends `kal` ({@link cyrusMixFilter}). Checked against the generator's text: Cyrus's
 * exact words count exactly the messages holding them (e.g. "quamimi1 we": 9,902), Postern's prefixes
 * a few more ("we" also matches "were": 9,920); Cyrus's "to" matches all 2,000 Archive messages where
 * 1,992 hold the word (it indexes the header lines, their names too, it seems).
 */
import { KINDS, mixFilter, PREFIX_KIND } from "./text_search.ts";

/** A JMAP endpoint as the comparison sees it. */
export interface JmapTarget {
  name: string;
  /** The API URL (POST). */
  apiUrl: string;
  auth: string;
  accountId: string;
  inbox: string;
  archive: string;
}

const USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"];
/** Listing every match to compare Message-IDs stops at this many. */
const LIST_LIMIT = 500;

/**
 * Request `i`'s filter for Cyrus: Postern's, with the prefix kind spelt as Xapian's wildcard. With
 * `everyWord`, every word of every text, from and subject condition gets the `*`: the same meaning as
 * Postern's (src/store/email_query.ts, `allWords`: each word a prefix), and more work for Xapian; the
 * default gives Cyrus the cheaper exact words wherever the mix does not ask for a prefix.
 */
export function cyrusMixFilter(
  i: number,
  inbox: string,
  archive: string,
  options: { everyWord?: boolean } = {},
): Record<string, unknown> {
  const filter = mixFilter(i, inbox, archive);
  if (options.everyWord) return prefixed(filter);
  return i % KINDS.length === PREFIX_KIND ? { text: `${filter.text}*` } : filter;
}

function prefixed(filter: Record<string, unknown>): Record<string, unknown> {
  if ("operator" in filter) {
    return { ...filter, conditions: (filter.conditions as Record<string, unknown>[]).map(prefixed) };
  }
  return Object.fromEntries(
    Object.entries(filter).map(([key, value]) =>
      key === "inMailbox" ? [key, value] : [key, String(value).split(" ").map((word) => `${word}*`).join(" ")]
    ),
  );
}

/** POSTs one JMAP request and returns its method responses (throws on a non-200 or an error response). */
export async function jmapCall(
  target: JmapTarget,
  methodCalls: unknown[],
): Promise<[string, Record<string, unknown>][]> {
  const response = await fetch(target.apiUrl, {
    method: "POST",
    headers: { authorization: target.auth, "content-type": "application/json" },
    body: JSON.stringify({ using: USING, methodCalls }),
  });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`${target.name} answered ${response.status}: ${text.slice(0, 300)}`);
  }
  const responses = JSON.parse(text).methodResponses as [string, Record<string, unknown>][];
  const failed = responses.find(([name]) => name === "error");
  if (failed) throw new Error(`${target.name} answered ${JSON.stringify(failed).slice(0, 300)}`);
  return responses;
}

/** The account, Inbox and Archive of a JMAP session at `sessionUrl`. */
export async function jmapTarget(
  name: string,
  options: { sessionUrl: string; apiUrl: string; auth: string },
): Promise<JmapTarget> {
  const session = await (await fetch(options.sessionUrl, { headers: { authorization: options.auth } }))
    .json();
  const accountId = (session.primaryAccounts?.["urn:ietf:params:jmap:mail"] ??
    Object.keys(session.accounts)[0]) as string;
  const partial = { name, apiUrl: options.apiUrl, auth: options.auth, accountId, inbox: "", archive: "" };
  const [[, boxes]] = await jmapCall(partial, [[
    "Mailbox/get",
    { accountId, ids: null, properties: ["role"] },
    "b",
  ]]);
  const role = (r: string) => (boxes.list as { id: string; role: string }[]).find((m) => m.role === r)!.id;
  return { ...partial, inbox: role("inbox"), archive: role("archive") };
}

/** How one query was answered by each server. */
export interface Agreement {
  query: string;
  postern: number;
  cyrus: number;
  /** Whether the Message-IDs of all matches are the same; undefined when too many to list. */
  sameMessages?: boolean;
}

/** The totals of both servers for queries `from`…`from+count-1` of the mix (each kind `count / KINDS.length` times). */
export async function compareAnswers(
  postern: JmapTarget,
  cyrus: JmapTarget,
  options: { from: number; count: number; everyWord?: boolean },
): Promise<Agreement[]> {
  const agreements: Agreement[] = [];
  for (let i = options.from; i < options.from + options.count; i++) {
    const [p, c] = await Promise.all([
      matches(postern, mixFilter(i, postern.inbox, postern.archive)),
      matches(cyrus, cyrusMixFilter(i, cyrus.inbox, cyrus.archive, options)),
    ]);
    const same = p.messageIds && c.messageIds
      ? p.messageIds.length === c.messageIds.length && p.messageIds.every((id, k) => id === c.messageIds![k])
      : undefined;
    agreements.push({
      query: JSON.stringify(cyrusMixFilter(i, "Inbox", "Archive", options)),
      postern: p.total,
      cyrus: c.total,
      sameMessages: same,
    });
  }
  return agreements;
}

/** The number of matches of `filter`, and their sorted Message-IDs when at most LIST_LIMIT. */
async function matches(
  target: JmapTarget,
  filter: Record<string, unknown>,
): Promise<{ total: number; messageIds?: string[] }> {
  const [[, query]] = await jmapCall(target, [
    ["Email/query", { accountId: target.accountId, filter, calculateTotal: true, limit: LIST_LIMIT }, "q"],
  ]);
  const total = query.total as number;
  if (total > LIST_LIMIT) return { total };
  const [[, got]] = await jmapCall(target, [
    ["Email/get", { accountId: target.accountId, ids: query.ids, properties: ["messageId"] }, "g"],
  ]);
  const ids = (got.list as { messageId: string[] | null }[]).map((e) => e.messageId?.[0] ?? "").sort();
  return { total, messageIds: ids };
}
