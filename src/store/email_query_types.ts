/**
 * The checked form of an Email query (RFC 8621 §4.4) that the store runs: src/store/email_query.ts
 * and src/store/email_text_window.ts take it, JMAP and IMAP SEARCH build it.
 */

/** One checked FilterCondition: every property is already of its type, ids decoded. */
export interface EmailCondition {
  inMailbox?: number;
  inMailboxOtherThan?: number[];
  before?: number;
  after?: number;
  minSize?: number;
  maxSize?: number;
  allInThreadHaveKeyword?: string;
  someInThreadHaveKeyword?: string;
  noneInThreadHaveKeyword?: string;
  hasKeyword?: string;
  notKeyword?: string;
  hasAttachment?: boolean;
  /**
   * Search words (src/model/search_words.ts: each one token of the index, none empty), all of which
   * must start a word of the field; quoted here into FTS5 syntax, never given to it as they are.
   */
  text?: string[];
  from?: string[];
  to?: string[];
  cc?: string[];
  bcc?: string[];
  subject?: string[];
  body?: string[];
  /** [name] or [name, value]: the header is there (and contains the value). */
  header?: [string] | [string, string];
  /**
   * Store-only conditions, which Email/query's wire filter has no property for (IMAP SEARCH uses
   * them): the sent date (the Date header, else the received date) before / at or after an
   * instant, and membership in a list of email ids.
   */
  sentBefore?: number;
  sentAfter?: number;
  emailIds?: readonly number[];
}

/** A checked filter: an operator over filters, or one condition. */
export type EmailFilter =
  | { operator: "AND" | "OR" | "NOT"; conditions: EmailFilter[] }
  | { condition: EmailCondition };

/** One checked sort criterion. */
export interface EmailSort {
  property:
    | "receivedAt"
    | "sentAt"
    | "size"
    | "from"
    | "to"
    | "subject"
    | "hasKeyword"
    | "allInThreadHaveKeyword"
    | "someInThreadHaveKeyword";
  isAscending: boolean;
  keyword?: string;
}

/** An Email query: whose emails, which, in what order, and the window. */
export interface EmailQuery {
  accountId: number;
  /** Mailboxes whose emails the viewer may read; undefined for the owner (everything). */
  readable?: number[];
  filter: EmailFilter | null;
  sort: EmailSort[];
  collapseThreads: boolean;
  /** Window: position (negative from the end) and limit; or every id when limit is undefined. */
  position: number;
  limit?: number;
  calculateTotal: boolean;
}

/** The ids in the window, where it starts, and the total when asked or needed. */
export interface EmailQueryResult {
  ids: number[];
  position: number;
  total?: number;
  /**
   * The position of the account's newest Email change in the snapshot the ids were read from (the
   * Email state, src/directory/changes.ts), when the query read it (the repository's query does).
   */
  state?: number;
}
