/**
 * The command parser: one framed command (line text and literals, see parser_reader.ts) → an
 * `ImapCommand` (command.ts), or a ParseError the session answers with BAD.
 *
 * Read in order: parseCommand (tag, UID prefix, name), the table from command name to its
 * argument parser, then the parsers of the commands with simple arguments. FETCH, STORE and the
 * search family are in parser_fetch.ts and parser_search.ts; the mailbox commands with options
 * (SELECT, LIST, STATUS, APPEND, CREATE) in parser_mailbox.ts.
 */
import type { CommandBody, ImapCommand } from "./command.ts";
import { byteString, type LiteralPart, ParseError, Reader } from "./parser_reader.ts";
import { readSequenceSet } from "./sequence.ts";
import { parseFetch, parseStore } from "./parser_fetch.ts";
import { parseSearch, parseSort, parseThread } from "./parser_search.ts";
import { parseAppend, parseCreate, parseList, parseSelect, parseStatus } from "./parser_mailbox.ts";

/** Options of one parse: UTF-8 strings and mailbox names once UTF8=ACCEPT is enabled. */
export interface ParseOptions {
  utf8: boolean;
}

/** The outcome of parsing one command: the command, or the text (and tag, when read) of a BAD. */
export type ParseResult =
  | { ok: true; command: ImapCommand }
  | { ok: false; tag?: string; text: string; code?: string };

type ArgumentParser = (reader: Reader, name: string) => CommandBody;

/** Commands that take no argument. */
const BARE = ["CAPABILITY", "NOOP", "LOGOUT", "STARTTLS", "NAMESPACE", "IDLE", "CHECK", "CLOSE", "UNSELECT"];

/** Commands that may follow `UID ` (RFC 9051 §6.4.9, UIDPLUS, MOVE, SORT/THREAD). */
const UID_COMMANDS = new Set(["FETCH", "STORE", "COPY", "MOVE", "SEARCH", "SORT", "THREAD", "EXPUNGE"]);

/** Command name → parser of what follows the name (the reader stands right after the name). */
const COMMANDS = new Map<string, ArgumentParser>([
  ...BARE.map((name) => [name, bare] as [string, ArgumentParser]),
  ["AUTHENTICATE", parseAuthenticate],
  ["LOGIN", parseLogin],
  ["ENABLE", parseEnable],
  ["ID", parseId],
  ["COMPRESS", (r) => (r.sp(), { name: "COMPRESS", mechanism: r.keyword() })],
  ["SELECT", parseSelect],
  ["EXAMINE", parseSelect],
  ["CREATE", parseCreate],
  ["DELETE", oneMailbox],
  ["SUBSCRIBE", oneMailbox],
  ["UNSUBSCRIBE", oneMailbox],
  ["RENAME", (r) => (r.sp(), { name: "RENAME", from: r.mailbox(), to: (r.sp(), r.mailbox()) })],
  ["LIST", parseList],
  ["LSUB", (r) => (r.sp(), { name: "LSUB", reference: r.mailbox(), pattern: (r.sp(), r.listMailbox()) })],
  ["STATUS", parseStatus],
  ["APPEND", parseAppend],
  ["EXPUNGE", bare],
  ["SEARCH", parseSearch],
  ["SORT", parseSort],
  ["THREAD", parseThread],
  ["FETCH", parseFetch],
  ["STORE", parseStore],
  ["COPY", copyOrMove],
  ["MOVE", copyOrMove],
  ["GETQUOTA", (r) => (r.sp(), { name: "GETQUOTA", root: r.astring() })],
  ["GETQUOTAROOT", (r) => (r.sp(), { name: "GETQUOTAROOT", mailbox: r.mailbox() })],
  ["SETQUOTA", parseSetQuota],
  ["GETACL", oneMailbox],
  ["MYRIGHTS", oneMailbox],
  ["SETACL", parseSetAcl],
  ["DELETEACL", mailboxAndIdentifier],
  ["LISTRIGHTS", mailboxAndIdentifier],
]);

/** Whether `name` (upper case) is a command the parser knows. */
export function isCommandName(name: string): boolean {
  return COMMANDS.has(name);
}

/** Parses one framed command. */
export function parseCommand(line: Uint8Array, literals: LiteralPart[], options: ParseOptions): ParseResult {
  const reader = new Reader(line, literals, options);
  let tag: string | undefined;
  try {
    const start = reader.tag();
    if (!reader.atEnd() && reader.peek() !== 0x20) reader.fail("Invalid tag");
    tag = start;
    reader.sp();
    let name = reader.keyword();
    let uid = false;
    if (name === "UID") {
      uid = true;
      reader.sp();
      name = reader.keyword();
      if (!UID_COMMANDS.has(name)) reader.fail(`UID ${name} is not a command`);
    }
    const parse = COMMANDS.get(name);
    if (!parse) return { ok: false, tag, text: `Unknown command ${name.slice(0, 40)}` };
    let body = parse(reader, name);
    if (uid && name === "EXPUNGE") {
      reader.sp();
      body = { name: "EXPUNGE", uids: readSequenceSet(reader) };
    }
    reader.end();
    return { ok: true, command: { tag, uid, body } };
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    const text = printable(error.message);
    return { ok: false, tag, text, ...(error.code ? { code: error.code } : {}) };
  }
}

/** A refusal's text quotes what the client sent: no control character, and not too long. */
export function printable(text: string): string {
  const clean = text.replace(/\p{Cc}/gu, "?");
  return clean.length > 200 ? clean.slice(0, 200) + "…" : clean;
}

function bare(_reader: Reader, name: string): CommandBody {
  return { name } as CommandBody;
}

function oneMailbox(reader: Reader, name: string): CommandBody {
  reader.sp();
  return { name, mailbox: reader.mailbox() } as CommandBody;
}

function mailboxAndIdentifier(reader: Reader, name: string): CommandBody {
  reader.sp();
  const mailbox = reader.mailbox();
  reader.sp();
  return { name: name as "DELETEACL" | "LISTRIGHTS", mailbox, identifier: reader.astring() };
}

/** `AUTHENTICATE mechanism [SP (base64 / "=")]` (RFC 9051 §6.2.2, SASL-IR RFC 4959). */
function parseAuthenticate(reader: Reader): CommandBody {
  reader.sp();
  const mechanism = reader.keyword();
  if (!reader.trySp()) return { name: "AUTHENTICATE", mechanism };
  if (reader.tryChar("=")) return { name: "AUTHENTICATE", mechanism, initialResponse: "" };
  const start = reader.pos;
  while (BASE64[reader.peek()] === 1) reader.pos++;
  while (reader.peek() === 0x3d) reader.pos++;
  const text = byteString(reader.line, start, reader.pos);
  return { name: "AUTHENTICATE", mechanism, initialResponse: decodeBase64(reader, text) };
}

const BASE64 = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") {
  BASE64[c.charCodeAt(0)] = 1;
}

/** Decodes base64 (RFC 4648 §4, padding required), refusing anything else. */
export function decodeBase64(reader: Reader, text: string): Uint8Array {
  if (text.length === 0 || text.length % 4 !== 0 || /=[^=]/.test(text)) reader.fail("Invalid base64");
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return reader.fail("Invalid base64");
  }
}

/** `LOGIN userid SP password` (astrings). */
function parseLogin(reader: Reader): CommandBody {
  reader.sp();
  const username = reader.astring();
  reader.sp();
  return { name: "LOGIN", username, password: reader.astring() };
}

/** `ENABLE 1*(SP capability)` (RFC 5161). */
function parseEnable(reader: Reader): CommandBody {
  const capabilities: string[] = [];
  do {
    reader.sp();
    capabilities.push(reader.keyword());
  } while (!reader.atEnd());
  return { name: "ENABLE", capabilities };
}

/** `ID ("(" #(string SP nstring) ")" / NIL)` (RFC 2971 §4: the list may be empty, as Dovecot agrees). */
function parseId(reader: Reader): CommandBody {
  reader.sp();
  if (reader.lookingAt("NIL")) {
    reader.pos += 3;
    return { name: "ID", parameters: null };
  }
  const parameters: Record<string, string | null> = Object.create(null);
  reader.expect("(");
  let count = 0;
  while (!reader.tryChar(")")) {
    if (count > 0) reader.sp();
    const field = reader.string();
    reader.sp();
    const value = reader.nstring();
    if (++count > 30) reader.fail("Too many ID fields (RFC 2971 allows 30)");
    parameters[field] = value;
  }
  return { name: "ID", parameters };
}

function copyOrMove(reader: Reader, name: string): CommandBody {
  reader.sp();
  const set = readSequenceSet(reader);
  reader.sp();
  return { name: name as "COPY" | "MOVE", set, mailbox: reader.mailbox() };
}

/** `SETQUOTA quota-root SP setquota-list` (RFC 9208 §4.4.3). */
function parseSetQuota(reader: Reader): CommandBody {
  reader.sp();
  const root = reader.astring();
  reader.sp();
  reader.expect("(");
  const limits: Array<{ resource: string; limit: number }> = [];
  while (!reader.tryChar(")")) {
    if (limits.length > 0) reader.sp();
    const resource = reader.keyword();
    reader.sp();
    limits.push({ resource, limit: reader.number64() });
  }
  return { name: "SETQUOTA", root, limits };
}

/** `SETACL mailbox SP identifier SP mod-rights` (RFC 4314 §3.1). */
function parseSetAcl(reader: Reader): CommandBody {
  reader.sp();
  const mailbox = reader.mailbox();
  reader.sp();
  const identifier = reader.astring();
  reader.sp();
  return { name: "SETACL", mailbox, identifier, rights: reader.astring() };
}
