/**
 * A message's body as JMAP sees it (RFC 8621 §4.1.4): the body structure, the text, HTML and
 * attachment lists by the RFC's own algorithm, body values, the preview and hasAttachment.
 */
import { decodeText, decodeTransfer } from "./decode_body.ts";
import { asText } from "./header_forms.ts";
import { htmlToText } from "./html_text.ts";
import { lastHeader, type MimePart, parseMime } from "./parse_mime.ts";

/** A parsed message and the RFC 8621 lists of its parts. */
export interface EmailBody {
  message: Uint8Array;
  root: MimePart;
  textBody: MimePart[];
  htmlBody: MimePart[];
  attachments: MimePart[];
}

/** RFC 8621 §4.1.4 default `bodyProperties`. */
export const DEFAULT_BODY_PROPERTIES = [
  "partId",
  "blobId",
  "size",
  "name",
  "type",
  "charset",
  "disposition",
  "cid",
  "language",
  "location",
] as const;

/** Every EmailBodyPart property. */
export const BODY_PROPERTIES = [...DEFAULT_BODY_PROPERTIES, "headers", "subParts"] as const;

/** Parses the message and sorts its parts into the three lists. */
export function emailBody(message: Uint8Array): EmailBody {
  const root = parseMime(message);
  const body: EmailBody = { message, root, textBody: [], htmlBody: [], attachments: [] };
  parseStructure([root], "mixed", false, body);
  return body;
}

function isInlineMediaType(type: string): boolean {
  return type.startsWith("image/") || type.startsWith("audio/") || type.startsWith("video/");
}

/** RFC 8621 §4.1.4's parseStructure, with its lists as optional so a branch can drop one. */
function parseStructure(
  parts: MimePart[],
  multipartType: string,
  inAlternative: boolean,
  lists: { textBody: MimePart[] | null; htmlBody: MimePart[] | null; attachments: MimePart[] },
): void {
  let { textBody, htmlBody } = lists;
  const { attachments } = lists;
  const textLength = textBody ? textBody.length : -1;
  const htmlLength = htmlBody ? htmlBody.length : -1;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const isInline = part.disposition !== "attachment" &&
      (part.type === "text/plain" || part.type === "text/html" || isInlineMediaType(part.type)) &&
      (i === 0 || (multipartType !== "related" && (isInlineMediaType(part.type) || !partName(part))));
    if (part.subParts) {
      const subType = part.type.slice("multipart/".length);
      parseStructure(part.subParts, subType, inAlternative || subType === "alternative", {
        textBody,
        htmlBody,
        attachments,
      });
    } else if (isInline) {
      if (multipartType === "alternative") {
        if (part.type === "text/plain") textBody?.push(part);
        else if (part.type === "text/html") htmlBody?.push(part);
        else attachments.push(part);
        continue;
      } else if (inAlternative) {
        if (part.type === "text/plain") htmlBody = null;
        if (part.type === "text/html") textBody = null;
      }
      textBody?.push(part);
      htmlBody?.push(part);
      if ((!textBody || !htmlBody) && isInlineMediaType(part.type)) attachments.push(part);
    } else {
      attachments.push(part);
    }
  }
  if (multipartType === "alternative" && textBody && htmlBody) {
    // Only HTML found: the text body shows it too; only text found: the HTML body shows that.
    if (textLength === textBody.length && htmlLength !== htmlBody.length) {
      for (let i = htmlLength; i < htmlBody.length; i++) textBody.push(htmlBody[i]);
    }
    if (htmlLength === htmlBody.length && textLength !== textBody.length) {
      for (let i = textLength; i < textBody.length; i++) htmlBody.push(textBody[i]);
    }
  }
}

/** The part's file name: Content-Disposition's filename, else Content-Type's name. */
export function partName(part: MimePart): string | null {
  return part.dispositionParams.filename ?? part.params.name ?? null;
}

/** The part's id in the message (leaves only; a multipart has none). */
export function partId(part: MimePart): string | null {
  return part.subParts ? null : String(part.index);
}

/** The leaf with that partId, if any. */
export function findPart(body: EmailBody, id: string): MimePart | undefined {
  const walk = (part: MimePart): MimePart | undefined => {
    if (!part.subParts) return String(part.index) === id ? part : undefined;
    for (const child of part.subParts) {
      const found = walk(child);
      if (found) return found;
    }
    return undefined;
  };
  return walk(body.root);
}

/**
 * Decoded size of a leaf, counted without keeping the decoded octets of base64 parts; a multipart
 * (which has nothing to download) counts the octets of its body.
 */
export function partSize(message: Uint8Array, part: MimePart): number {
  if (part.subParts) return part.end - part.bodyStart;
  if (part.encoding === "base64") {
    let letters = 0;
    for (let i = part.bodyStart; i < part.end; i++) {
      const c = message[i];
      if (c === 61) break;
      if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47) {
        letters++;
      }
    }
    return Math.floor((letters * 3) / 4);
  }
  return decodeTransfer(message, part).bytes.length;
}

/** The EmailBodyPart of a part with the requested properties (RFC 8621 §4.1.4). */
export function bodyPartWire(
  body: EmailBody,
  part: MimePart,
  options: { properties: readonly string[]; blobId: (part: MimePart) => string },
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const property of options.properties) {
    switch (property) {
      case "partId":
        out.partId = partId(part);
        break;
      case "blobId":
        out.blobId = part.subParts ? null : options.blobId(part);
        break;
      case "size":
        out.size = partSize(body.message, part);
        break;
      case "headers":
        out.headers = part.headers.map((h) => ({ name: h.name, value: h.value }));
        break;
      case "name":
        out.name = partName(part);
        break;
      case "type":
        out.type = part.type;
        break;
      case "charset":
        out.charset = part.type.startsWith("text/")
          ? (part.params.charset?.toLowerCase() ?? "us-ascii")
          : null;
        break;
      case "disposition":
        out.disposition = part.disposition;
        break;
      case "cid": {
        const cid = lastHeader(part.headers, "content-id");
        out.cid = cid === undefined ? null : asText(cid).replace(/^<|>$/g, "") || null;
        break;
      }
      case "language": {
        const language = lastHeader(part.headers, "content-language");
        const tags = language === undefined ? [] : asText(language).split(/[\s,]+/).filter(Boolean);
        out.language = tags.length ? tags : null;
        break;
      }
      case "location": {
        const location = lastHeader(part.headers, "content-location");
        out.location = location === undefined ? null : asText(location) || null;
        break;
      }
      case "subParts":
        out.subParts = part.subParts
          ? part.subParts.map((child) => bodyPartWire(body, child, options))
          : null;
        break;
    }
  }
  return out;
}

/** RFC 8621 §4.1.4 EmailBodyValue: the part's text, cut at `maxBytes` of UTF-8 when asked. */
export function bodyValue(
  body: EmailBody,
  part: MimePart,
  maxBytes = 0,
): { value: string; isEncodingProblem: boolean; isTruncated: boolean } {
  const transfer = decodeTransfer(body.message, part);
  const charset = part.params.charset ?? null;
  const decoded = decodeText(transfer.bytes, charset);
  let value = decoded.text.replace(/\r\n/g, "\n");
  let isTruncated = false;
  if (maxBytes > 0) {
    const bytes = new TextEncoder().encode(value);
    if (bytes.length > maxBytes) {
      // Cut at a character boundary: back off continuation bytes (10xxxxxx).
      let end = maxBytes;
      while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
      value = new TextDecoder().decode(bytes.subarray(0, end));
      isTruncated = true;
    }
  }
  return { value, isEncodingProblem: transfer.problem || decoded.problem, isTruncated };
}

const PREVIEW_LENGTH = 256;

/** Up to 256 characters of the message's text, whitespace collapsed (RFC 8621 §4.1.4 preview). */
export function preview(body: EmailBody): string {
  return previewOf(bodyText(body, PREVIEW_LENGTH * 8));
}

/** The preview of a text: its first 256 characters, whitespace collapsed. */
export function previewOf(text: string): string {
  // One pass that stops at 256 characters: a regular expression over the whole text was the largest
  // part of an import's parsing, for a preview that needs only its start.
  let out = "";
  let length = 0;
  let space = false;
  for (const char of text) {
    if (isSpace(char.charCodeAt(0))) {
      space = out !== "";
      continue;
    }
    if (space) {
      out += " ";
      space = false;
      if (++length === PREVIEW_LENGTH) break;
    }
    out += char;
    if (++length === PREVIEW_LENGTH) break;
  }
  return out;
}

/** Whether a UTF-16 unit is white space as JavaScript's `\s` means it. */
function isSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d) ||
    (code >= 0xa0 &&
      (code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 ||
        code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff));
}

/** The text of the message's text body (HTML read as text), parts on their own lines, up to `max` characters. */
export function bodyText(body: EmailBody, max: number): string {
  let text = "";
  for (const part of body.textBody) {
    if (text.length >= max) break;
    if (part.type !== "text/plain" && part.type !== "text/html") continue;
    const value = bodyValue(body, part).value;
    // HTML is read only as far as the text needed (twice it, as white space collapses afterwards).
    text += (part.type === "text/html" ? htmlToText(value, { limit: 2 * (max - text.length) }) : value) +
      "\n";
  }
  return text.slice(0, max);
}

/** True when some attachment is not marked inline (RFC 8621 §4.1.4 hasAttachment). */
export function hasAttachment(body: EmailBody): boolean {
  return body.attachments.some((part) => part.disposition !== "inline");
}
