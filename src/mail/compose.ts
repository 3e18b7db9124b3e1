/**
 * A new message from the properties of Email/set create (RFC 8621 §4.6): headers encoded as RFC 2047
 * asks, text and HTML bodies as quoted-printable UTF-8 (multipart/alternative when both), attachments
 * in multipart/mixed (multipart/related for inline parts with a Content-ID). nodemailer's
 * MailComposer does the MIME work.
 */
import { Buffer } from "node:buffer";
import MailComposer from "nodemailer/lib/mail-composer/index.js";
import MimeNode from "nodemailer/lib/mime-node/index.js";
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
  /**
   * Further header fields, values as they go on the wire (after the colon), checked by
   * header_write.ts; `fold` folds a long value. A Date or Message-ID among them replaces the one
   * the server would write.
   */
  headers: HeaderField[];
  text?: string;
  html?: string;
  attachments: ComposeAttachment[];
  /** The whole part tree, when the client gave one (then text, html and attachments are not used). */
  structure?: StructurePart;
}

/** A header field written as given. */
export interface HeaderField {
  name: string;
  value: string;
  fold?: boolean;
}

/** One part of a given body structure: a multipart with its parts, or a leaf with its content. */
export interface StructurePart {
  type: string;
  subParts?: StructurePart[];
  /** A text leaf's content (from bodyValues), sent as UTF-8. */
  text?: string;
  /** Any other leaf's octets (from a blob). */
  data?: Uint8Array;
  name?: string | null;
  disposition?: string | null;
  cid?: string | null;
  language?: string[] | null;
  location?: string | null;
  headers?: HeaderField[];
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
const given = (input: ComposeInput, name: string) => input.headers.find((h) => h.name.toLowerCase() === name);
const prepared = (h: HeaderField) => ({ prepared: true, foldLines: h.fold ?? false, value: h.value.trim() });

/** Fields nodemailer rewrites from address objects or dates, even when given a prepared value. */
const REWRITTEN = new Set(["from", "sender", "to", "cc", "bcc", "reply-to", "date", "references"]);

/**
 * Field names for the given header fields: a field nodemailer would rewrite goes in under a
 * placeholder name (a random token, which no value can hold; nodemailer may change its case) and gets its own name back after the
 * message is built, so its value is written exactly as checked by header_write.ts.
 */
class FieldNames {
  readonly #token = `X-Postern-Field-${crypto.randomUUID().replaceAll("-", "")}`;
  readonly #names: string[] = [];

  key(name: string): string {
    if (!REWRITTEN.has(name.toLowerCase())) return name;
    this.#names.push(name);
    return `${this.#token}-${this.#names.length - 1}`;
  }

  restore(message: Uint8Array): Uint8Array {
    if (this.#names.length === 0) return message;
    const text = Buffer.from(message.buffer, message.byteOffset, message.length).toString("latin1")
      .replace(new RegExp(`${this.#token}-(\\d+):`, "gi"), (_, i) => `${this.#names[Number(i)]}:`);
    return new Uint8Array(Buffer.from(text, "latin1"));
  }
}

/** The message's octets, CRLF line ends. */
export async function composeMessage(
  input: ComposeInput,
  options: { hostname: string },
): Promise<Uint8Array> {
  const names = new FieldNames();
  // A Date given replaces the server's (nodemailer writes one when there is none).
  const date = given(input, "date");
  const headers = input.headers.filter((h) => h !== date);
  if (input.structure) {
    const leaf = input.structure.subParts ? undefined : input.structure.text ?? input.structure.data;
    const root = structuredMessage({ ...input, headers }, { ...options, names, date: date?.value.trim() });
    return withoutAddedLineEnd(names.restore(await build(root)), leaf);
  }
  const node = new MailComposer({
    from: toAddresses(input.from),
    sender: toAddresses(input.sender)?.[0],
    to: toAddresses(input.to),
    cc: toAddresses(input.cc),
    bcc: toAddresses(input.bcc),
    replyTo: toAddresses(input.replyTo),
    subject: input.subject ?? undefined,
    date: date?.value.trim() ?? rfc5322Date(input.sentAt ?? null),
    messageId: given(input, "message-id")
      ? undefined
      : toIds(input.messageId)?.[0] ?? `<${crypto.randomUUID()}@${options.hostname}>`,
    inReplyTo: toIds(input.inReplyTo)?.join(" "),
    references: toIds(input.references),
    // An empty text is still a part (nodemailer skips an empty string, not an empty buffer).
    text: input.text === "" ? Buffer.alloc(0) : input.text,
    html: input.html === "" ? Buffer.alloc(0) : input.html,
    attachments: input.attachments.map((a) => ({
      content: Buffer.from(a.data.buffer, a.data.byteOffset, a.data.length),
      contentType: a.type,
      filename: a.name ?? false,
      cid: a.cid ?? undefined,
      contentDisposition: a.disposition === "inline" ? "inline" : "attachment",
    })),
    headers: headers.map((h) => ({ key: names.key(h.name), ...prepared(h) })),
  }).compile();
  // A draft keeps its Bcc (RFC 8621 §4.1.2.3); sending drops it later, not here.
  (node as unknown as { keepBcc: boolean }).keepBcc = true;
  const single = input.attachments.length === 0 && (input.text === undefined) !== (input.html === undefined);
  return withoutAddedLineEnd(names.restore(await build(node)), single ? input.text ?? input.html : undefined);
}

/**
 * The message without the line end the composer adds after the content of a message that is one
 * part: in a multipart the CRLF before a boundary belongs to the boundary (RFC 2046 §5.1.1), but in a
 * single part it would be content, so a text "abc" would read back as "abc\n" and a draft saved
 * again and again would grow by a line each time. A content that ends with a line end keeps it.
 */
function withoutAddedLineEnd(message: Uint8Array, content: string | Uint8Array | undefined): Uint8Array {
  if (content === undefined) return message;
  const last = typeof content === "string" ? content.at(-1) : String.fromCharCode(content.at(-1) ?? 0);
  if (last === "\n" || last === "\r") return message;
  const n = message.length;
  return n >= 2 && message[n - 2] === 13 && message[n - 1] === 10 ? message.subarray(0, n - 2) : message;
}

interface Buildable {
  build(callback: (error: Error | null, message: Uint8Array) => void): void;
}

function build(node: Buildable): Promise<Uint8Array> {
  return new Promise((resolve, reject) =>
    node.build((error, message) => error ? reject(error) : resolve(new Uint8Array(message)))
  );
}

/** The message of a given body structure: the tree as given, the message headers on its root. */
function structuredMessage(
  input: ComposeInput,
  options: { hostname: string; names: FieldNames; date?: string },
): MimeNode {
  const root = structureNode(input.structure!, options.names);
  root.keepBcc = true;
  const addresses: [string, EmailAddress[] | null | undefined][] = [
    ["From", input.from],
    ["Sender", input.sender],
    ["To", input.to],
    ["Cc", input.cc],
    ["Bcc", input.bcc],
    ["Reply-To", input.replyTo],
  ];
  for (const [name, list] of addresses) {
    const value = toAddresses(list);
    if (value) root.setHeader(name, value);
  }
  if (input.subject) root.setHeader("Subject", input.subject);
  root.setHeader("Date", options.date ?? rfc5322Date(input.sentAt ?? null));
  if (!given(input, "message-id")) {
    root.setHeader(
      "Message-ID",
      toIds(input.messageId)?.[0] ?? `<${crypto.randomUUID()}@${options.hostname}>`,
    );
  }
  const inReplyTo = toIds(input.inReplyTo);
  if (inReplyTo) root.setHeader("In-Reply-To", inReplyTo.join(" "));
  const references = toIds(input.references);
  if (references) root.setHeader("References", references.join(" "));
  for (const header of input.headers) root.addHeader(options.names.key(header.name), prepared(header));
  return root;
}

function structureNode(part: StructurePart, names: FieldNames, parent?: MimeNode): MimeNode {
  const type = part.text !== undefined ? `${part.type}; charset=utf-8` : part.type;
  const options = { filename: part.name ?? undefined, keepBcc: true };
  const node = parent ? parent.createChild(type, options) : new MimeNode(type, options);
  if (part.subParts) {
    for (const child of part.subParts) structureNode(child, names, node);
  } else {
    node.setContent(part.text ?? Buffer.from(part.data!.buffer, part.data!.byteOffset, part.data!.length));
  }
  if (part.disposition) node.setHeader("Content-Disposition", part.disposition);
  if (part.cid) node.setHeader("Content-Id", `<${part.cid}>`);
  if (part.language?.length) node.setHeader("Content-Language", part.language.join(", "));
  if (part.location) node.setHeader("Content-Location", part.location);
  for (const header of part.headers ?? []) {
    // A Content-* field given as a header replaces the one written from the part's properties.
    if (/^content-/i.test(header.name)) node.setHeader(header.name, prepared(header));
    else node.addHeader(names.key(header.name), prepared(header));
  }
  return node;
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
