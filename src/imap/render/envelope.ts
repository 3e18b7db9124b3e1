/**
 * FETCH ENVELOPE (RFC 9051 §7.5.2): date, subject, from, sender, reply-to, to, cc, bcc,
 * in-reply-to, message-id of a message's header, values as sent (encoded words kept, folding
 * removed). sender and reply-to default to from. Dovecot is the reference for what is not written
 * down: of a text field sent twice the last counts, the addresses of an address field sent twice
 * are all listed, an empty address header is NIL.
 */
import type { ResponseValue } from "../command.ts";
import { fieldValue, type HeaderField } from "./header_fields.ts";
import { parseAddressList } from "./address_list.ts";
import { octetString } from "./values.ts";

/** The envelope of the message whose header fields are `fields` in `bytes`. */
export function envelope(bytes: Uint8Array, fields: readonly HeaderField[]): ResponseValue[] {
  const named = (name: string) => fields.filter((field) => field.name.toLowerCase() === name);
  const text = (name: string): string | null => {
    const field = named(name).at(-1);
    return field ? fieldValue(bytes, field) : null;
  };
  const addresses = (name: string): ResponseValue => {
    const list = named(name).flatMap((field) => parseAddressList(fieldValue(bytes, field)));
    if (list.length === 0) return null;
    return list.map((
      a,
    ) => [octetString(a.name), octetString(a.adl), octetString(a.mailbox), octetString(a.host)]);
  };
  const from = addresses("from");
  const sender = addresses("sender");
  const replyTo = addresses("reply-to");
  return [
    octetString(text("date")),
    octetString(text("subject")),
    from,
    sender ?? from,
    replyTo ?? from,
    addresses("to"),
    addresses("cc"),
    addresses("bcc"),
    octetString(text("in-reply-to")),
    octetString(text("message-id")),
  ];
}
