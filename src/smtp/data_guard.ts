/**
 * What the MX refuses in a message's data. smtp-server ends DATA only at <CRLF>.<CRLF>, so a
 * `\n.\n`, `\r.\r` or `\n.\r\n` inside the data never ends it; such data still holds bare LF or CR,
 * which RFC 5321 §2.3.8 forbids, and relaying or re-reading it with a looser parser is how SMTP
 * smuggling splits one message into two. So data with a bare CR or LF is refused whole (Postfix 3.9's
 * smtpd_forbid_bare_newline = reject) rather than normalised: nothing of it is stored, and the
 * sender learns why. A NUL byte is refused too (RFC 5321 §4.1.1.4 data is text).
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
  return undefined;
}
