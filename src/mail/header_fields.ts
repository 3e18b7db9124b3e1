/**
 * The header fields of a raw message as byte ranges, so fields can be dropped without touching a
 * byte of the rest (a DKIM signature covers exact bytes). Read as latin1: one character per byte.
 */

/** One header field: its lower-cased name, its unfolded value, and where it lies in the message. */
export interface HeaderField {
  name: string;
  value: string;
  start: number;
  /** Just past the field's last CRLF. */
  end: number;
}

/** The header fields of `message` up to the empty line (a message without one is all header). */
export function headerFields(message: Uint8Array): HeaderField[] {
  // Only the header is decoded: a 10 MB body is never turned into a string here.
  const blank = indexOfBlankLine(message);
  const headEnd = blank < 0 ? message.length : blank + 2;
  const text = new TextDecoder("latin1").decode(message.subarray(0, headEnd));
  const fields: HeaderField[] = [];
  let start = 0;
  while (start < headEnd) {
    let end = text.indexOf("\r\n", start);
    end = end < 0 || end >= headEnd ? headEnd : end + 2;
    // Continuation lines (starting with a space or tab) belong to the field above.
    while (end < headEnd && (text[end] === " " || text[end] === "\t")) {
      const next = text.indexOf("\r\n", end);
      end = next < 0 || next >= headEnd ? headEnd : next + 2;
    }
    const raw = text.slice(start, end);
    const colon = raw.indexOf(":");
    if (colon > 0) {
      fields.push({
        name: raw.slice(0, colon).trim().toLowerCase(),
        value: raw.slice(colon + 1).replace(/\r\n/g, "").trim(),
        start,
        end,
      });
    }
    start = end;
  }
  return fields;
}

/** Where the first CRLF CRLF starts, or -1. */
function indexOfBlankLine(bytes: Uint8Array): number {
  for (let i = bytes.indexOf(13); i >= 0 && i + 3 < bytes.length; i = bytes.indexOf(13, i + 1)) {
    if (bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}

/** `message` without the given fields (ranges from {@link headerFields} of the same message). */
export function withoutFields(message: Uint8Array, drop: readonly HeaderField[]): Uint8Array {
  if (!drop.length) return message;
  const sorted = [...drop].sort((a, b) => a.start - b.start);
  const out = new Uint8Array(message.length - sorted.reduce((n, f) => n + f.end - f.start, 0));
  let at = 0;
  let from = 0;
  for (const field of sorted) {
    out.set(message.subarray(from, field.start), at);
    at += field.start - from;
    from = field.end;
  }
  out.set(message.subarray(from), at);
  return out;
}

/**
 * The authserv-id of an Authentication-Results value (RFC 8601 §2.2: the first token, before an
 * optional version and the first ";"), lower-cased without comments and quotes; "" if none.
 */
export function authservIdOf(value: string): string {
  const head = value.split(";")[0].replace(/\([^)]*\)/g, " ").trim();
  return head.split(/\s+/)[0].replace(/^"|"$/g, "").toLowerCase();
}
