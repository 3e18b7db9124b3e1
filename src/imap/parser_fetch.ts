/**
 * FETCH and STORE arguments (RFC 9051 §6.4.5 and §6.4.6; CHANGEDSINCE, VANISHED and UNCHANGEDSINCE
 * of RFC 7162 §3.1.3–§3.1.4 and §3.2.6; BINARY of RFC 3516; EMAILID/THREADID of RFC 8474).
 *
 * Read in order: parseFetch (macros, items, modifiers), one item, sections and partials, parseStore,
 * flags (shared with APPEND).
 */
import type { CommandBody, FetchItem, Flag, Partial, Section } from "./command.ts";
import { byteString, isAtomChar, type Reader } from "./parser_reader.ts";
import { readSequenceSet } from "./sequence.ts";

const FAST: FetchItem[] = [{ kind: "FLAGS" }, { kind: "INTERNALDATE" }, { kind: "RFC822.SIZE" }];
/** The macros of RFC 9051 §6.4.5, expanded so a handler never sees them. */
const MACROS: Record<string, FetchItem[]> = {
  FAST,
  ALL: [...FAST, { kind: "ENVELOPE" }],
  FULL: [...FAST, { kind: "ENVELOPE" }, { kind: "BODY" }],
};

/** Items named by one word. */
const SIMPLE = new Set([
  "FLAGS",
  "UID",
  "INTERNALDATE",
  "RFC822.SIZE",
  "ENVELOPE",
  "BODYSTRUCTURE",
  "MODSEQ",
  "EMAILID",
  "THREADID",
  "RFC822",
  "RFC822.HEADER",
  "RFC822.TEXT",
]);

/** `FETCH SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att *(SP fetch-att) ")") [modifiers]`. */
export function parseFetch(reader: Reader): CommandBody {
  reader.sp();
  const set = readSequenceSet(reader);
  reader.sp();
  let items: FetchItem[];
  if (reader.tryChar("(")) {
    items = [];
    do items.push(fetchItem(reader)); while (reader.trySp());
    reader.expect(")");
  } else {
    const name = word(reader);
    if (Object.hasOwn(MACROS, name)) {
      reader.pos += name.length;
      items = MACROS[name].map((item) => ({ ...item }));
    } else items = [fetchItem(reader)];
  }
  let changedSince: bigint | undefined;
  let vanished = false;
  if (reader.trySp()) {
    // fetch-modifiers (RFC 7162 §3.1.4.1, §3.2.6).
    reader.expect("(");
    do {
      const name = reader.keyword();
      if (name === "CHANGEDSINCE" && changedSince === undefined) {
        reader.sp();
        changedSince = reader.modSequence();
      } else if (name === "VANISHED" && !vanished) vanished = true;
      else reader.fail(`Unknown or repeated FETCH modifier ${name}`);
    } while (reader.trySp());
    reader.expect(")");
    if (vanished && changedSince === undefined) reader.fail("VANISHED needs CHANGEDSINCE");
  }
  return { name: "FETCH", set, items, ...(changedSince !== undefined ? { changedSince } : {}), vanished };
}

/** Peeks the next word (letters, digits, dots) upper-cased, leaving the cursor where it was. */
function word(reader: Reader): string {
  const line = reader.line;
  let end = reader.pos;
  while (end < line.length && WORD[line[end]] === 1) end++;
  return byteString(line, reader.pos, end).toUpperCase();
}

/** Bytes of a FETCH item's or section's name: letters, digits, dots. */
const WORD = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.") WORD[c.charCodeAt(0)] = 1;

/** One fetch-att. */
function fetchItem(reader: Reader): FetchItem {
  const name = word(reader);
  reader.pos += name.length;
  if (name === "") reader.fail("Expected a FETCH item");
  const after = reader.peek();
  const ends = after < 0 || after === 0x20 || after === 0x29;
  if ((SIMPLE.has(name) || name === "BODY") && ends) return { kind: name } as FetchItem;
  if (name === "BODY" || name === "BODY.PEEK") {
    const section = readSection(reader);
    const partial = readPartial(reader);
    return { kind: "BODY[]", peek: name === "BODY.PEEK", section, ...(partial ? { partial } : {}) };
  }
  if (name === "BINARY" || name === "BINARY.PEEK" || name === "BINARY.SIZE") {
    reader.expect("[");
    const part = readPart(reader);
    reader.expect("]");
    if (name === "BINARY.SIZE") return { kind: "BINARY.SIZE", part };
    const partial = readPartial(reader);
    return { kind: "BINARY[]", peek: name === "BINARY.PEEK", part, ...(partial ? { partial } : {}) };
  }
  return reader.fail(`Unknown FETCH item ${name.slice(0, 40)}`);
}

/** `section-part`: nz-number *("." nz-number), possibly empty. */
function readPart(reader: Reader): number[] {
  const part: number[] = [];
  if (reader.peek() < 0x31 || reader.peek() > 0x39) return part;
  part.push(reader.nzNumber());
  while (reader.peek() === 0x2e && reader.peek(1) >= 0x30 && reader.peek(1) <= 0x39) {
    reader.pos++;
    part.push(reader.nzNumber());
  }
  return part;
}

/** `section = "[" [section-spec] "]"` (RFC 9051 §9). */
function readSection(reader: Reader): Section {
  reader.expect("[");
  const part = readPart(reader);
  if (part.length > 0 && !reader.tryChar(".")) {
    reader.expect("]");
    return { part };
  }
  if (reader.tryChar("]")) {
    if (part.length > 0) reader.fail("Expected a section text after the part");
    return { part };
  }
  const text = word(reader);
  reader.pos += text.length;
  const section: Section = { part };
  if (text === "HEADER" || text === "TEXT" || (text === "MIME" && part.length > 0)) {
    section.text = text;
  } else if (text === "HEADER.FIELDS" || text === "HEADER.FIELDS.NOT") {
    section.text = text;
    reader.sp();
    reader.expect("(");
    const fields: string[] = [];
    do fields.push(reader.astring()); while (reader.trySp());
    reader.expect(")");
    section.fields = fields;
  } else reader.fail(`Unknown section ${text.slice(0, 40)}`);
  reader.expect("]");
  return section;
}

/** `partial = "<" number64 "." nz-number64 ">"` (RFC 9051 §9). */
function readPartial(reader: Reader): Partial | undefined {
  if (!reader.tryChar("<")) return undefined;
  const offset = reader.number();
  reader.expect(".");
  const length = reader.nzNumber();
  reader.expect(">");
  return { offset, length };
}

/** `STORE SP sequence-set [SP "(" UNCHANGEDSINCE mod-sequence-valzer ")"] SP store-att-flags`. */
export function parseStore(reader: Reader): CommandBody {
  reader.sp();
  const set = readSequenceSet(reader);
  reader.sp();
  let unchangedSince: bigint | undefined;
  if (reader.tryChar("(")) {
    const name = reader.keyword();
    if (name !== "UNCHANGEDSINCE") reader.fail(`Unknown STORE modifier ${name}`);
    reader.sp();
    unchangedSince = reader.modSequence(true);
    reader.expect(")");
    reader.sp();
  }
  const item = reader.keyword();
  const match = /^([+-]?)FLAGS(\.SILENT)?$/.exec(item);
  if (!match) return reader.fail(`Unknown STORE item ${item.slice(0, 40)}`);
  reader.sp();
  const flags = reader.peek() === 0x28 ? readFlagList(reader) : readFlags(reader);
  const operation = match[1] === "+" ? "add" : match[1] === "-" ? "remove" : "replace";
  return {
    name: "STORE",
    set,
    ...(unchangedSince !== undefined ? { unchangedSince } : {}),
    operation,
    silent: match[2] !== undefined,
    flags,
  };
}

/** `flag-list = "(" [flag *(SP flag)] ")"`. */
export function readFlagList(reader: Reader): Flag[] {
  reader.expect("(");
  if (reader.tryChar(")")) return [];
  const flags = readFlags(reader);
  reader.expect(")");
  return flags;
}

/** `flag *(SP flag)`. */
function readFlags(reader: Reader): Flag[] {
  const flags: Flag[] = [];
  do flags.push(readFlag(reader)); while (reader.trySp());
  return flags;
}

/** `flag = "\" atom / atom` (a system flag, a flag extension or a keyword). */
export function readFlag(reader: Reader): Flag {
  if (reader.tryChar("\\")) {
    if (!isAtomChar(reader.peek())) reader.fail("Expected a flag name after \\");
    return "\\" + reader.atom();
  }
  return reader.atom();
}
