/**
 * The IMAP response writer (RFC 9051 §7): values, status responses, untagged data and continuation
 * requests to bytes, escaping by construction. Read in order:
 *
 * 1. `ResponseWriter` holds the one choice that changes the encoding: whether the client enabled
 *    UTF8=ACCEPT (RFC 9051 §6.3.1), which lets a quoted string carry 8-bit text.
 * 2. Values: an atom is checked against ATOM-CHAR (a flag's leading `\` and `\*` allowed) and refused
 *    otherwise; a FETCH item name (`BODY[1.MIME]<0>`) is printable ASCII or refused; a string is quoted when it can be (no CR, LF, NUL, 8-bit only under UTF8=ACCEPT, not
 *    too long) and a literal otherwise; bytes are always a literal, `~{n}` (RFC 3516 literal8) when
 *    binary; a NUL in anything but literal8 is refused, as the grammar forbids it.
 * 3. Lines: a status response's text is one line (CR and LF become spaces), a tag is checked, and
 *    every line ends in CRLF; nothing a caller passes can start a second response.
 */
import type { ResponseCode, ResponseValue, StatusResponse } from "./command.ts";

/** A value the grammar cannot carry (a bad atom or tag, a NUL in a literal): a bug of the caller. */
export class ResponseError extends Error {}

/** The longest string written quoted; longer ones are literals (clients handle both). */
const MAX_QUOTED = 1024;

/** ATOM-CHAR of RFC 9051 §9, plus `]` (ASTRING-CHAR); a flag may start with `\`, and `\*` is one. */
const ATOM = /^\\?[!#$&'+,\-./0-9:;<=>?@A-Z\[\]^_`a-z|~]+$|^\\\*$/;
/** TEXT-CHAR of a quoted string in ASCII: printable characters and space. */
const QUOTABLE_ASCII = /^[\x20-\x7e]*$/;
/** The same with UTF-8 (RFC 9051 §4.3: under UTF8=ACCEPT a quoted string may hold any of it but CR, LF, NUL). */
// deno-lint-ignore no-control-regex
const QUOTABLE_UTF8 = /^[^\x00-\x1f\x7f]*$/u;
/** A FETCH item name: a letter, then printable ASCII (section specifiers have spaces, quotes, brackets). */
const ITEM_NAME = /^[A-Z][\x20-\x7e]*$/;
/** A tag (RFC 9051 §9 `tag`: ASTRING-CHAR except `+`). */
const TAG = /^[!#$&',\-./0-9:;<=>?@A-Z\[\]^_`a-z|~]+$/;

const encoder = new TextEncoder();

/** Whether `text` can be written as an atom. */
export function isAtom(text: string): boolean {
  return ATOM.test(text) && text.toUpperCase() !== "NIL";
}

/** Collects a response as text runs and literal bytes, then joins them once. */
class Output {
  readonly #parts: Uint8Array[] = [];
  #text = "";

  text(s: string): void {
    this.#text += s;
  }

  bytes(b: Uint8Array): void {
    if (this.#text) this.#parts.push(encoder.encode(this.#text));
    this.#text = "";
    this.#parts.push(b);
  }

  done(): Uint8Array {
    if (this.#text) this.#parts.push(encoder.encode(this.#text));
    this.#text = "";
    if (this.#parts.length === 1) return this.#parts[0];
    const out = new Uint8Array(this.#parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of this.#parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

/** Writes responses for one connection. */
export class ResponseWriter {
  /** Set once the client enabled UTF8=ACCEPT (or IMAP4rev2, whose strings are UTF-8). */
  utf8 = false;

  /** `* <values…>` untagged data, e.g. `[atom("CAPABILITY"), atom("IMAP4rev2")]`. */
  untagged(values: ResponseValue[]): Uint8Array {
    const out = new Output();
    out.text("*");
    for (const value of values) {
      out.text(" ");
      this.#value(out, value);
    }
    out.text("\r\n");
    return out.done();
  }

  /** A status response, tagged or untagged (`* OK …`, `a1 NO [NONEXISTENT] …`). */
  status(response: StatusResponse): Uint8Array {
    const out = new Output();
    out.text(response.tag === undefined ? "*" : checkTag(response.tag));
    out.text(` ${response.status}`);
    if (response.code) {
      out.text(" [");
      this.#code(out, response.code);
      out.text("]");
    }
    out.text(` ${oneLine(response.text) || response.status}\r\n`);
    return out.done();
  }

  /** A continuation request (`+ text`, or `+ base64` of a SASL challenge). */
  continuation(text: string): Uint8Array {
    return encoder.encode(`+ ${oneLine(text)}\r\n`);
  }

  /** One value alone, as it would appear inside a response (for tests and composed responses). */
  value(value: ResponseValue): Uint8Array {
    const out = new Output();
    this.#value(out, value);
    return out.done();
  }

  #code(out: Output, code: ResponseCode): void {
    out.text(checkAtom(code.name));
    for (const value of code.values ?? []) {
      out.text(" ");
      this.#value(out, value);
    }
  }

  #value(out: Output, value: ResponseValue): void {
    if (value === null) return out.text("NIL");
    if (typeof value === "number") {
      if (!Number.isSafeInteger(value) || value < 0) throw new ResponseError(`Not a number: ${value}`);
      return out.text(String(value));
    }
    if (typeof value === "bigint") {
      if (value < 0n) throw new ResponseError(`Not a number: ${value}`);
      return out.text(value.toString());
    }
    if (typeof value === "string") return this.#string(out, value);
    if (Array.isArray(value)) {
      out.text("(");
      value.forEach((item, i) => {
        if (i) out.text(" ");
        this.#value(out, item);
      });
      return out.text(")");
    }
    if ("atom" in value) return out.text(checkAtom(value.atom));
    if ("itemName" in value) return out.text(checkItemName(value.itemName));
    return literal(out, value.bytes, value.binary ?? false);
  }

  #string(out: Output, value: string): void {
    const quotable = value.length <= MAX_QUOTED &&
      (QUOTABLE_ASCII.test(value) || (this.utf8 && QUOTABLE_UTF8.test(value)));
    if (quotable) return out.text(`"${value.replace(/[\\"]/g, "\\$&")}"`);
    literal(out, encoder.encode(value), false);
  }
}

function literal(out: Output, bytes: Uint8Array, binary: boolean): void {
  if (!binary && bytes.indexOf(0) !== -1) {
    throw new ResponseError("A NUL byte can only be sent in a literal8 (binary)");
  }
  out.text(`${binary ? "~" : ""}{${bytes.length}}\r\n`);
  out.bytes(bytes);
}

function checkAtom(text: string): string {
  if (!ATOM.test(text)) throw new ResponseError(`Not an IMAP atom: ${JSON.stringify(text)}`);
  return text;
}

function checkItemName(text: string): string {
  if (!ITEM_NAME.test(text)) throw new ResponseError(`Not a FETCH item name: ${JSON.stringify(text)}`);
  return text;
}

function checkTag(tag: string): string {
  if (!TAG.test(tag)) throw new ResponseError(`Not an IMAP tag: ${JSON.stringify(tag)}`);
  return tag;
}

/** Text of a status response or continuation: one line, control characters as spaces. */
function oneLine(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f]/g, " ");
}

/** A FETCH item name (`{ itemName }`) for a response, checked as the writer will check it. */
export function itemName(text: string): { itemName: string } {
  return { itemName: checkItemName(text) };
}

/** An atom value (`{ atom }`) for a response. */
export function atom(text: string): { atom: string } {
  return { atom: checkAtom(text) };
}
