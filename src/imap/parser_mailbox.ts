/**
 * The mailbox commands with options: SELECT/EXAMINE with CONDSTORE and QRESYNC (RFC 7162 §3.1.8,
 * §3.2.5), CREATE with USE (RFC 6154 §3), LIST with LIST-EXTENDED, LIST-STATUS and SPECIAL-USE
 * (RFC 5258 §3, RFC 5819, RFC 6154), STATUS (RFC 9051 §6.3.11) and APPEND (RFC 9051 §6.3.12, in the
 * MULTIAPPEND shape of RFC 3502, literal8 of RFC 3516).
 *
 * Read in order: SELECT, CREATE, LIST, STATUS, APPEND and its date-time.
 */
import type { AppendMessage, CommandBody, QresyncParameters, StatusItem } from "./command.ts";
import type { Reader } from "./parser_reader.ts";
import { readSequenceSet } from "./sequence.ts";
import { readFlagList } from "./parser_fetch.ts";

const STATUS_ITEMS = new Set<string>([
  "MESSAGES",
  "UIDNEXT",
  "UIDVALIDITY",
  "UNSEEN",
  "DELETED",
  "SIZE",
  "RECENT",
  "HIGHESTMODSEQ",
  "MAILBOXID",
  "APPENDLIMIT",
]);
const SELECTION = new Set(["SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE"]);
const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

/** `SELECT/EXAMINE SP mailbox [SP "(" select-param *(SP select-param) ")"]`. */
export function parseSelect(reader: Reader, name: string): CommandBody {
  reader.sp();
  const mailbox = reader.mailbox();
  let condstore = false;
  let qresync: QresyncParameters | undefined;
  if (reader.trySpArgument()) {
    reader.expect("(");
    do {
      const parameter = reader.keyword();
      if (parameter === "CONDSTORE" && !condstore) condstore = true;
      else if (parameter === "QRESYNC" && !qresync) qresync = (reader.sp(), readQresync(reader));
      else reader.fail(`Unknown or repeated ${name} parameter ${parameter.slice(0, 40)}`);
    } while (reader.trySp());
    reader.expect(")");
  }
  return { name: name as "SELECT" | "EXAMINE", mailbox, condstore, ...(qresync ? { qresync } : {}) };
}

/** `"(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")"`. */
function readQresync(reader: Reader): QresyncParameters {
  reader.expect("(");
  const uidValidity = reader.nzNumber();
  reader.sp();
  const parameters: QresyncParameters = { uidValidity, modseq: reader.modSequence() };
  if (reader.trySp() && reader.peek() !== 0x28) {
    parameters.knownUids = readSequenceSet(reader);
    if (!reader.trySp()) return (reader.expect(")"), parameters);
  }
  if (reader.tryChar("(")) {
    const sequences = readSequenceSet(reader);
    reader.sp();
    parameters.sequenceMatch = { sequences, uids: readSequenceSet(reader) };
    reader.expect(")");
  }
  reader.expect(")");
  return parameters;
}

/** `CREATE SP mailbox [SP "(" "USE" SP "(" [use-attr *(SP use-attr)] ")" ")"]`. */
export function parseCreate(reader: Reader): CommandBody {
  reader.sp();
  const mailbox = reader.mailbox();
  const specialUse: string[] = [];
  if (reader.trySpArgument()) {
    reader.expect("(");
    const parameter = reader.keyword();
    if (parameter !== "USE") reader.fail(`Unknown CREATE parameter ${parameter.slice(0, 40)}`);
    reader.sp();
    for (const use of readFlagList(reader)) {
      if (!use.startsWith("\\")) reader.fail(`Special use ${use.slice(0, 40)} lacks its backslash`);
      specialUse.push(use);
    }
    reader.expect(")");
  }
  return { name: "CREATE", mailbox, specialUse };
}

/** `LIST [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]` (RFC 5258 §6). */
export function parseList(reader: Reader): CommandBody {
  reader.sp();
  const selection: Array<"SUBSCRIBED" | "REMOTE" | "RECURSIVEMATCH" | "SPECIAL-USE"> = [];
  let extended = false;
  if (reader.tryChar("(")) {
    extended = true;
    while (!reader.tryChar(")")) {
      if (selection.length > 0) reader.sp();
      const option = reader.keyword();
      if (!SELECTION.has(option)) reader.fail(`Unknown LIST selection option ${option.slice(0, 40)}`);
      if (!selection.includes(option as never)) selection.push(option as never);
    }
    reader.sp();
    if (
      selection.includes("RECURSIVEMATCH") && !selection.some((o) => o !== "RECURSIVEMATCH" && o !== "REMOTE")
    ) {
      reader.fail("RECURSIVEMATCH needs another selection option (RFC 5258 §3)");
    }
  }
  const reference = reader.mailbox();
  reader.sp();
  const patterns: string[] = [];
  if (reader.tryChar("(")) {
    extended = true;
    do patterns.push(reader.listMailbox()); while (reader.trySp());
    reader.expect(")");
  } else patterns.push(reader.listMailbox());
  const returns: { subscribed: boolean; children: boolean; specialUse: boolean; status?: StatusItem[] } = {
    subscribed: false,
    children: false,
    specialUse: false,
  };
  if (reader.trySpArgument()) {
    extended = true;
    if (!reader.lookingAt("RETURN")) reader.fail("Expected RETURN");
    reader.pos += 6;
    reader.sp();
    reader.expect("(");
    let first = true;
    while (!reader.tryChar(")")) {
      if (!first) reader.sp();
      first = false;
      const option = reader.keyword();
      if (option === "SUBSCRIBED") returns.subscribed = true;
      else if (option === "CHILDREN") returns.children = true;
      else if (option === "SPECIAL-USE") returns.specialUse = true;
      else if (option === "STATUS" && !returns.status) {
        returns.status = (reader.sp(), readStatusItems(reader));
      } else reader.fail(`Unknown or repeated LIST return option ${option.slice(0, 40)}`);
    }
  }
  return { name: "LIST", reference, patterns, selection, returns, basic: !extended };
}

/** `STATUS SP mailbox SP "(" status-att *(SP status-att) ")"`. */
export function parseStatus(reader: Reader): CommandBody {
  reader.sp();
  const mailbox = reader.mailbox();
  reader.sp();
  return { name: "STATUS", mailbox, items: readStatusItems(reader) };
}

function readStatusItems(reader: Reader): StatusItem[] {
  reader.expect("(");
  const items: StatusItem[] = [];
  do {
    const item = reader.keyword();
    if (!STATUS_ITEMS.has(item)) reader.fail(`Unknown STATUS item ${item.slice(0, 40)}`);
    if (!items.includes(item as StatusItem)) items.push(item as StatusItem);
  } while (reader.trySp());
  reader.expect(")");
  return items;
}

/** `APPEND SP mailbox 1*([SP flag-list] [SP date-time] SP (literal / literal8 / "UTF8" SP "(" literal8 ")"))`. */
export function parseAppend(reader: Reader): CommandBody {
  reader.sp();
  const mailbox = reader.mailbox();
  const messages: AppendMessage[] = [];
  do {
    reader.sp();
    let flags: string[] = [];
    if (reader.peek() === 0x28) [flags] = [readFlagList(reader), reader.sp()];
    let date: Date | undefined;
    if (reader.peek() === 0x22) [date] = [readDateTime(reader), reader.sp()];
    // RFC 6855 §4 (UTF8=ACCEPT): `"UTF8" SP "(" literal8 ")"` carries a message with UTF-8 headers.
    const utf8 = reader.lookingAt("UTF8") && reader.peek(4) === 0x20 && reader.peek(5) === 0x28;
    if (utf8) reader.pos += 6;
    if (!reader.atLiteral(true)) reader.fail("APPEND needs the message as a literal");
    const { bytes, binary } = reader.literal(true);
    if (utf8) reader.expect(")");
    if (!binary && bytes.includes(0)) reader.fail("NUL in a message (send it as a literal8, ~{n})");
    messages.push({ flags, ...(date ? { date } : {}), message: bytes, binary });
  } while (reader.peek() === 0x20 && reader.peek(1) > 0x20);
  return { name: "APPEND", mailbox, messages };
}

/** `date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE`. */
function readDateTime(reader: Reader): Date {
  const text = reader.string();
  const match = /^([ \d]?\d)-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$/.exec(text);
  const month = match ? MONTHS.indexOf(match[2].toUpperCase()) : -1;
  if (!match || month < 0) return reader.fail(`Malformed date-time "${text.slice(0, 40)}"`);
  const [day, year, hour, minute, second] = [1, 3, 4, 5, 6].map((i) => Number(match[i].trim()));
  if (
    day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 60 || Number(match[9]) > 59
  ) {
    reader.fail(`No such date-time "${text}"`);
  }
  const zone = (match[7] === "-" ? -1 : 1) * (Number(match[8]) * 60 + Number(match[9]));
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  date.setUTCHours(hour, minute, Math.min(second, 59));
  return new Date(date.getTime() - zone * 60_000);
}

/** The number of days of a month (0-based) of a year (proleptic Gregorian). */
export function daysIn(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month];
}
