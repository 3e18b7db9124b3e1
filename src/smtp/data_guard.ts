/**
 * What the MX refuses in a message's data. smtp-server ends DATA only at <CRLF>.<CRLF>, so a
 * `\n.\n`, `\r.\r` or `\n.\r\n` inside the data never ends it; such data still holds bare LF or CR,
 * which RFC 5321 §2.3.8 forbids, and relaying or re-reading it with a looser parser is how SMTP
 * smuggling splits one message into two. So data with a bare CR or LF is refused whole (Postfix 3.9's
 * smtpd_forbid_bare_newline = reject) rather than normalised: nothing of it is stored, and the
 * sender learns why. A NUL byte is refused too (RFC 5321 §4.1.1.4 data is text). A message with
 * more than {@link MAX_HOPS} Received fields is in a loop (RFC 5321 §6.3, Postfix's hopcount_limit):
 * 554 5.4.6.
 */
import type { RefusalReason } from "./replies.ts";

/** The reason `data` is refused, if it is. */
export function dataProblem(data: Uint8Array): RefusalReason | undefined {
  return lineEndProblem(data) ?? (hops(data) > MAX_HOPS ? "mailLoop" : undefined);
}

/**
 * The first bare CR, bare LF or NUL of `data`, as a refusal. Every byte is looked at, four at a
 * time: a word none of whose bytes is below 0x0e (the only ones that matter) is passed over with one
 * test, and only the words holding a line end (about two per line) are looked at byte by byte.
 * Scanning byte by byte was the MX's largest cost of its own per message (src/smtp/data_guard_test.ts
 * compares both on random data).
 */
function lineEndProblem(data: Uint8Array): RefusalReason | undefined {
  // Whole aligned words in the middle; the bytes before and after them are looked at one by one.
  const head = (4 - (data.byteOffset & 3)) & 3;
  if (data.length < head + 4) return bytesProblem(data, 0, data.length);
  const count = (data.length - head) >>> 2;
  const words = new Int32Array(data.buffer, data.byteOffset + head, count);
  const problem = bytesProblem(data, 0, head);
  if (problem) return problem;
  for (let w = 0; w < count; w++) {
    const x = words[w];
    // Some byte of x is below 0x0e ("haszero" of x - 0x0e in each byte; exact for bytes below 0x80,
    // and a byte at or over 0x80 only ever makes a word be looked at for nothing).
    if ((((x - 0x0e0e0e0e) | 0) & ~x & 0x80808080) !== 0) {
      const at = head + 4 * w;
      const problem = bytesProblem(data, at, at + 4);
      if (problem) return problem;
    }
  }
  return bytesProblem(data, head + 4 * count, data.length);
}

/**
 * The first problem among bytes `from` to `to` of `data`: a CR not followed by an LF, an LF not
 * preceded by a CR (together: every line end is CRLF), or a NUL.
 */
function bytesProblem(data: Uint8Array, from: number, to: number): RefusalReason | undefined {
  for (let i = from; i < to; i++) {
    const byte = data[i];
    if (byte > 0x0d) continue;
    if (byte === 0x0d) {
      if (i + 1 >= data.length || data[i + 1] !== 0x0a) return "bareLineEnd";
    } else if (byte === 0x0a) {
      if (i === 0 || data[i - 1] !== 0x0d) return "bareLineEnd";
    } else if (byte === 0) return "nulByte";
  }
  return undefined;
}

/** RFC 5321 §6.3 suggests a limit of at least 100 Received fields. */
export const MAX_HOPS = 100;

/** The number of Received fields in the header block of `data` (which has CRLF line ends). */
function hops(data: Uint8Array): number {
  let count = 0;
  // Each header line starts at 0 or after a CRLF; the block ends at an empty line.
  for (let i = 0; i < data.length;) {
    if (data[i] === 0x0d) break;
    if ((data[i] | 0x20) === 0x72 && receivedAt(data, i)) count++;
    const next = data.indexOf(0x0a, i);
    if (next < 0) break;
    i = next + 1;
  }
  return count;
}

const RECEIVED = new TextEncoder().encode("received:");

function receivedAt(data: Uint8Array, at: number): boolean {
  for (let j = 0; j < RECEIVED.length; j++) {
    const byte = data[at + j];
    if (byte === undefined || (j < 8 ? byte | 0x20 : byte) !== RECEIVED[j]) return false;
  }
  return true;
}
