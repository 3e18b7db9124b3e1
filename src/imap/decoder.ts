/**
 * The command decoder (the contract's `CommandDecoder`, command.ts): bytes from the connection in,
 * `DecodeEvent`s out. It frames commands (RFC 9051 §4.3: lines, synchronizing literals `{n}` that
 * need a `+` continuation, non-synchronizing `{n+}` of LITERAL+/LITERAL- (RFC 7888), literal8
 * `~{n}` of BINARY (RFC 3516)) and hands each whole command to the parser (parser.ts).
 *
 * Choices, all bounded by `DecoderLimits`:
 * - A line ends at LF; a CR before it is dropped, and a bare LF is accepted, as Dovecot does.
 * - An empty line is ignored.
 * - The line text of a command (every line of it, without literals) is at most `maxLine` bytes; a
 *   longer command is refused (`bad`, code TOOBIG) as soon as it passes the limit and the rest of
 *   it is skipped without being kept.
 * - The literals of a command are at most `maxAppendLiteral` bytes in all for APPEND and `maxLiteral`
 *   for any other command, checked on the announcement, before a byte of it is read or allocated.
 *   Past the limit, a synchronizing literal is refused (`tooBig` for APPEND, `bad` TOOBIG otherwise)
 *   and the client sends nothing more of that command; a non-synchronizing one is `tooBig` with
 *   `close: true` (RFC 7888 §4 lets the server close rather than read it).
 * - Before a `+` continuation, a command whose tag is invalid or whose name is unknown is refused
 *   (`bad`), so the client sends no literal for it (RFC 9051 §7.5).
 * - A literal is read to exactly its announced size, never past it. A command refused while being
 *   read is skipped to its end, literals included (non-synchronizing ones are read and dropped).
 * - After a command that may change how the stream continues (AUTHENTICATE, IDLE, STARTTLS,
 *   COMPRESS) the decoder pauses: the bytes after it stay unread until the next `push`, so the
 *   session sets `lineMode` first (call `push(new Uint8Array(0))` to go on with what was already
 *   read), and after STARTTLS or COMPRESS takes them with `takePending()` (STARTTLS discards them:
 *   a command sent before the handshake must never run after it).
 * - `lineMode(true)` reads the next line raw (one line; then commands again).
 */
import type { CommandDecoder, DecodeEvent, DecoderLimits } from "./command.ts";
import { isCommandName, parseCommand, printable } from "./parser.ts";
import { byteString, isAstringChar, type LiteralPart } from "./parser_reader.ts";
import { joinBytes } from "../model/bytes.ts";

/** The decoder with what Postern adds to the contract. */
export interface ImapCommandDecoder extends CommandDecoder {
  /** Takes the bytes read after a pausing command and not decoded (see the module comment). */
  takePending(): Uint8Array;
  /** How many bytes the decoder holds now (line text, literals, paused bytes): its memory cost. */
  buffered(): number;
}

/** Commands after which the decoder pauses. */
const PAUSE_AFTER = new Set(["AUTHENTICATE", "IDLE", "STARTTLS", "COMPRESS"]);
const LF = 0x0a;
const CR = 0x0d;
/** How much of a skipped line is kept to see whether it announces a literal. */
const TAIL = 32;
const CONTINUE_TEXT = "Ready for literal data";
const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder();

/** Creates a decoder for one connection. */
export function createCommandDecoder(limits: DecoderLimits): ImapCommandDecoder {
  return new Decoder(limits);
}

type State = "line" | "literal" | "skipLine" | "skipLiteral" | "closed";

/** A literal announcement at the end of a line. */
interface Announcement {
  size: number;
  sync: boolean;
  binary: boolean;
}

class Decoder implements ImapCommandDecoder {
  #state: State = "line";
  #utf8 = false;
  #rawLine = false;
  #paused = false;
  #held: Uint8Array | undefined;
  /** The current command's line text (all its lines, CRLFs dropped, literals apart). */
  #text = new ByteBuffer();
  #literals: LiteralPart[] = [];
  #literalTotal = 0;
  #literal: { chunks: Uint8Array[]; remaining: number; binary: boolean; at: number } | undefined;
  /** While skipping: the last bytes of the skipped line, and what remains of a skipped literal. */
  #tail = "";
  #skipRemaining = 0;

  constructor(readonly limits: DecoderLimits) {}

  lineMode(on: boolean): void {
    this.#rawLine = on;
  }

  utf8(on: boolean): void {
    this.#utf8 = on;
  }

  takePending(): Uint8Array {
    const held = this.#held ?? new Uint8Array(0);
    this.#held = undefined;
    this.#paused = false;
    return held;
  }

  buffered(): number {
    let literals = 0;
    for (const part of this.#literals) literals += part.bytes.length;
    for (const chunk of this.#literal?.chunks ?? []) literals += chunk.length;
    return this.#text.length + literals + (this.#held?.length ?? 0);
  }

  push(chunk: Uint8Array): DecodeEvent[] {
    const events: DecodeEvent[] = [];
    if (this.#state === "closed") return events;
    let data = chunk;
    if (this.#held) {
      data = joinBytes([this.#held, chunk]);
      this.#held = undefined;
    }
    this.#paused = false;
    let i = 0;
    while (i < data.length && !this.#paused && !this.#closed()) {
      if (this.#state === "literal") i = this.#readLiteral(data, i);
      else if (this.#state === "skipLiteral") {
        const take = Math.min(this.#skipRemaining, data.length - i);
        this.#skipRemaining -= take;
        i += take;
        if (this.#skipRemaining === 0) [this.#state, this.#tail] = ["skipLine", ""];
      } else {
        const lf = data.indexOf(LF, i);
        const end = lf < 0 ? data.length : lf;
        if (this.#state === "line") this.#appendLine(data.subarray(i, end), events);
        else this.#keepTail(data.subarray(i, end));
        i = lf < 0 ? data.length : lf + 1;
        if (lf >= 0) this.#lineEnded(events);
      }
    }
    if (this.#paused && i < data.length) this.#held = data.slice(i);
    return events;
  }

  #closed(): boolean {
    return this.#state === "closed";
  }

  #readLiteral(data: Uint8Array, i: number): number {
    const literal = this.#literal!;
    const take = Math.min(literal.remaining, data.length - i);
    literal.chunks.push(data.slice(i, i + take));
    literal.remaining -= take;
    if (literal.remaining === 0) this.#literalDone();
    return i + take;
  }

  #literalDone(): void {
    const literal = this.#literal!;
    const bytes = literal.chunks.length === 1 ? literal.chunks[0] : joinBytes(literal.chunks);
    this.#literals.push({ at: literal.at, bytes, binary: literal.binary });
    this.#literal = undefined;
    this.#state = "line";
  }

  /** Adds bytes of the current line, or starts skipping the command when they pass the limit. */
  #appendLine(bytes: Uint8Array, events: DecodeEvent[]): void {
    // One byte over maxLine is allowed for the CR the line may end with.
    if (this.#text.length + bytes.length <= this.limits.maxLine + 1) {
      this.#text.append(bytes);
      return;
    }
    // Keep what fits, so the refusal can name the command's tag.
    this.#text.append(bytes.subarray(0, Math.min(256, this.limits.maxLine + 1 - this.#text.length)));
    if (this.#rawLine) {
      this.#rawLine = false;
      events.push({ type: "bad", text: "Line too long", code: "TOOBIG" });
    } else events.push(this.#refuse("Command line too long"));
    this.#keepTail(this.#text.view().subarray(-TAIL));
    this.#keepTail(bytes);
    this.#reset();
    this.#state = "skipLine";
  }

  #keepTail(bytes: Uint8Array): void {
    this.#tail = (this.#tail + latin1.decode(bytes.subarray(-TAIL))).slice(-TAIL);
  }

  #lineEnded(events: DecodeEvent[]): void {
    if (this.#state === "skipLine") return this.#skipLineEnded(events);
    if (this.#text.length > 0 && this.#text.last() === CR) this.#text.length--;
    if (this.#rawLine && this.#literals.length === 0) {
      this.#rawLine = false;
      events.push({ type: "line", line: utf8.decode(this.#text.view()) });
      return this.#reset();
    }
    if (this.#text.length > this.limits.maxLine) {
      events.push(this.#refuse("Command line too long"));
      this.#keepTail(this.#text.view().subarray(-TAIL));
      this.#reset();
      return this.#skipLineEnded(events);
    }
    const announced = announcement(this.#text.view(), this.#lineStart());
    if (announced) return this.#announced(announced, events);
    if (this.#text.length === 0 && this.#literals.length === 0) return; // an empty line
    const result = parseCommand(this.#text.view(), this.#literals, { utf8: this.#utf8 });
    if (result.ok) {
      events.push({ type: "command", command: result.command });
      const name = result.command.body.name;
      if (PAUSE_AFTER.has(name)) this.#paused = true;
    } else {
      const { tag, text, code } = result;
      events.push({ type: "bad", ...(tag !== undefined ? { tag } : {}), text, ...(code ? { code } : {}) });
    }
    this.#reset();
  }

  /** Where the current line starts in the command's text (after the last literal). */
  #lineStart(): number {
    return this.#literals.length === 0 ? 0 : this.#literals[this.#literals.length - 1].at;
  }

  /** A line that ends with a literal announcement: refuse it, or read the literal. */
  #announced(announced: Announcement, events: DecodeEvent[]): void {
    const append = isAppend(this.#text.view());
    let limit = append ? this.limits.maxAppendLiteral : this.limits.maxLiteral;
    if (!announced.sync) limit = Math.min(limit, this.limits.maxNonSynchronizingLiteral ?? limit);
    if (announced.size > limit - this.#literalTotal) {
      const tag = tagOf(this.#text.view());
      const text = `Literal of ${announced.size} bytes is over the limit of ${limit}`;
      const close = !announced.sync;
      if (close || append) events.push({ type: "tooBig", ...(tag ? { tag } : {}), text, close });
      else events.push({ type: "bad", ...(tag ? { tag } : {}), text, code: "TOOBIG" });
      this.#reset();
      if (close) this.#state = "closed";
      return;
    }
    if (announced.sync) {
      // Before asking for the literal, refuse a command that cannot become valid (RFC 9051 §7.5:
      // a BAD instead of the continuation, and the client sends no literal).
      const refusal = this.#literals.length === 0 ? hopeless(this.#text.view()) : undefined;
      if (refusal) {
        const tag = tagOf(this.#text.view());
        events.push({ type: "bad", ...(tag ? { tag } : {}), text: refusal });
        return this.#reset();
      }
      events.push({ type: "continue", text: CONTINUE_TEXT });
    }
    this.#literalTotal += announced.size;
    this.#literal = {
      chunks: [],
      remaining: announced.size,
      binary: announced.binary,
      at: this.#text.length,
    };
    if (announced.size === 0) this.#literalDone();
    else this.#state = "literal";
  }

  /** The end of a skipped line: skip a non-synchronizing literal it announces, else the command is over. */
  #skipLineEnded(events: DecodeEvent[]): void {
    const tail = this.#tail.endsWith("\r") ? this.#tail.slice(0, -1) : this.#tail;
    this.#tail = "";
    const announced = announcement(new TextEncoder().encode(tail), 0);
    if (!announced || announced.sync || announced.size === 0) {
      this.#state = "line";
      return;
    }
    if (announced.size > this.limits.maxAppendLiteral) {
      events.push({
        type: "tooBig",
        text: `Literal of ${announced.size} bytes is over the limit`,
        close: true,
      });
      this.#state = "closed";
      return;
    }
    this.#state = "skipLiteral";
    this.#skipRemaining = announced.size;
  }

  /** A `bad` event for the current command (with its tag when one can be read). */
  #refuse(text: string): DecodeEvent {
    const tag = tagOf(this.#text.view());
    return { type: "bad", ...(tag ? { tag } : {}), text, code: "TOOBIG" };
  }

  #reset(): void {
    this.#text.clear();
    this.#literals = [];
    this.#literalTotal = 0;
    this.#literal = undefined;
    this.#state = "line";
  }
}

/**
 * The literal a line announces at its end (`{n}`, `{n+}`, `~{n}`, `~{n+}`), unless the `{` is
 * inside a quoted string; sizes past 2^53 count as infinite (always over the limit).
 */
function announcement(line: Uint8Array, start: number): Announcement | undefined {
  if (line.length === 0 || line[line.length - 1] !== 0x7d) return undefined;
  let open = line.lastIndexOf(0x7b);
  if (open < start) return undefined;
  let inQuote = false;
  for (let k = start; k < open; k++) {
    if (line[k] === 0x5c && inQuote) k++;
    else if (line[k] === 0x22) inQuote = !inQuote;
  }
  if (inQuote) return undefined;
  const inner = byteString(line, open + 1, line.length - 1);
  const match = /^(\d+)(\+?)$/.exec(inner);
  if (!match) return undefined;
  const binary = open > start && line[open - 1] === 0x7e;
  if (binary) open--;
  const size = match[1].length > 15 ? Infinity : Number(match[1]);
  return { size, sync: match[2] === "", binary };
}

/** Why a command's first line cannot start a valid command (bad tag, unknown name), if so. */
function hopeless(line: Uint8Array): string | undefined {
  if (!tagOf(line)) return "Invalid tag";
  const match = /^\S+ (?:UID )?([^ ]*)/i.exec(byteString(line, 0, Math.min(line.length, 64)));
  const name = match?.[1].toUpperCase() ?? "";
  return isCommandName(name) ? undefined : printable(`Unknown command ${name.slice(0, 40)}`);
}

/** The tag a command line starts with, if it has a valid one. */
function tagOf(line: Uint8Array): string | undefined {
  let end = 0;
  while (end < line.length && end < 256 && isAstringChar(line[end]) && line[end] !== 0x2b) end++;
  if (end === 0 || (end < line.length && line[end] !== 0x20)) return undefined;
  return byteString(line, 0, end);
}

/** Whether the command is an APPEND (its literals have the message size limit). */
function isAppend(line: Uint8Array): boolean {
  return /^\S+ APPEND /i.test(byteString(line, 0, Math.min(line.length, 64)));
}

/** A growable byte buffer for the line text of one command. */
class ByteBuffer {
  #bytes = new Uint8Array(256);
  length = 0;

  append(bytes: Uint8Array): void {
    if (this.length + bytes.length > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(this.#bytes.length * 2, this.length + bytes.length));
      grown.set(this.#bytes.subarray(0, this.length));
      this.#bytes = grown;
    }
    this.#bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  last(): number {
    return this.#bytes[this.length - 1];
  }

  view(): Uint8Array {
    return this.#bytes.subarray(0, this.length);
  }

  clear(): void {
    this.length = 0;
    if (this.#bytes.length > 4096) this.#bytes = new Uint8Array(256);
  }
}
