/**
 * One FETCH data item rendered from the stored message: the item's name as the response writes it
 * (`BODY[1.MIME]<0>`, `BINARY.SIZE[2]`…) and its value, or the NO the whole FETCH must end with
 * (`UNKNOWN-CTE`, RFC 3516 §4.3). Items that are not in the message (FLAGS, UID, INTERNALDATE,
 * MODSEQ, EMAILID, THREADID) are the caller's and render as undefined.
 */
import type { FetchItem, Partial, ResponseCode, ResponseValue, Section } from "../command.ts";
import { bodyStructure } from "./body_structure.ts";
import { envelope } from "./envelope.ts";
import type { ImapMessage } from "./message_tree.ts";
import { binaryBytes, sectionBytes } from "./sections.ts";

/** A rendered item: `name` is written as is (this module builds it from safe characters only). */
export type FetchRendering =
  | { ok: true; name: string; value: ResponseValue }
  | { ok: false; code: ResponseCode; text: string };

/** Renders `item` of `message`; undefined for an item the message does not hold. */
export function renderFetchItem(message: ImapMessage, item: FetchItem): FetchRendering | undefined {
  switch (item.kind) {
    case "ENVELOPE":
      return { ok: true, name: "ENVELOPE", value: envelope(message.bytes, message.root.fields) };
    case "BODYSTRUCTURE":
    case "BODY":
      return {
        ok: true,
        name: item.kind,
        value: bodyStructure(message.bytes, message.root, item.kind === "BODYSTRUCTURE"),
      };
    case "RFC822.SIZE":
      return { ok: true, name: item.kind, value: message.size };
    case "RFC822":
      return { ok: true, name: item.kind, value: { bytes: sectionBytes(message, { part: [] }) } };
    case "RFC822.HEADER":
      return {
        ok: true,
        name: item.kind,
        value: { bytes: sectionBytes(message, { part: [], text: "HEADER" }) },
      };
    case "RFC822.TEXT":
      return {
        ok: true,
        name: item.kind,
        value: { bytes: sectionBytes(message, { part: [], text: "TEXT" }) },
      };
    case "BODY[]": {
      const bytes = partial(sectionBytes(message, item.section), item.partial);
      return {
        ok: true,
        name: `BODY[${sectionName(item.section)}]${origin(item.partial)}`,
        value: { bytes },
      };
    }
    case "BINARY[]":
    case "BINARY.SIZE": {
      const decoded = binaryBytes(message, item.part);
      if (decoded === "unknown-cte") {
        return { ok: false, code: { name: "UNKNOWN-CTE" }, text: "Unknown Content-Transfer-Encoding" };
      }
      if (item.kind === "BINARY.SIZE") {
        return { ok: true, name: `BINARY.SIZE[${item.part.join(".")}]`, value: decoded.length };
      }
      const bytes = partial(decoded, item.partial);
      return {
        ok: true,
        name: `BINARY[${item.part.join(".")}]${origin(item.partial)}`,
        // RFC 3516 §4.2: literal8 when the content has NUL (the only octet a literal cannot carry).
        value: { bytes, binary: bytes.indexOf(0) !== -1 },
      };
    }
    default:
      return undefined;
  }
}

/** The section as the response names it (RFC 9051 §7.5.2): part numbers, then the text in capitals. */
export function sectionName(section: Section): string {
  const pieces: string[] = section.part.map(String);
  if (section.text) {
    let text: string = section.text;
    if (section.fields) text += ` (${section.fields.map(fieldName).join(" ")})`;
    pieces.push(text);
  }
  return pieces.join(".");
}

/** A header field name in the response's section: an atom in capitals, or a quoted string. */
function fieldName(name: string): string {
  const upper = name.toUpperCase();
  if (/^[!#$&'*+\-.0-9:;<=>?@A-Z^_`|~]+$/.test(upper)) return upper;
  return JSON.stringify(upper.replace(/[^\x20-\x7e]/g, "?"));
}

function origin(range: Partial | undefined): string {
  return range ? `<${range.offset}>` : "";
}

function partial(bytes: Uint8Array, range: Partial | undefined): Uint8Array {
  if (!range) return bytes;
  return bytes.subarray(
    Math.min(range.offset, bytes.length),
    Math.min(range.offset + range.length, bytes.length),
  );
}
