/**
 * The octets of BODY[section] (RFC 9051 §6.4.5) and BINARY[part] (RFC 3516 §4.2), by the part
 * numbering rules of §6.4.5: the parts of a multipart are numbered from 1; a message that is not a
 * multipart has its body as part 1; a message/rfc822 part's numbers continue into the message it
 * encapsulates, whose HEADER, TEXT and HEADER.FIELDS it also has. A part that does not exist (or
 * HEADER/TEXT of a part that is no message/rfc822) is empty, as Dovecot answers it.
 */
import type { Section } from "../command.ts";
import { decodeTransfer, type MimePart } from "../../mail/mime/mod.ts";
import type { ImapMessage, RenderPart } from "./message_tree.ts";
import { joinBytes } from "../../model/bytes.ts";

const EMPTY = new Uint8Array(0);

/**
 * Where a part path leads: a part of the tree, or nowhere. As Dovecot numbers them, a part that is
 * no multipart is also its own part 1 (`2.1` is `2` when 2 is a leaf of a multipart, `2.1.1` is
 * nothing); a message
 * that is no multipart has its body as part 1, which has no parts of its own.
 */
export function resolvePart(message: ImapMessage, path: readonly number[]): RenderPart | null {
  let current = message.root;
  // "message": a message (top or encapsulated); "child": a part of a multipart; "body": a message's body.
  let at: "message" | "child" | "body" = "message";
  for (const n of path) {
    if (at !== "message" && !current.children) {
      const inner = current.message();
      if (inner) {
        current = inner;
        at = "message";
      } else if (at === "child" && n === 1) {
        at = "body";
        continue;
      } else {
        return null;
      }
    }
    if (current.children) {
      const child = current.children[n - 1];
      if (!child) return null;
      current = child;
      at = "child";
    } else if (n === 1) {
      at = "body";
    } else {
      return null;
    }
  }
  return current;
}

/** The octets of BODY[section], before any partial; NULs become 0x80 as Dovecot sends them. */
export function sectionBytes(message: ImapMessage, section: Section): Uint8Array {
  const bytes = message.bytes;
  if (section.part.length === 0 && section.text === undefined) return withoutNul(bytes);
  const part = resolvePart(message, section.part);
  if (!part) return EMPTY;
  if (section.text === undefined) return withoutNul(bytes.subarray(part.bodyStart, part.end));
  if (section.text === "MIME") {
    return section.part.length === 0 ? EMPTY : withoutNul(bytes.subarray(part.start, part.bodyStart));
  }
  // HEADER, TEXT and HEADER.FIELDS are of a message: the top one, or a message/rfc822 part's.
  const target = section.part.length === 0 ? part : part.message();
  if (!target) return EMPTY;
  switch (section.text) {
    case "HEADER":
      return withoutNul(bytes.subarray(target.start, target.bodyStart));
    case "TEXT":
      return withoutNul(bytes.subarray(target.bodyStart, target.end));
    default:
      return withoutNul(headerSubset(bytes, target, section));
  }
}

/** HEADER.FIELDS (keep) or HEADER.FIELDS.NOT (drop): the matching fields in message order, then CRLF. */
function headerSubset(
  bytes: Uint8Array,
  part: RenderPart,
  section: Section,
): Uint8Array {
  const keep = section.text === "HEADER.FIELDS";
  const wanted = new Set((section.fields ?? []).map((name) => name.toLowerCase()));
  const pieces: Uint8Array[] = [];
  for (const field of part.fields) {
    // A line without a colon matches no name: HEADER.FIELDS.NOT keeps it, as Dovecot does.
    if (field.name === "" ? keep : wanted.has(field.name.toLowerCase()) !== keep) continue;
    pieces.push(bytes.subarray(field.start, field.end));
  }
  // How the answer ends, as Dovecot ends it: HEADER.FIELDS of the message with CRLF always (also
  // when the message ends inside its header); of an encapsulated message with CRLF when its
  // header has fields and a last line that is whole; HEADER.FIELDS.NOT with the header's empty line.
  let end: boolean;
  if (!keep) end = hasEmptyLine(bytes, part);
  else if (section.part.length === 0) end = true;
  else end = part.fields.length > 0 && bytes[part.bodyStart - 1] === 10;
  if (end) pieces.push(CRLF);
  return joinBytes(pieces);
}

/** Whether the header section ends with an empty line (it does not when the message ends in it). */
function hasEmptyLine(bytes: Uint8Array, part: RenderPart): boolean {
  const end = part.bodyStart;
  if (end === part.start || bytes[end - 1] !== 10) return false;
  let lineStart = end - 1;
  if (lineStart > part.start && bytes[lineStart - 1] === 13) lineStart--;
  return lineStart === part.start || bytes[lineStart - 1] === 10;
}

const CRLF = new Uint8Array([13, 10]);

/** `bytes` with NUL made 0x80 (copied only when there is one). */
function withoutNul(bytes: Uint8Array): Uint8Array {
  if (bytes.indexOf(0) === -1) return bytes;
  return bytes.map((b) => b === 0 ? 0x80 : b);
}

/** The decoded content of BINARY[part] (RFC 3516 §4.2), or "unknown-cte" for an encoding it cannot undo. */
export function binaryBytes(message: ImapMessage, path: readonly number[]): Uint8Array | "unknown-cte" {
  if (path.length === 0) return message.bytes;
  const part = resolvePart(message, path);
  if (!part) return EMPTY;
  // A multipart or an encapsulated message is served as it is: its parts keep their encodings.
  if (part.children || part.type === "message/rfc822") {
    return message.bytes.subarray(part.bodyStart, part.end);
  }
  if (!KNOWN_ENCODINGS.has(part.encoding)) return "unknown-cte";
  const body = message.bytes.subarray(part.bodyStart, part.end);
  if (part.encoding === "base64") return decodeBase64(body);
  if (part.encoding !== "quoted-printable") return body;
  const mimePart: MimePart = {
    index: 0,
    headers: [],
    start: 0,
    bodyStart: 0,
    end: body.length,
    type: part.type,
    params: {},
    disposition: null,
    dispositionParams: {},
    encoding: part.encoding,
    subParts: null,
  };
  return decodeTransfer(body, mimePart).bytes;
}

/**
 * Base64 with everything outside the alphabet skipped (RFC 2045 §6.8), decoding stopping at "=",
 * and a lone trailing sextet dropped, as src/mail/mime/decode_body.ts reads it for JMAP, without
 * its per-character text decoding (a 30 MB attachment decodes in one pass).
 */
function decodeBase64(raw: Uint8Array): Uint8Array {
  // Well-formed base64 (line breaks are ASCII white space, which fromBase64 skips) in one call.
  try {
    const text = ASCII.decode(raw);
    const out = new Uint8Array(Math.ceil(text.length * 3 / 4));
    return out.subarray(0, out.setFromBase64(text, { lastChunkHandling: "loose" }).written);
  } catch {
    // Not well-formed: read it as leniently as JMAP does, below.
  }
  const clean = new Uint8Array(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === 61) break;
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47) {
      clean[n++] = c;
    }
  }
  const usable = n - (n % 4 === 1 ? 1 : 0);
  return Uint8Array.fromBase64(ASCII.decode(clean.subarray(0, usable)), { lastChunkHandling: "loose" });
}

const ASCII = new TextDecoder("utf-8");

const KNOWN_ENCODINGS = new Set(["7bit", "8bit", "binary", "base64", "quoted-printable"]);
