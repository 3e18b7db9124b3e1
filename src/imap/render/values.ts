/** Small builders of response values shared by the renderers. */
import type { ResponseValue } from "../command.ts";
import { latin1Bytes } from "./header_fields.ts";

/**
 * A string of header octets (Latin-1, one char per octet) as a response value: a string when it is
 * ASCII, the octets themselves (a literal) when it has 8-bit ones, so they reach the client as sent.
 * A NUL becomes 0x80, as Dovecot sends it (a string cannot hold NUL).
 */
export function octetString(text: string | null): ResponseValue {
  if (text === null) return null;
  const clean = text.includes("\0") ? text.replaceAll("\0", "\x80") : text;
  // deno-lint-ignore no-control-regex
  return /^[\x00-\x7f]*$/.test(clean) ? clean : { bytes: latin1Bytes(clean) };
}
