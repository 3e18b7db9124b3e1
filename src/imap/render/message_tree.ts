/**
 * A stored message made ready for FETCH: its octets with every bare LF made CRLF (Dovecot serves
 * Maildir messages so, and IMAP literals are CRLF text; a message already in CRLF is not copied),
 * and its part tree as byte ranges of those octets, scanned once and lazily. The scan works on the
 * octets themselves (no decoding of the message to text), follows the MIME parser's rules
 * (src/mail/mime/parse_mime.ts: RFC 2046 §5.1.1 boundaries, a missing closing boundary ends at the
 * end, limits on depth and count) except where Dovecot reads boundaries more loosely, and parses an encapsulated message (message/rfc822) only when
 * it is first reached, so a section of one part never costs a look at the others' contents.
 */
import { MIME_LIMITS } from "../../mail/mime/mod.ts";
import { fieldValue, type HeaderField, scanHeader } from "./header_fields.ts";
import { parseContentValue } from "./content_fields.ts";

/** Deepest message/rfc822 nesting that is parsed; deeper ones are opaque. */
const MAX_MESSAGE_DEPTH = 10;

/** One part: byte ranges in the message, and its children. */
export interface RenderPart {
  /** Where its header starts, its body starts, and it ends. */
  start: number;
  bodyStart: number;
  end: number;
  /** Media type in lower case, defaults applied (text/plain; message/rfc822 in a digest); "" when unreadable. */
  type: string;
  /** Content-Transfer-Encoding in lower case ("7bit" when absent). */
  encoding: string;
  /** Parts of a multipart (never empty: Dovecot shows an empty text/plain part when none was found). */
  children: RenderPart[] | null;
  /** Whether this part sits directly in a multipart/digest (its default type is message/rfc822). */
  inDigest: boolean;
  fields: HeaderField[];
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
    this.#root ??= scanMessage(this.bytes, 0, this.bytes.length, 0);
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

interface Scan {
  bytes: Uint8Array;
  /** Parts made so far in this message (MIME_LIMITS.maxParts). */
  count: number;
  messageDepth: number;
}

function scanMessage(bytes: Uint8Array, start: number, end: number, messageDepth: number): RenderPart {
  return scanPart({ bytes, count: 0, messageDepth }, start, end, 0, "text/plain", false);
}

function scanPart(
  scan: Scan,
  start: number,
  end: number,
  depth: number,
  defaultType: string,
  inDigest: boolean,
): RenderPart {
  const { bytes } = scan;
  scan.count++;
  const { fields, bodyStart } = scanHeader(bytes, start, end);
  // Of a Content-* field sent twice the first counts, as in Dovecot.
  const first = (name: string) => fields.find((f) => f.name.toLowerCase() === name);
  const typeField = first("content-type");
  const contentType = typeField ? parseContentValue(fieldValue(bytes, typeField), true) : null;
  const sent = contentType ? `${contentType.value}/${contentType.subtype}`.toLowerCase() : "";
  // A Content-Type that is no type at all makes an opaque part (Dovecot shows "" ""), not the default.
  const type = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(sent)
    ? sent
    : contentType?.value === ""
    ? ""
    : defaultType;
  const encodingField = first("content-transfer-encoding");
  const encoding = (encodingField ? fieldValue(bytes, encodingField).trim().toLowerCase() : "") || "7bit";
  let message: RenderPart | null | undefined;
  const part: RenderPart = {
    start,
    bodyStart,
    end,
    type,
    encoding,
    children: null,
    inDigest,
    fields,
    message: () => {
      message ??= type === "message/rfc822" && scan.messageDepth < MAX_MESSAGE_DEPTH
        ? scanMessage(bytes, bodyStart, end, scan.messageDepth + 1)
        : null;
      return message;
    },
  };
  // A multipart by its Content-Type as sent (even "multipart/"): Dovecot keeps one it cannot
  // split a multipart, with one empty part.
  if (!(contentType?.value.toLowerCase() === "multipart")) return part;
  const boundary = contentType.params.find(([name]) => name.toLowerCase() === "boundary")?.[1];
  const children: RenderPart[] = [];
  if (boundary && depth < MIME_LIMITS.maxDepth) {
    const childType = type === "multipart/digest" ? "message/rfc822" : "text/plain";
    for (const range of splitMultipart(bytes, boundary, bodyStart, end)) {
      if (scan.count >= MIME_LIMITS.maxParts) break;
      const child = scanPart(scan, range.start, range.end, depth + 1, childType, type === "multipart/digest");
      // Dovecot counts the line break after a nested multipart's closing boundary as its own.
      if (child.children && bytes[child.end] === 13 && bytes[child.end + 1] === 10 && child.end + 2 <= end) {
        child.end += 2;
      }
      children.push(child);
    }
  }
  part.children = children.length > 0 ? children : [emptyPart(end)];
  return part;
}

/**
 * The parts between the boundaries of a multipart body (RFC 2046 §5.1.1): the line break before a
 * boundary belongs to it; a body without a closing boundary ends at the end of the message.
 */
function splitMultipart(
  bytes: Uint8Array,
  boundary: string,
  start: number,
  end: number,
): { start: number; end: number }[] {
  const delimiter = new Uint8Array(boundary.length + 2);
  delimiter[0] = delimiter[1] = 45;
  for (let i = 0; i < boundary.length; i++) delimiter[i + 2] = boundary.charCodeAt(i) & 0xff;
  const parts: { start: number; end: number }[] = [];
  let partStart = -1;
  let search = start;
  while (search < end) {
    const found = find(bytes, delimiter, search, end);
    if (found === -1) break;
    if (found !== start && bytes[found - 1] !== 10) {
      search = found + 1;
      continue;
    }
    const after = found + delimiter.length;
    const closing = bytes[after] === 45 && bytes[after + 1] === 45 && after + 2 <= end;
    let lineEnd = bytes.indexOf(10, after);
    if (lineEnd === -1 || lineEnd > end) lineEnd = end;
    // Dovecot takes any line that starts with the delimiter as a boundary (what follows it on the
    // line is ignored), a stricter reading than RFC 2046's transport padding; FETCH follows Dovecot.
    if (partStart !== -1) {
      let partEnd = found;
      if (partEnd > partStart && bytes[partEnd - 1] === 10) partEnd--;
      if (partEnd > partStart && bytes[partEnd - 1] === 13) partEnd--;
      parts.push({ start: partStart, end: Math.max(partStart, partEnd) });
    }
    if (closing) return parts;
    partStart = Math.min(lineEnd + 1, end);
    search = partStart;
  }
  if (partStart !== -1 && partStart < end) parts.push({ start: partStart, end });
  return parts;
}

/** The first `needle` in `bytes[from, end)`, or -1; it looks for the first byte with indexOf. */
function find(bytes: Uint8Array, needle: Uint8Array, from: number, end: number): number {
  const last = end - needle.length;
  for (let i = bytes.indexOf(needle[0], from); i !== -1 && i <= last; i = bytes.indexOf(needle[0], i + 1)) {
    let k = 1;
    while (k < needle.length && bytes[i + k] === needle[k]) k++;
    if (k === needle.length) return i;
  }
  return -1;
}

/** The empty text/plain part of a multipart in which no part was found. */
function emptyPart(at: number): RenderPart {
  return {
    start: at,
    bodyStart: at,
    end: at,
    type: "text/plain",
    encoding: "7bit",
    children: null,
    inDigest: false,
    fields: [],
    message: () => null,
  };
}
