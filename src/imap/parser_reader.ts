/**
 * The token reader the command parser walks (RFC 9051 §4 and §9): atoms, numbers, quoted strings,
 * literals, astrings, nstrings and mailbox names over one command. The command arrives as its line
 * text (every line of it joined, literal announcements kept in place, CRLFs dropped) and the literal
 * contents the decoder collected apart, each with the offset of the character after its `}`: a
 * `{n}` is a literal only where the decoder framed one, so a `{5}` in the middle of a line is bad.
 *
 * Read in order: ParseError, character classes, Reader (positions, atoms, numbers, strings, mailboxes).
 */
import { decodeModifiedUtf7 } from "./utf7.ts";

/** A command the grammar refuses; the session answers BAD with this text (and the code, if any). */
export class ParseError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

/** A literal the decoder read: where its announcement ends in the line, its bytes, `~{n}` or not. */
export interface LiteralPart {
  at: number;
  bytes: Uint8Array;
  binary: boolean;
}

/** The largest nz-number / number (RFC 9051 §9: 2^32-1). */
export const MAX_NUMBER = 4294967295;
/** The largest mod-sequence value (RFC 7162 §7: 2^63-1). */
export const MAX_MODSEQ = 9223372036854775807n;

const ATOM_SPECIALS = new Uint8Array(256);
for (const c of '(){ %*"\\]') ATOM_SPECIALS[c.charCodeAt(0)] = 1;
for (let c = 0; c < 0x20; c++) ATOM_SPECIALS[c] = 1;
ATOM_SPECIALS[0x7f] = 1;
for (let c = 0x80; c < 0x100; c++) ATOM_SPECIALS[c] = 1;

/** ATOM-CHAR: any CHAR except atom-specials (so no 8-bit byte). */
export function isAtomChar(byte: number): boolean {
  return ATOM_SPECIALS[byte] === 0;
}

/** ASTRING-CHAR: ATOM-CHAR or `]`. */
export function isAstringChar(byte: number): boolean {
  return ATOM_SPECIALS[byte] === 0 || byte === 0x5d;
}

/** list-char: ATOM-CHAR, list-wildcards or resp-specials (RFC 9051 §9). */
function isListChar(byte: number): boolean {
  return ATOM_SPECIALS[byte] === 0 || byte === 0x25 || byte === 0x2a || byte === 0x5d;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");

/** Bytes as a string of the same char codes; short runs (atoms, numbers) skip TextDecoder's cost. */
export function byteString(bytes: Uint8Array, start = 0, end = bytes.length): string {
  if (end - start > 64) return latin1.decode(bytes.subarray(start, end));
  let text = "";
  for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]);
  return text;
}

/** A cursor over one command. */
export class Reader {
  pos = 0;
  #literal = 0;

  constructor(
    readonly line: Uint8Array,
    readonly literals: LiteralPart[],
    readonly options: { utf8: boolean },
  ) {}

  /** The byte at the cursor, or -1 at the end. */
  peek(offset = 0): number {
    const at = this.pos + offset;
    return at < this.line.length ? this.line[at] : -1;
  }

  /** True when the whole command has been read. */
  atEnd(): boolean {
    return this.pos >= this.line.length;
  }

  /** Refuses the command with `message`, naming where it stopped. */
  fail(message: string, code?: string): never {
    throw new ParseError(message, code);
  }

  /** Reads one SP. */
  sp(): void {
    if (this.peek() !== 0x20) this.fail(this.atEnd() ? "Missing argument" : "Expected a space");
    this.pos++;
  }

  /** Reads one SP if there is one. */
  trySp(): boolean {
    if (this.peek() !== 0x20) return false;
    this.pos++;
    return true;
  }

  /** Reads the byte `char` (one ASCII character). */
  expect(char: string): void {
    if (this.peek() !== char.charCodeAt(0)) this.fail(`Expected "${char}"`);
    this.pos++;
  }

  /** Reads `char` if it is next. */
  tryChar(char: string): boolean {
    if (this.peek() !== char.charCodeAt(0)) return false;
    this.pos++;
    return true;
  }

  /** Refuses anything after the end of the command's grammar. */
  end(): void {
    if (this.peek() >= 0x80) this.fail("8-bit character outside a quoted string or literal");
    if (!this.atEnd()) this.fail("Unexpected characters after the command");
    if (this.#literal < this.literals.length) this.fail("Unexpected literal");
  }

  /** Reads a run of bytes accepted by `accept` (at least one), as ASCII text. */
  #run(accept: (byte: number) => boolean, what: string): string {
    const start = this.pos;
    while (this.pos < this.line.length && accept(this.line[this.pos])) this.pos++;
    if (this.pos === start) {
      const byte = this.peek();
      this.fail(byte >= 0x80 ? `8-bit character where ${what} was expected` : `Expected ${what}`);
    }
    return byteString(this.line, start, this.pos);
  }

  /** Reads an atom (RFC 9051 `atom`). */
  atom(): string {
    return this.#run(isAtomChar, "an atom");
  }

  /** Reads an atom and upper-cases it (keywords of the grammar are case-insensitive). */
  keyword(): string {
    return this.atom().toUpperCase();
  }

  /** Reads the characters of a tag (1*<ASTRING-CHAR except "+">). */
  tag(): string {
    return this.#run((b) => isAstringChar(b) && b !== 0x2b, "a tag");
  }

  /** True if the next bytes are `word` (case-insensitive) followed by a non-atom character. */
  lookingAt(word: string): boolean {
    for (let i = 0; i < word.length; i++) {
      const byte = this.peek(i);
      if (byte < 0 || String.fromCharCode(byte).toUpperCase() !== word[i]) return false;
    }
    const after = this.peek(word.length);
    return after < 0 || !isAtomChar(after);
  }

  /** Reads a `number` (0 … 2^32-1). */
  number(): number {
    const digits = this.#run((b) => b >= 0x30 && b <= 0x39, "a number");
    if (digits.length > 10 || Number(digits) > MAX_NUMBER) this.fail(`Number too large: ${digits}`);
    return Number(digits);
  }

  /** Reads an `nz-number` (1 … 2^32-1). */
  nzNumber(): number {
    if (this.peek() === 0x30) this.fail("Expected a non-zero number");
    return this.number();
  }

  /** Reads a `number64` (RFC 9051) up to Number.MAX_SAFE_INTEGER, as a number. */
  number64(): number {
    const value = this.modSequence(true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`Number too large: ${value}`);
    return Number(value);
  }

  /** Reads a `mod-sequence-value` (1 … 2^63-1), or with `zero` a `mod-sequence-valzer`. */
  modSequence(zero = false): bigint {
    const digits = this.#run((b) => b >= 0x30 && b <= 0x39, "a number");
    if (digits.length > 19 || BigInt(digits) > MAX_MODSEQ) this.fail(`Number too large: ${digits}`);
    if (digits.length > 1 && digits[0] === "0") this.fail(`Malformed number: ${digits}`);
    const value = BigInt(digits);
    if (!zero && value === 0n) this.fail("Expected a non-zero mod-sequence");
    return value;
  }

  /** True if a literal (`{n}`, `{n+}`, or `~{n}` with `binary`) starts at the cursor. */
  atLiteral(binary = false): boolean {
    const byte = this.peek();
    return byte === 0x7b || (binary && byte === 0x7e && this.peek(1) === 0x7b);
  }

  /** Reads a literal at the cursor: its bytes and whether it was a literal8. */
  literal(binary = false): LiteralPart {
    const tilde = this.tryChar("~");
    if (tilde && !binary) this.fail("literal8 is only allowed in APPEND");
    const close = this.line.indexOf(0x7d, this.pos);
    const part = this.literals[this.#literal];
    const inner = close < 0 ? "" : byteString(this.line, this.pos + 1, close);
    if (part === undefined || part.at !== close + 1 || !/^\d+\+?$/.test(inner)) {
      this.fail("Malformed literal");
    }
    this.#literal++;
    this.pos = close + 1;
    return { at: part.at, bytes: part.bytes, binary: tilde };
  }

  /** Reads a quoted string's or a literal's bytes (RFC 9051 `string`). */
  stringBytes(): Uint8Array {
    if (this.atLiteral()) {
      const { bytes } = this.literal();
      if (bytes.includes(0)) this.fail("NUL in a literal (only literal8 may hold one)");
      return bytes;
    }
    if (this.peek() !== 0x22) this.fail("Expected a string");
    this.pos++;
    const out: number[] = [];
    for (;;) {
      const byte = this.peek();
      if (byte < 0) this.fail("Unterminated quoted string");
      this.pos++;
      if (byte === 0x22) break;
      if (byte === 0x5c) {
        const next = this.peek();
        if (next !== 0x22 && next !== 0x5c) this.fail("Bad escape in a quoted string");
        out.push(next);
        this.pos++;
      } else if (byte === 0x0d || byte === 0x0a || byte === 0) {
        this.fail("Control character in a quoted string");
      } else if (byte >= 0x80 && !this.options.utf8) {
        this.fail("8-bit character in a quoted string (use a literal, or enable UTF8=ACCEPT)");
      } else out.push(byte);
    }
    return Uint8Array.from(out);
  }

  /** Reads a `string` as text (UTF-8; invalid UTF-8 is refused). */
  string(): string {
    return this.text(this.stringBytes());
  }

  /** Reads an `astring`: an atom (with `]`) or a string. */
  astring(): string {
    const byte = this.peek();
    if (byte === 0x22 || byte === 0x7b) return this.string();
    if (byte === 0x7e && this.peek(1) === 0x7b) this.literal(); // refused: a literal8 outside APPEND
    return this.#run(isAstringChar, "an atom or a string");
  }

  /** Reads an `nstring`: NIL (null) or a string. */
  nstring(): string | null {
    if (this.lookingAt("NIL")) {
      this.pos += 3;
      return null;
    }
    return this.string();
  }

  /** Decodes bytes as UTF-8, refusing invalid sequences. */
  text(bytes: Uint8Array): string {
    try {
      return utf8.decode(bytes);
    } catch {
      return this.fail("Invalid UTF-8 in a string");
    }
  }

  /** Reads a mailbox name and decodes it (see decodeMailboxName). */
  mailbox(): string {
    return this.decodeMailbox(this.astring());
  }

  /** Reads a `list-mailbox` (a pattern: list-chars or a string) and decodes it like a mailbox. */
  listMailbox(): string {
    const byte = this.peek();
    if (byte === 0x22 || byte === 0x7b) return this.decodeMailbox(this.string());
    return this.decodeMailbox(this.#run(isListChar, "a mailbox pattern"));
  }

  /** "INBOX" in any case is INBOX; modified UTF-7 is decoded unless UTF-8 is on (RFC 6855 §3). */
  decodeMailbox(name: string): string {
    if (name.toUpperCase() === "INBOX") return "INBOX";
    if (this.options.utf8) return name;
    try {
      return decodeModifiedUtf7(name);
    } catch (error) {
      return this.fail(`Mailbox name "${name}" is not valid modified UTF-7: ${(error as Error).message}`);
    }
  }
}
