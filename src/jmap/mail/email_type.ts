/**
 * The Email data type behind Email/set (create, update and destroy; RFC 8621 §4.6), Email/query and
 * Email/queryChanges (§4.4, §4.5). Email/get and Email/import are methods of their own.
 */
import type { EmailCondition, EmailFilter, EmailService, EmailSort } from "../../mail/mod.ts";
import { blobId, isKeyword } from "../../mail/mod.ts";
import { InvalidInputError } from "../../model/errors.ts";
import { changeState } from "../../model/change_state.ts";
import { decodeId, encodeId } from "../../model/ids.ts";
import { searchWords } from "../../model/search_words.ts";
import type { MethodContext } from "../engine.ts";
import { MethodError } from "../errors.ts";
import type { DataType, QueryWindow } from "../standard/data_type.ts";
import type { Comparator, Filter, FilterOperator } from "../types.ts";
import { CAPABILITY } from "../types.ts";
import { readDraft } from "./email_draft.ts";
import { EMAIL_PROPERTIES } from "./email_get.ts";
import { readUtcDate, utcDate } from "../dates.ts";

/** What the Email type uses. */
export interface EmailTypeDeps {
  emails: EmailService;
  maxQueryLimit: number;
  checkAccount: DataType["checkAccount"];
}

/** RFC 8621 §4.4.1 FilterCondition properties. */
const CONDITIONS = [
  "inMailbox",
  "inMailboxOtherThan",
  "before",
  "after",
  "minSize",
  "maxSize",
  "allInThreadHaveKeyword",
  "someInThreadHaveKeyword",
  "noneInThreadHaveKeyword",
  "hasKeyword",
  "notKeyword",
  "hasAttachment",
  "text",
  "from",
  "to",
  "cc",
  "bcc",
  "subject",
  "body",
  "header",
] as const;

/**
 * RFC 8621 §4.4.2 sort properties: every one Email/query sorts by, and so (RFC 8621 §1.3.1) the
 * session's emailQuerySortOptions, "A list of all the values the server supports for the
 * "property" field of the Comparator object in an "Email/query" sort".
 */
export const EMAIL_SORT_PROPERTIES = [
  "receivedAt",
  "sentAt",
  "size",
  "from",
  "to",
  "subject",
  "hasKeyword",
  "allInThreadHaveKeyword",
  "someInThreadHaveKeyword",
] as const;

const KEYWORD_SORTS = new Set(["hasKeyword", "allInThreadHaveKeyword", "someInThreadHaveKeyword"]);

/** The Email data type. */
export function emailType(deps: EmailTypeDeps): DataType {
  const accountOf = (ctx: MethodContext) => decodeId(ctx.accountId!)!;
  return {
    name: "Email",
    capability: CAPABILITY.mail,
    changeType: "Email",
    perAccount: true,
    wireId: encodeId,
    properties: EMAIL_PROPERTIES,
    idProperties: [],
    defaults: { keywords: {} },
    checkAccount: deps.checkAccount,
    // /set reads the mutable properties to apply patches to (keywords/$seen, mailboxIds/…), and the
    // server-set and immutable metadata a client may write back unchanged (RFC 8620 §5.3).
    async get(ctx, ids) {
      const numeric = (ids ?? []).map((id) => decodeId(id)).filter((id): id is number => id !== undefined);
      const list = (await deps.emails.get(ctx.principal.accountId, accountOf(ctx), numeric)).map((e) => ({
        id: encodeId(e.id),
        blobId: blobId(e.blobHash),
        threadId: encodeId(e.threadId),
        size: e.size,
        receivedAt: utcDate(e.receivedAt),
        mailboxIds: Object.fromEntries(e.visibleMailboxIds.map((m) => [encodeId(m), true])),
        keywords: Object.fromEntries(e.keywords.map((k) => [k, true])),
      }));
      const found = new Set(list.map((e) => e.id));
      return { list, notFound: (ids ?? []).filter((id) => !found.has(id)) };
    },
    async create(ctx, object) {
      const email = await deps.emails.create(ctx.principal.accountId, accountOf(ctx), readDraft(object, ctx));
      return {
        id: encodeId(email.id),
        blobId: blobId(email.blobHash),
        threadId: encodeId(email.threadId),
        size: email.size,
      };
    },
    async update(ctx, id, changes) {
      const immutable = Object.keys(changes).filter((k) => k !== "keywords" && k !== "mailboxIds");
      if (immutable.length) {
        throw new InvalidInputError(
          `Only keywords and mailboxIds of an email can change; ${
            immutable.map((p) => `"${p}"`).join(", ")
          } cannot`,
          immutable.map((property) => ({ property, message: "cannot be changed" })),
        );
      }
      await deps.emails.update(ctx.principal.accountId, accountOf(ctx), decodeId(id) ?? -1, {
        keywords: changes.keywords === undefined ? undefined : readKeywords(changes.keywords),
        mailboxIds: changes.mailboxIds === undefined ? undefined : readMailboxIds(changes.mailboxIds),
      });
      return null;
    },
    async destroy(ctx, id) {
      await deps.emails.destroy(ctx.principal.accountId, accountOf(ctx), decodeId(id) ?? -1);
    },
    conditions: Object.fromEntries(CONDITIONS.map((c) => [c, () => true])),
    sortable: EMAIL_SORT_PROPERTIES,
    queryArguments: ["collapseThreads"],
    async query(ctx, window) {
      const collapse = window.arguments?.collapseThreads ?? false;
      if (typeof collapse !== "boolean") {
        throw new MethodError("invalidArguments", '"collapseThreads" must be true or false');
      }
      const anchored = window.anchor !== null;
      const limit = Math.min(window.limit ?? deps.maxQueryLimit, deps.maxQueryLimit);
      const result = await deps.emails.query(ctx.principal.accountId, accountOf(ctx), {
        filter: window.filter ? readFilter(window.filter) : null,
        // Without a sort, newest first: what a mailbox listing shows.
        sort: window.sort.length
          ? window.sort.map(readSort)
          : [{ property: "receivedAt", isAscending: false }],
        collapseThreads: collapse,
        position: anchored ? 0 : window.position,
        limit: anchored ? undefined : limit,
        calculateTotal: window.calculateTotal || anchored,
      });
      const ids = result.ids.map(encodeId);
      // The state read with the ids (src/store/email_query_snapshot.ts), not the one read before.
      const queryState = result.state === undefined ? undefined : changeState(result.state);
      if (!anchored) return { ids, position: result.position, total: result.total, queryState };
      return { ...anchorWindow(ids, window, limit), queryState };
    },
  };
}

/** RFC 8620 §5.5 anchor: the window around the anchor, or anchorNotFound. */
function anchorWindow(all: string[], window: QueryWindow, limit: number) {
  const index = all.indexOf(window.anchor!);
  if (index === -1) throw new MethodError("anchorNotFound", `"${window.anchor}" is not in the results`);
  const position = Math.max(0, index + window.anchorOffset);
  return { ids: all.slice(position, position + limit), position, total: all.length };
}

function readKeywords(value: unknown): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid("keywords", '"keywords" must be an object of keywords set to true');
  }
  return Object.entries(value).map(([keyword, flag]) => {
    if (flag !== true || !isKeyword(keyword)) {
      throw invalid("keywords", `"keywords/${keyword}" is not a keyword set to true`);
    }
    return keyword;
  });
}

function readMailboxIds(value: unknown): number[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid("mailboxIds", '"mailboxIds" must be an object of mailbox ids set to true');
  }
  return Object.entries(value).map(([id, flag]) => {
    const mailbox = decodeId(id);
    if (flag !== true || mailbox === undefined) {
      throw invalid("mailboxIds", `"mailboxIds/${id}" must be a mailbox id set to true`);
    }
    return mailbox;
  });
}

function invalid(property: string, message: string): InvalidInputError {
  return new InvalidInputError(message, [{ property, message }]);
}

/**
 * FilterOperators and FilterConditions one Email filter may hold in all: more is `unsupportedFilter`.
 * A query of this many runs in SQL well inside SQLite's limits (expression depth 1,000, parameters
 * 32,766), since operators become balanced trees (src/store/email_query.ts).
 */
export const MAX_FILTER_CONDITIONS = 1_024;

/** A checked filter: ids decoded, dates parsed, words made FTS5 expressions. */
export function readFilter(filter: Filter): EmailFilter {
  const count = filterSize(filter);
  if (count > MAX_FILTER_CONDITIONS) {
    throw new MethodError(
      "unsupportedFilter",
      `The filter holds ${count} operators and conditions; at most ${MAX_FILTER_CONDITIONS} are supported`,
    );
  }
  return readChecked(filter);
}

/** Operators and conditions in a filter (checkFilter has bounded its depth). */
function filterSize(filter: Filter): number {
  if ("operator" in filter && Array.isArray((filter as FilterOperator).conditions)) {
    let count = 1;
    for (const condition of (filter as FilterOperator).conditions) count += filterSize(condition);
    return count;
  }
  return 1;
}

function readChecked(filter: Filter): EmailFilter {
  if ("operator" in filter && Array.isArray((filter as FilterOperator).conditions)) {
    const op = filter as FilterOperator;
    return { operator: op.operator, conditions: op.conditions.map(readChecked) };
  }
  const condition: EmailCondition = {};
  for (const [key, value] of Object.entries(filter)) {
    const fail = (expected: string) =>
      new MethodError("invalidArguments", `Filter "${key}" must be ${expected}`);
    switch (key) {
      case "inMailbox":
        if (typeof value !== "string") throw fail("a mailbox id");
        condition.inMailbox = decodeId(value) ?? -1;
        break;
      case "inMailboxOtherThan":
        if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
          throw fail("a list of mailbox ids");
        }
        condition.inMailboxOtherThan = value.map((v) => decodeId(v) ?? -1);
        break;
      case "before":
      case "after": {
        const time = readUtcDate(value);
        if (time === undefined) throw fail("a UTCDate such as 2026-12-06T10:00:00Z");
        condition[key] = time;
        break;
      }
      case "minSize":
      case "maxSize":
        if (!Number.isSafeInteger(value) || (value as number) < 0) throw fail("an unsigned integer");
        condition[key] = value as number;
        break;
      case "allInThreadHaveKeyword":
      case "someInThreadHaveKeyword":
      case "noneInThreadHaveKeyword":
      case "hasKeyword":
      case "notKeyword":
        if (typeof value !== "string" || !isKeyword(value)) throw fail("a keyword");
        condition[key] = value.toLowerCase();
        break;
      case "hasAttachment":
        if (typeof value !== "boolean") throw fail("true or false");
        condition.hasAttachment = value;
        break;
      case "header":
        if (
          !Array.isArray(value) || value.length < 1 || value.length > 2 ||
          !value.every((v) => typeof v === "string")
        ) throw fail("[name] or [name, value]");
        condition.header = value as [string] | [string, string];
        break;
      default: {
        if (typeof value !== "string") throw fail("a string");
        // RFC 8621 §4.4.1: white space divides "separate tokens that may be searched for separately
        // but MUST all be present for the Email to match"; text with no token (only punctuation or
        // spaces) asks for no token, so every email has all of them: the condition matches everything.
        const words = searchWords(value);
        if (words.length > 0) condition[key as "text"] = words;
      }
    }
  }
  return { condition };
}

function readSort(comparator: Comparator): EmailSort {
  const c = comparator as Comparator & { keyword?: unknown };
  const sort: EmailSort = {
    property: c.property as EmailSort["property"],
    isAscending: c.isAscending ?? true,
  };
  if (KEYWORD_SORTS.has(c.property)) {
    if (typeof c.keyword !== "string" || !isKeyword(c.keyword)) {
      throw new MethodError("invalidArguments", `Sorting by ${c.property} needs a "keyword"`);
    }
    sort.keyword = c.keyword.toLowerCase();
  }
  return sort;
}
