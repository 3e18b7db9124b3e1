/**
 * A part's body as octets (Content-Transfer-Encoding undone, RFC 2045 §6) and as text (its charset
 * decoded). Both are tolerant: what cannot be decoded is kept or replaced, and reported as an
 * encoding problem (RFC 8621 §4.1.4 isEncodingProblem) instead of failing.
 */
import type { MimePart } from "./parse_mime.ts";

/** The decoded octets of a leaf part, and whether the transfer encoding had problems. */
export function decodeTransfer(message: Uint8Array, part: MimePart): { bytes: Uint8Array; problem: boolean } {
  const raw = message.subarray(part.bodyStart, part.end);
  switch (part.encoding) {
    case "base64":
      return decodeBase64(raw);
    case "quoted-printable":
      return decodeQuotedPrintable(raw);
    case "7bit":
    case "8bit":
    case "binary":
      return { bytes: raw, problem: false };
    default:
      // An unknown encoding (x-uuencode…) is served as it is, and said to be a problem.
      return { bytes: raw, problem: true };
  }
}

/** Base64 with everything outside the alphabet skipped, as RFC 2045 §6.8 asks of readers. */
function decodeBase64(raw: Uint8Array): { bytes: Uint8Array; problem: boolean } {
  const clean = new Uint8Array(raw.length);
  let n = 0;
  let padding = false;
  for (const c of raw) {
    const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 ||
      c === 47;
    if (letter && !padding) clean[n++] = c;
    else if (c === 61) padding = true;
  }
  const usable = n - (n % 4 === 1 ? 1 : 0);
  const text = WINDOWS_1252.decode(clean.subarray(0, usable));
  try {
    return { bytes: Uint8Array.fromBase64(text, { lastChunkHandling: "loose" }), problem: n % 4 === 1 };
  } catch {
    return { bytes: raw, problem: true };
  }
}

const HEX: Record<number, number> = {};
for (let i = 0; i < 16; i++) {
  HEX["0123456789ABCDEF".charCodeAt(i)] = i;
  HEX["0123456789abcdef".charCodeAt(i)] = i;
}

/** Quoted-printable (RFC 2045 §6.7): soft breaks removed, a malformed `=` kept as it is. */
function decodeQuotedPrintable(raw: Uint8Array): { bytes: Uint8Array; problem: boolean } {
  const out = new Uint8Array(raw.length);
  let n = 0;
  let problem = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c !== 61) {
      out[n++] = c;
      continue;
    }
    const a = raw[i + 1];
    const b = raw[i + 2];
    if (a === 13 && b === 10) {
      i += 2;
    } else if (a === 10) {
      i += 1;
    } else if (HEX[a] !== undefined && HEX[b] !== undefined) {
      out[n++] = HEX[a] * 16 + HEX[b];
      i += 2;
    } else {
      // "=" followed by spaces before the line break is a soft break with transport padding.
      let j = i + 1;
      while (raw[j] === 32 || raw[j] === 9) j++;
      if (raw[j] === 13 && raw[j + 1] === 10) i = j + 1;
      else if (raw[j] === 10 || j >= raw.length) i = j;
      else {
        out[n++] = c;
        problem = true;
      }
    }
  }
  return { bytes: out.subarray(0, n), problem };
}

const decoders = new Map<string, TextDecoder | null>();

/** A strict decoder for the charset label, or null when TextDecoder does not know it. */
function decoderFor(label: string): TextDecoder | null {
  let decoder = decoders.get(label);
  if (decoder === undefined) {
    try {
      decoder = new TextDecoder(label, { fatal: true });
    } catch {
      decoder = null;
    }
    decoders.set(label, decoder);
  }
  return decoder;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });
const UTF8_LOOSE = new TextDecoder("utf-8");
const WINDOWS_1252 = new TextDecoder("windows-1252");

/**
 * Text in its charset. US-ASCII (the default) is read as UTF-8 first, as mislabelled 8-bit text
 * mostly is, then as Windows-1252; an unknown charset is read as UTF-8 and is a problem, as are
 * malformed sequences (replaced with U+FFFD).
 */
export function decodeText(bytes: Uint8Array, charset: string | null): { text: string; problem: boolean } {
  const label = (charset ?? "us-ascii").trim().toLowerCase();
  if (label === "us-ascii" || label === "ascii" || label === "utf-8" || label === "utf8") {
    try {
      return { text: UTF8.decode(bytes), problem: false };
    } catch {
      return label.startsWith("utf")
        ? { text: UTF8_LOOSE.decode(bytes), problem: true }
        : { text: WINDOWS_1252.decode(bytes), problem: false };
    }
  }
  const decoder = decoderFor(label);
  if (!decoder) return { text: UTF8_LOOSE.decode(bytes), problem: true };
  try {
    return { text: decoder.decode(bytes), problem: false };
  } catch {
    return { text: new TextDecoder(label).decode(bytes), problem: true };
  }
}
