/** Small builders of response values shared by the renderers. */
import type { ResponseValue } from "../command.ts";
import { latin1Bytes } from "./header_fields.ts";

/**
 * A string of header octets (Latin-1, one char per octet) as a response value: a string when it is
 * ASCII, UTF-8 octets (a literal) when it has 8-bit ones: valid UTF-8 reaches the client as sent,
 * anything else is made valid with U+FFFD, as Dovecot sends it. A NUL becomes 0x80 first, as
 * Dovecot does (a string cannot hold NUL), and so becomes U+FFFD too.
 */
export function octetString(text: string | null): ResponseValue {
  if (text === null) return null;
  const clean = text.includes("\0") ? text.replaceAll("\0", "\x80") : text;
  // deno-lint-ignore no-control-regex
  if (/^[\x00-\x7f]*$/.test(clean)) return clean;
  return { bytes: UTF8_OUT.encode(UTF8_IN.decode(latin1Bytes(clean))) };
}

const UTF8_IN = new TextDecoder("utf-8");
const UTF8_OUT = new TextEncoder();
