/**
 * A new message from the properties of Email/set create (RFC 8621 §4.6): headers encoded as RFC 2047
 * asks, text and HTML bodies as quoted-printable UTF-8 (multipart/alternative when both), attachments
 * in multipart/mixed (multipart/related for inline parts with a Content-ID). nodemailer's
 * MailComposer does the MIME work.
 */
import { Buffer } from "node:buffer";
import MailComposer from "nodemailer/lib/mail-composer/index.js";
import type { EmailAddress } from "./mime/mod.ts";

/** What a new message is made of. */
export interface ComposeInput {
  from?: EmailAddress[] | null;
  sender?: EmailAddress[] | null;
  to?: EmailAddress[] | null;
  cc?: EmailAddress[] | null;
  bcc?: EmailAddress[] | null;
  replyTo?: EmailAddress[] | null;
  subject?: string | null;
  /** RFC 3339 with the offset the Date header keeps. */
  sentAt?: string | null;
  messageId?: string[] | null;
  inReplyTo?: string[] | null;
  references?: string[] | null;
  /** Further header fields, values as they go on the wire (after the colon). */
  headers: { name: string; value: string }[];
  text?: string;
  html?: string;
  attachments: ComposeAttachment[];
}

/** An attachment: its octets and how it is described. */
export interface ComposeAttachment {
  data: Uint8Array;
  type: string;
  name: string | null;
  disposition: string | null;
  cid: string | null;
}

const toAddresses = (list: EmailAddress[] | null | undefined) =>
  list?.length ? list.map((a) => ({ name: a.name ?? "", address: a.email })) : undefined;
const toIds = (ids: string[] | null | undefined) => ids?.length ? ids.map((id) => `<${id}>`) : undefined;

/** The message's octets, CRLF line ends. */
export async function composeMessage(
  input: ComposeInput,
  options: { hostname: string },
): Promise<Uint8Array> {
  const node = new MailComposer({
    from: toAddresses(input.from),
    sender: toAddresses(input.sender)?.[0],
    to: toAddresses(input.to),
    cc: toAddresses(input.cc),
    bcc: toAddresses(input.bcc),
    replyTo: toAddresses(input.replyTo),
    subject: input.subject ?? undefined,
    date: rfc5322Date(input.sentAt ?? null),
    messageId: toIds(input.messageId)?.[0] ?? `<${crypto.randomUUID()}@${options.hostname}>`,
    inReplyTo: toIds(input.inReplyTo)?.join(" "),
    references: toIds(input.references),
    text: input.text,
    html: input.html,
    attachments: input.attachments.map((a) => ({
      content: Buffer.from(a.data.buffer, a.data.byteOffset, a.data.length),
      contentType: a.type,
      filename: a.name ?? false,
      cid: a.cid ?? undefined,
      contentDisposition: a.disposition === "inline" ? "inline" : "attachment",
    })),
    headers: input.headers.map((h) => ({ key: h.name, value: h.value.trim(), prepared: true })),
  }).compile();
  // A draft keeps its Bcc (RFC 8621 §4.1.2.3); sending drops it later, not here.
  (node as unknown as { keepBcc: boolean }).keepBcc = true;
  return await new Promise((resolve, reject) =>
    node.build((error: Error | null, message: Uint8Array) =>
      error ? reject(error) : resolve(new Uint8Array(message))
    )
  );
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** An RFC 5322 Date value with the offset of the RFC 3339 date given (now, in UTC, without one). */
export function rfc5322Date(date: string | null): string {
  const match = date && /([+-])(\d\d):(\d\d)$/.exec(date);
  const offset = match ? (match[1] === "-" ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) : 0;
  const instant = date ? Date.parse(date) : Date.now();
  const local = new Date(instant + offset * 60_000);
  const pad = (n: number) => String(n).padStart(2, "0");
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  return `${DAYS[local.getUTCDay()]}, ${local.getUTCDate()} ${
    MONTHS[local.getUTCMonth()]
  } ${local.getUTCFullYear()} ` +
    `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())} ` +
    `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}
