/**
 * What a message needs of the receiving server, checked against its EHLO reply before MAIL FROM: room
 * for its size (SIZE, RFC 1870), SMTPUTF8 (RFC 6531) for non-ASCII addresses or header fields,
 * 8BITMIME (RFC 6152) for 8-bit content. The message is already DKIM-signed, so it is never converted
 * to 7 bits; a server that cannot take it as it is gets a permanent failure with a reply that says why.
 */
import type { OutboundMessage } from "./types.ts";

/** Why the message cannot go to this server, before MAIL FROM (RFC 1870, 6152, 6531). */
export function unsupported(
  ehlo: string,
  mail: Pick<OutboundMessage, "mailFrom" | "recipients" | "message">,
  remoteMta: string,
): string | undefined {
  const size = /^\d{3}[ -]SIZE[ \t]+(\d+)/im.exec(ehlo);
  const limit = size ? Number(size[1]) : 0;
  if (limit > 0 && mail.message.length > limit) {
    return `552 5.3.4 Message size ${mail.message.length} exceeds the limit of ${limit} of ${remoteMta}`;
  }
  const needsUtf8 = [mail.mailFrom, ...mail.recipients].some((a) => /[^ -~]/.test(a)) ||
    hasEightBit(headerOf(mail.message));
  if (needsUtf8 && !/^\d{3}[ -]SMTPUTF8\b/im.test(ehlo)) {
    return `550 5.6.7 The message has non-ASCII addresses or headers and ${remoteMta} does not offer SMTPUTF8`;
  }
  if (hasEightBit(mail.message) && !/^\d{3}[ -]8BITMIME\b/im.test(ehlo)) {
    return `554 5.6.3 The message has 8-bit data and ${remoteMta} does not offer 8BITMIME ` +
      "(it is signed, so it is not converted)";
  }
  return undefined;
}

/** The header section (up to the first empty line). */
function headerOf(message: Uint8Array): Uint8Array {
  for (let i = 0; i + 3 < message.length; i++) {
    if (message[i] === 13 && message[i + 1] === 10 && message[i + 2] === 13 && message[i + 3] === 10) {
      return message.subarray(0, i);
    }
  }
  return message;
}

/**
 * Whether any byte is outside US-ASCII. Four bytes at a time where the bytes are aligned (a 10 KB
 * message is checked on every delivery; `bytes.some` cost a callback per byte).
 */
export function hasEightBit(bytes: Uint8Array): boolean {
  let i = 0;
  const end = bytes.length;
  while (i < end && (bytes.byteOffset + i) % 4 !== 0) if (bytes[i++] >= 0x80) return true;
  const words = Math.floor((end - i) / 4);
  if (words > 0) {
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
    for (let w = 0; w < words; w++) if (view[w] & 0x80808080) return true;
    i += words * 4;
  }
  while (i < end) if (bytes[i++] >= 0x80) return true;
  return false;
}
