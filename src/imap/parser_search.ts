/**
 * SEARCH, SORT and THREAD arguments: the search program of RFC 9051 §6.4.4 (with the IMAP4rev1 keys
 * of RFC 3501), ESEARCH result options (RFC 4731 §3, SAVE of RFC 5182), MODSEQ (RFC 7162 §3.1.5),
 * EMAILID/THREADID (RFC 8474), SORT and THREAD (RFC 5256) with ESORT's RETURN (RFC 5267).
 *
 * Strings are decoded with the command's CHARSET (UTF-8 when none); a charset the runtime cannot
 * decode still parses (its strings read leniently), so that the command's handler refuses it with
 * `NO [BADCHARSET (…)]` as RFC 9051 §6.4.4 says, not the parser with BAD.
 * Nesting (parentheses, NOT, OR) is bounded so no command can exhaust the stack.
 *
 * Read in order: parseSearch, parseSort, parseThread, the program, one key, dates.
 */
import type { CommandBody, SearchKey, SearchReturn, SortCriterion } from "./command.ts";
import { byteString, type Reader } from "./parser_reader.ts";
import { readSequenceSet } from "./sequence.ts";
import { readFlag } from "./parser_fetch.ts";
import { daysIn } from "./parser_mailbox.ts";

/** The deepest nesting of search keys accepted (Dovecot's limit is of the same order). */
export const MAX_SEARCH_DEPTH = 100;

const RETURNS = new Set(["MIN", "MAX", "ALL", "COUNT", "SAVE"]);
const SORT_KEYS = new Set([
  "ARRIVAL",
  "CC",
  "DATE",
  "FROM",
  "SIZE",
  "SUBJECT",
  "TO",
  "DISPLAYFROM",
  "DISPLAYTO",
]);
const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

/** Search keys that are a system flag, present or absent. */
const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ["\\Answered", true],
  DELETED: ["\\Deleted", true],
  DRAFT: ["\\Draft", true],
  FLAGGED: ["\\Flagged", true],
  SEEN: ["\\Seen", true],
  UNANSWERED: ["\\Answered", false],
  UNDELETED: ["\\Deleted", false],
  UNDRAFT: ["\\Draft", false],
  UNFLAGGED: ["\\Flagged", false],
  UNSEEN: ["\\Seen", false],
};
const HEADER_KEYS = new Set(["BCC", "CC", "FROM", "SUBJECT", "TO"]);
const DATE_KEYS: Record<string, ["internal" | "sent", "before" | "on" | "since"]> = {
  BEFORE: ["internal", "before"],
  ON: ["internal", "on"],
  SINCE: ["internal", "since"],
  SENTBEFORE: ["sent", "before"],
  SENTON: ["sent", "on"],
  SENTSINCE: ["sent", "since"],
};

/** `SEARCH [SP "RETURN" SP "(" [opt *(SP opt)] ")"] SP ["CHARSET" SP charset SP] 1*search-key`. */
export function parseSearch(reader: Reader): CommandBody {
  reader.sp();
  const returns = readReturns(reader);
  let charset: string | undefined;
  if (reader.lookingAt("CHARSET")) {
    reader.pos += 7;
    reader.sp();
    charset = reader.astring();
    reader.sp();
  }
  const criteria = readProgram(reader, decoderFor(charset ?? "UTF-8"));
  return {
    name: "SEARCH",
    ...(charset !== undefined ? { charset } : {}),
    criteria,
    returns: returns ?? [],
    esearch: returns !== undefined,
  };
}

/** `SORT [RETURN (…)] SP "(" [REVERSE SP] sort-key *(…) ")" SP charset 1*(SP search-key)`. */
export function parseSort(reader: Reader): CommandBody {
  reader.sp();
  const returns = readReturns(reader) ?? [];
  reader.expect("(");
  const criteria: SortCriterion[] = [];
  do {
    let key = reader.keyword();
    const reverse = key === "REVERSE";
    if (reverse) [key] = [(reader.sp(), reader.keyword())];
    if (!SORT_KEYS.has(key)) reader.fail(`Unknown sort key ${key.slice(0, 40)}`);
    criteria.push({ key: key as SortCriterion["key"], reverse });
  } while (reader.trySp());
  reader.expect(")");
  reader.sp();
  const charset = reader.astring();
  reader.sp();
  const search = readProgram(reader, decoderFor(charset));
  return { name: "SORT", criteria, charset, search, returns };
}

/** `THREAD SP thread-alg SP search-criteria` (RFC 5256 §3). */
export function parseThread(reader: Reader): CommandBody {
  reader.sp();
  const algorithm = reader.keyword();
  if (algorithm !== "REFERENCES" && algorithm !== "ORDEREDSUBJECT") {
    reader.fail(`Unknown threading algorithm ${algorithm.slice(0, 40)}`);
  }
  reader.sp();
  const charset = reader.astring();
  reader.sp();
  const search = readProgram(reader, decoderFor(charset));
  return { name: "THREAD", algorithm, charset, search };
}

/** `RETURN (…)` if present (then with a trailing SP): an empty list means ALL (RFC 4731 §3.1). */
function readReturns(reader: Reader): SearchReturn[] | undefined {
  if (!reader.lookingAt("RETURN")) return undefined;
  reader.pos += 6;
  reader.sp();
  reader.expect("(");
  const returns: SearchReturn[] = [];
  while (!reader.tryChar(")")) {
    if (returns.length > 0) reader.sp();
    const option = reader.keyword();
    if (!RETURNS.has(option)) reader.fail(`Unknown RETURN option ${option.slice(0, 40)}`);
    if (!returns.includes(option as SearchReturn)) returns.push(option as SearchReturn);
  }
  reader.sp();
  return returns.length === 0 ? ["ALL"] : returns;
}

/** Decoders of the charsets seen so far (only names the runtime knows get in, so it stays small). */
const DECODERS = new Map<string, TextDecoder>();

/** Reads the strings of a search whose charset the runtime does not know (the handler refuses it). */
const LENIENT = new TextDecoder("utf-8");

/** A decoder for the strings of a search in `charset` (lenient when unknown: see the header). */
function decoderFor(charset: string): TextDecoder {
  const name = charset.toUpperCase() === "US-ASCII" ? "UTF-8" : charset.toUpperCase();
  let decoder = DECODERS.get(name);
  if (!decoder) {
    try {
      decoder = new TextDecoder(name, { fatal: true });
    } catch {
      return LENIENT;
    }
    DECODERS.set(name, decoder);
  }
  return decoder;
}

/** `search-key *(SP search-key)`: one key, or their conjunction. */
function readProgram(reader: Reader, decoder: TextDecoder): SearchKey {
  const keys: SearchKey[] = [];
  do keys.push(readKey(reader, decoder, 0)); while (reader.trySp());
  return keys.length === 1 ? keys[0] : { op: "and", keys };
}

/** One `search-key`. */
function readKey(reader: Reader, decoder: TextDecoder, depth: number): SearchKey {
  if (depth > MAX_SEARCH_DEPTH) reader.fail("Search keys nested too deeply");
  const byte = reader.peek();
  if (byte === 0x28) {
    reader.pos++;
    const keys: SearchKey[] = [];
    do keys.push(readKey(reader, decoder, depth + 1)); while (reader.trySp());
    reader.expect(")");
    return keys.length === 1 ? keys[0] : { op: "and", keys };
  }
  if ((byte >= 0x30 && byte <= 0x39) || byte === 0x2a || byte === 0x24) {
    return { op: "seq", set: readSequenceSet(reader) };
  }
  const name = reader.keyword();
  const text = () => (reader.sp(), decodeString(reader, decoder));
  if (Object.hasOwn(FLAG_KEYS, name)) {
    const [flag, present] = FLAG_KEYS[name];
    return { op: "flag", flag, present };
  }
  if (HEADER_KEYS.has(name)) return { op: "header", field: name, value: text() };
  if (Object.hasOwn(DATE_KEYS, name)) {
    const [field, compare] = DATE_KEYS[name];
    reader.sp();
    return { op: "date", field, compare, date: readDate(reader) };
  }
  switch (name) {
    case "ALL":
      return { op: "all" };
    case "KEYWORD":
    case "UNKEYWORD": {
      reader.sp();
      const flag = readFlag(reader);
      if (flag.startsWith("\\")) reader.fail("KEYWORD takes a keyword, not a system flag");
      return { op: "flag", flag, present: name === "KEYWORD" };
    }
    case "RECENT":
    case "NEW":
    case "OLD":
      return { op: "recent", which: name };
    case "HEADER": {
      reader.sp();
      const field = reader.astring();
      return { op: "header", field, value: text() };
    }
    case "BODY":
      return { op: "body", value: text() };
    case "TEXT":
      return { op: "text", value: text() };
    case "LARGER":
    case "SMALLER":
      reader.sp();
      return { op: "size", compare: name === "LARGER" ? "larger" : "smaller", size: reader.number64() };
    case "NOT":
      reader.sp();
      return { op: "not", key: readKey(reader, decoder, depth + 1) };
    case "OR": {
      reader.sp();
      const left = readKey(reader, decoder, depth + 1);
      reader.sp();
      return { op: "or", left, right: readKey(reader, decoder, depth + 1) };
    }
    case "UID":
      reader.sp();
      return { op: "uid", set: readSequenceSet(reader) };
    case "MODSEQ":
      return { op: "modseq", modseq: readModseqKey(reader) };
    case "EMAILID":
    case "THREADID": {
      reader.sp();
      const id = reader.atom();
      if (!/^[A-Za-z0-9_-]{1,255}$/.test(id)) reader.fail(`Malformed object id ${id.slice(0, 40)}`);
      return name === "EMAILID" ? { op: "emailid", id } : { op: "threadid", id };
    }
  }
  return reader.fail(`Unknown search key ${name.slice(0, 40)}`);
}

/** A search string (astring) decoded in the search's charset. */
function decodeString(reader: Reader, decoder: TextDecoder): string {
  const byte = reader.peek();
  const bytes = byte === 0x22 || byte === 0x7b
    ? reader.stringBytes()
    : new TextEncoder().encode(reader.astring());
  try {
    return decoder.decode(bytes);
  } catch {
    return reader.fail(`Search string is not valid ${decoder.encoding}`);
  }
}

/** `MODSEQ [SP entry-name SP entry-type-req] SP mod-sequence-valzer` (RFC 7162 §3.1.5). */
function readModseqKey(reader: Reader): bigint {
  reader.sp();
  if (reader.peek() === 0x22) {
    const entry = reader.string();
    if (!/^\/flags\/\\?[^\s"\\()]+$/i.test(entry)) {
      reader.fail(`Malformed MODSEQ entry name ${entry.slice(0, 40)}`);
    }
    reader.sp();
    const type = reader.keyword();
    if (type !== "PRIV" && type !== "SHARED" && type !== "ALL") {
      reader.fail(`Unknown MODSEQ entry type ${type}`);
    }
    reader.sp();
  }
  return reader.modSequence(true);
}

/** `date = date-text / DQUOTE date-text DQUOTE`, `d[d]-Mon-yyyy` → `yyyy-mm-dd`. */
export function readDate(reader: Reader): string {
  const quoted = reader.tryChar('"');
  const start = reader.pos;
  while (reader.peek() > 0x20 && reader.peek() !== 0x22 && reader.peek() !== 0x29) reader.pos++;
  const text = byteString(reader.line, start, reader.pos);
  if (quoted) reader.expect('"');
  const match = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  const month = match ? MONTHS.indexOf(match[2].toUpperCase()) : -1;
  if (!match || month < 0) return reader.fail(`Malformed date ${text.slice(0, 40)}`);
  const [day, year] = [Number(match[1]), Number(match[3])];
  if (day < 1 || day > daysIn(year, month)) reader.fail(`No such date ${text}`);
  return `${match[3]}-${String(month + 1).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}
