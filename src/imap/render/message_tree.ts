/**
 * A stored message made ready for FETCH: its octets with every bare LF made CRLF (Dovecot serves
 * Maildir messages so, and IMAP literals are CRLF text; a message already in CRLF is not copied),
 * and its part tree with byte ranges from the MIME parser (src/mail/mime/), parsed once and lazily.
 * An encapsulated message (message/rfc822) is parsed when it is first reached, so a section of one
 * part never costs a parse of the others' contents.
 */
import { type MimePart, parseMime } from "../../mail/mime/mod.ts";
import { type HeaderField, headerFields } from "./header_fields.ts";

/** Deepest message/rfc822 nesting that is parsed; deeper ones are opaque (MIME_LIMITS bounds the rest). */
const MAX_MESSAGE_DEPTH = 10;

/** One part: byte ranges in the message, and its children. */
export interface RenderPart {
  /** Where its header starts, its body starts, and it ends. */
  start: number;
  bodyStart: number;
  end: number;
  /** Media type in lower case from the MIME parser (defaults applied). */
  type: string;
  /** Content-Transfer-Encoding in lower case ("7bit" when absent). */
  encoding: string;
  /** Parts of a multipart (never empty: Dovecot shows an empty text/plain part when none was found). */
  children: RenderPart[] | null;
  /** Whether this part sits directly in a multipart/digest (its default type is message/rfc822). */
  inDigest: boolean;
  depth: number;
  /** The header's fields, read on first use. */
  fields(): HeaderField[];
  /** The encapsulated message of a message/rfc822 part, parsed on first use; null otherwise. */
  message(): RenderPart | null;
}

/** A message ready for rendering. */
export class ImapMessage {
  /** The octets served: the stored message with bare LFs made CRLF. */
  readonly bytes: Uint8Array;
  #root: RenderPart | undefined;

  constructor(raw: Uint8Array) {
    this.bytes = crlf(raw);
  }

  /** The size FETCH RFC822.SIZE reports: that of the octets served. */
  get size(): number {
    return this.bytes.length;
  }

  /** The message's top part (header and body of the whole message). */
  get root(): RenderPart {
    this.#root ??= parseAt(this.bytes, 0, this.bytes.length, 0);
    return this.#root;
  }
}

/** `raw` with every LF not preceded by CR preceded by one; `raw` itself when there is none. */
export function crlf(raw: Uint8Array): Uint8Array {
  let bare = 0;
  for (let i = raw.indexOf(10); i !== -1; i = raw.indexOf(10, i + 1)) {
    if (i === 0 || raw[i - 1] !== 13) bare++;
  }
  if (bare === 0) return raw;
  const out = new Uint8Array(raw.length + bare);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 10 && (i === 0 || raw[i - 1] !== 13)) out[n++] = 13;
    out[n++] = raw[i];
  }
  return out;
}

/** Parses the message in `[start, end)` of `bytes`. */
function parseAt(bytes: Uint8Array, start: number, end: number, depth: number): RenderPart {
  const mime = parseMime(bytes.subarray(start, end));
  return wrap(bytes, mime, start, depth, false);
}

function wrap(bytes: Uint8Array, mime: MimePart, base: number, depth: number, inDigest: boolean): RenderPart {
  const part: RenderPart = {
    start: base + mime.start,
    bodyStart: base + mime.bodyStart,
    end: base + mime.end,
    type: mime.type,
    encoding: mime.encoding,
    children: null,
    inDigest,
    depth,
    fields: () => {
      const fields = headerFields(bytes, part.start, part.bodyStart);
      part.fields = () => fields;
      return fields;
    },
    message: () => {
      const inner = part.type === "message/rfc822" && depth < MAX_MESSAGE_DEPTH
        ? parseAt(bytes, part.bodyStart, part.end, depth + 1)
        : null;
      part.message = () => inner;
      return inner;
    },
  };
  if (isMultipart(bytes, part)) {
    const digest = mime.type === "multipart/digest";
    const children = (mime.subParts ?? []).map((child) => wrap(bytes, child, base, depth, digest));
    part.children = children.length > 0 ? children : [emptyPart(part)];
    // Dovecot counts the line break after a nested multipart's closing boundary as its own.
    for (const child of children) {
      if (!child.children) continue;
      if (bytes[child.end] === 13 && bytes[child.end + 1] === 10 && child.end + 2 <= part.end) child.end += 2;
    }
  }
  return part;
}

/**
 * Whether the part is a multipart by its Content-Type as sent: the MIME parser makes one without a
 * boundary a text part, Dovecot keeps it a multipart (with one empty part), and so does FETCH.
 */
function isMultipart(bytes: Uint8Array, part: RenderPart): boolean {
  if (part.type.startsWith("multipart/")) return true;
  const field = part.fields().findLast((f) => f.name.toLowerCase() === "content-type");
  if (!field) return false;
  const value = String.fromCharCode(
    ...bytes.subarray(field.valueStart, Math.min(field.end, field.valueStart + 64)),
  );
  return /^\s*multipart\s*\//i.test(value);
}

/** The empty text/plain part of a multipart in which no part was found. */
function emptyPart(parent: RenderPart): RenderPart {
  return {
    start: parent.end,
    bodyStart: parent.end,
    end: parent.end,
    type: "text/plain",
    encoding: "7bit",
    children: null,
    inDigest: false,
    depth: parent.depth,
    fields: () => [],
    message: () => null,
  };
}
