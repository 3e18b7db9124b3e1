/**
 * Header fields of a message or part as byte ranges of the stored message, so HEADER.FIELDS and
 * the envelope read exactly what was sent. A field is a line that does not start with white space
 * plus its continuation lines; a line without a colon is kept as a nameless field (it is part of
 * the header section, and HEADER.FIELDS never matches it). Values are read as Latin-1 so that one
 * character is one byte: 8-bit headers stay the octets that were sent.
 */

/** One header field: where its first line starts and where it ends (after its last line break). */
export interface HeaderField {
  /** The name as written, without the colon and trailing white space; "" for a line without a colon. */
  name: string;
  start: number;
  /** First byte after the colon. */
  valueStart: number;
  end: number;
}

/** The fields of the header section `[start, end)` (end is where the body starts). */
export function headerFields(bytes: Uint8Array, start: number, end: number): HeaderField[] {
  return scanHeader(bytes, start, end).fields;
}

/**
 * The header starting at `start` (the part ends at `end`): its fields, and where the body starts —
 * after the first empty line, or at `end` when there is none.
 */
export function scanHeader(
  bytes: Uint8Array,
  start: number,
  end: number,
): { fields: HeaderField[]; bodyStart: number } {
  const fields: HeaderField[] = [];
  let position = start;
  while (position < end) {
    let lineEnd = bytes.indexOf(10, position);
    lineEnd = lineEnd === -1 || lineEnd >= end ? end : lineEnd + 1;
    const first = bytes[position];
    if (first === 10 || (first === 13 && (position + 1 === end || bytes[position + 1] === 10))) {
      return { fields, bodyStart: lineEnd }; // the empty line ending the header
    }
    if ((first === 32 || first === 9) && fields.length > 0) {
      fields[fields.length - 1].end = lineEnd;
    } else {
      let colon = position;
      while (colon < lineEnd && bytes[colon] !== 58) colon++;
      if (colon < lineEnd) {
        let nameEnd = colon;
        while (nameEnd > position && (bytes[nameEnd - 1] === 32 || bytes[nameEnd - 1] === 9)) nameEnd--;
        fields.push({
          name: latin1(bytes, position, nameEnd),
          start: position,
          valueStart: colon + 1,
          end: lineEnd,
        });
      } else {
        fields.push({ name: "", start: position, valueStart: lineEnd, end: lineEnd });
      }
    }
    position = lineEnd;
  }
  return { fields, bodyStart: end };
}

/**
 * A field's value as the envelope carries it (RFC 9051 §7.5.2 takes the header's value as is):
 * CR and LF removed (folding, and a stray CR as Dovecot drops it), leading white space dropped, in
 * Latin-1 (one char per octet).
 */
export function fieldValue(bytes: Uint8Array, field: HeaderField): string {
  const raw = latin1(bytes, field.valueStart, field.end);
  return raw.replace(/[\r\n]/g, "").replace(/^[ \t]+/, "");
}

/** Bytes `[start, end)` as a string of the same length, one char per octet (ISO-8859-1). */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  let out = "";
  if (end - start <= 32) {
    for (let i = start; i < end; i++) out += String.fromCharCode(bytes[i]);
    return out;
  }
  let ascii = true;
  for (let i = start; i < end && ascii; i++) ascii = bytes[i] < 0x80;
  if (ascii) return ASCII.decode(bytes.subarray(start, end));
  for (let i = start; i < end; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, Math.min(end, i + 8192)));
  }
  return out;
}

/** ASCII text is the same in UTF-8, whose decoder is the fast one. */
const ASCII = new TextDecoder("utf-8");

/** A Latin-1 string back to its octets. */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}
