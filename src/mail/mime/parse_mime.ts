/**
 * The MIME part tree of a message with the byte range of every part (RFC 5322, RFC 2045, RFC 2046),
 * so a part can be served as a blob without copying it. It never fails: a header line without a
 * colon is skipped, a multipart without a boundary is one text part, a missing closing boundary
 * ends at the end of the message, and nesting past a depth or count limit stays one opaque part.
 */
import { parseParameters } from "./parameters.ts";

/** One header field: its name as written, and its raw value (RFC 8621 §4.1.2 Raw form). */
export interface MimeHeader {
  name: string;
  /** The octets after the colon up to the field's last line break, folding kept, as UTF-8. */
  value: string;
}

/** One part of a message; the message itself is the root. */
export interface MimePart {
  /** Depth-first position; the root is 0. */
  index: number;
  headers: MimeHeader[];
  /** Where the part's headers start, its body starts and its body ends, in bytes of the message. */
  start: number;
  bodyStart: number;
  end: number;
  /** The media type in lower case, e.g. "text/plain" (defaulted as RFC 2045 §5.2 and RFC 2046 §5.1.5 say). */
  type: string;
  /** Content-Type parameters, decoded (RFC 2231), names in lower case. */
  params: Record<string, string>;
  /** Content-Disposition value in lower case, or null. */
  disposition: string | null;
  dispositionParams: Record<string, string>;
  /** Content-Transfer-Encoding in lower case ("7bit" when absent). */
  encoding: string;
  /** The parts of a multipart; null for any other part. */
  subParts: MimePart[] | null;
}

/** Limits that keep a hostile message from costing more than a plain one. */
export const MIME_LIMITS = { maxDepth: 20, maxParts: 2000 } as const;

/** The part tree of `message`. */
export function parseMime(message: Uint8Array): MimePart {
  // Windows-1252 maps every byte to one UTF-16 unit, so string offsets are byte offsets.
  const text = LATIN.decode(message);
  const state = { next: 0, message };
  return parsePart(text, state, { start: 0, end: message.length, depth: 0, defaultType: "text/plain" });
}

const LATIN = new TextDecoder("windows-1252");
const UTF8 = new TextDecoder("utf-8");

interface Range {
  start: number;
  end: number;
  depth: number;
  defaultType: string;
}

function parsePart(text: string, state: { next: number; message: Uint8Array }, range: Range): MimePart {
  const index = state.next++;
  const { headers, bodyStart } = parseHeaders(text, state.message, range.start, range.end);
  const contentType = lastHeader(headers, "content-type");
  let type = range.defaultType;
  let params: Record<string, string> = {};
  if (contentType !== undefined) {
    const parsed = parseParameters(contentType);
    if (/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(parsed.value)) type = parsed.value;
    params = parsed.params;
  }
  const dispositionHeader = lastHeader(headers, "content-disposition");
  const disposition = dispositionHeader === undefined ? undefined : parseParameters(dispositionHeader);
  const encoding = (lastHeader(headers, "content-transfer-encoding") ?? "7bit").trim().toLowerCase() ||
    "7bit";
  const part: MimePart = {
    index,
    headers,
    start: range.start,
    bodyStart,
    end: range.end,
    type,
    params,
    disposition: disposition?.value || null,
    dispositionParams: disposition?.params ?? {},
    encoding,
    subParts: null,
  };
  if (!type.startsWith("multipart/")) return part;
  const boundary = params.boundary;
  if (!boundary || range.depth >= MIME_LIMITS.maxDepth || state.next >= MIME_LIMITS.maxParts) {
    // RFC 2046 §5.1.1 needs a boundary; without one (or past the limits) the body is opaque text.
    part.type = boundary ? "application/octet-stream" : "text/plain";
    return part;
  }
  const childType = type === "multipart/digest" ? "message/rfc822" : "text/plain";
  part.subParts = [];
  for (const child of splitMultipart(text, boundary, bodyStart, range.end)) {
    if (state.next >= MIME_LIMITS.maxParts) break;
    part.subParts.push(
      parsePart(text, state, { ...child, depth: range.depth + 1, defaultType: childType }),
    );
  }
  return part;
}

/** Header fields from `start`; the body starts after the first empty line (or at the end). */
function parseHeaders(
  text: string,
  message: Uint8Array,
  start: number,
  end: number,
): { headers: MimeHeader[]; bodyStart: number } {
  const headers: MimeHeader[] = [];
  let position = start;
  let current: { name: string; valueStart: number; valueEnd: number } | undefined;
  const flush = () => {
    if (current) {
      headers.push({
        name: current.name,
        value: UTF8.decode(message.subarray(current.valueStart, current.valueEnd)),
      });
    }
    current = undefined;
  };
  while (position < end) {
    let lineEnd = text.indexOf("\n", position);
    if (lineEnd === -1 || lineEnd >= end) lineEnd = end;
    const contentEnd = lineEnd > position && text.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd;
    const next = Math.min(lineEnd + 1, end);
    if (contentEnd === position) {
      // The empty line: the body follows it.
      flush();
      return { headers, bodyStart: next };
    }
    const first = text.charCodeAt(position);
    if ((first === 32 || first === 9) && current) {
      current.valueEnd = contentEnd;
    } else {
      flush();
      const colon = text.indexOf(":", position);
      const name = colon !== -1 && colon < contentEnd ? text.slice(position, colon) : "";
      // A field name is printable ASCII without spaces (RFC 5322 §2.2); anything else is skipped.
      if (/^[!-9;-~]+$/.test(name)) current = { name, valueStart: colon + 1, valueEnd: contentEnd };
    }
    position = next;
  }
  flush();
  return { headers, bodyStart: end };
}

/**
 * The parts between the boundaries of a multipart body (RFC 2046 §5.1.1): the line break before a
 * boundary belongs to it; a body without a closing boundary ends at the end of the message.
 */
function splitMultipart(
  text: string,
  boundary: string,
  start: number,
  end: number,
): { start: number; end: number }[] {
  const delimiter = "--" + boundary;
  const parts: { start: number; end: number }[] = [];
  let partStart = -1;
  let search = start;
  while (search < end) {
    let found = text.indexOf(delimiter, search);
    if (found === -1 || found + delimiter.length > end) break;
    const atLineStart = found === start || text.charCodeAt(found - 1) === 10;
    if (!atLineStart) {
      search = found + 1;
      continue;
    }
    const after = found + delimiter.length;
    const closing = text.startsWith("--", after);
    // The rest of the boundary line may only be whitespace (transport padding).
    let lineEnd = text.indexOf("\n", after);
    if (lineEnd === -1 || lineEnd > end) lineEnd = end;
    const rest = text.slice(closing ? after + 2 : after, lineEnd).replace(/\r$/, "");
    if (rest.trim() !== "" && !closing) {
      search = found + 1;
      continue;
    }
    if (partStart !== -1) {
      let partEnd = found;
      if (partEnd > partStart && text.charCodeAt(partEnd - 1) === 10) partEnd--;
      if (partEnd > partStart && text.charCodeAt(partEnd - 1) === 13) partEnd--;
      parts.push({ start: partStart, end: Math.max(partStart, partEnd) });
    }
    if (closing) return parts;
    partStart = Math.min(lineEnd + 1, end);
    search = partStart;
    found = -1;
  }
  if (partStart !== -1 && partStart < end) parts.push({ start: partStart, end });
  return parts;
}

/** The header fields of a message, without looking at its body. */
export function messageHeaders(message: Uint8Array): MimeHeader[] {
  return parseHeaders(LATIN.decode(message), message, 0, message.length).headers;
}

/** The last field of that name (case-insensitive), as RFC 2045 readers take it. */
export function lastHeader(headers: readonly MimeHeader[], name: string): string | undefined {
  for (let i = headers.length - 1; i >= 0; i--) {
    if (headers[i].name.toLowerCase() === name) return headers[i].value;
  }
  return undefined;
}
