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
  for (let i = 0; i < data.length; i++) {
    const byte = data[i];
    if (byte === 0x0d) {
      if (data[i + 1] !== 0x0a) return "bareLineEnd";
      i++;
    } else if (byte === 0x0a) return "bareLineEnd";
    else if (byte === 0) return "nulByte";
  }
  return hops(data) > MAX_HOPS ? "mailLoop" : undefined;
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
