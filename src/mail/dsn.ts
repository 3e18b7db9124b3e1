/**
 * Delivery status notifications (RFC 3464) this server writes to a sender: a bounce when delivery to
 * some recipients failed for good, a delay notice while it still retries. The report is an RFC 6522
 * `multipart/report; report-type=delivery-status` of three parts, read in this order:
 *
 * 1. a plain-words explanation for the person who sent the message (what failed, why, what to do);
 * 2. `message/delivery-status`: one block about the message (Reporting-MTA, Original-Envelope-Id,
 *    Arrival-Date), then one block per recipient (Final-Recipient, Action, Status, Remote-MTA,
 *    Diagnostic-Code, Last-Attempt-Date, Will-Retry-Until);
 * 3. the original's header fields as `text/rfc822-headers` (RFC 6522 allows the whole message;
 *    the headers identify it and keep a bounce small).
 *
 * It is sent from MAILER-DAEMON with `Auto-Submitted: auto-replied` (RFC 3834) and, by whoever
 * delivers it, with a null envelope sender, so nothing answers it in turn; it threads under the
 * original through In-Reply-To and References. Every value that goes in a field is cleaned of
 * line breaks and control characters first, so no reply text can add a field or a part.
 *
 * The envelope id (RFC 3461 ENVID) of a submission is {@link submissionEnvelopeId}: a DSN from
 * another server quoting it comes back to the submission (dsn_inbound.ts).
 */
import { Buffer } from "node:buffer";
import { encodeWords, foldLines } from "nodemailer/lib/mime-funcs/index.js";
import { encode as qpEncode, wrap as qpWrap } from "nodemailer/lib/qp/index.js";
import type { RecipientResult } from "../outbound/mod.ts";
import { rfc5322Date } from "./compose.ts";
import { asText, lastHeader, messageHeaders } from "./mime/mod.ts";

/** One recipient a report is about. */
export interface DsnRecipient {
  /** The address delivery was tried to (Final-Recipient). */
  address: string;
  /** The address as the sender gave it (RFC 3461 ORCPT), when known and different. */
  originalRecipient?: string;
  /** The last attempt's outcome: its reply is the Diagnostic-Code and gives the Status. */
  result: RecipientResult;
  /** When the last attempt was made (epoch ms). */
  lastAttempt: number;
}

/** What a bounce or delay notice is about. */
export interface DsnInput {
  /** failed: given up for these recipients (a bounce); delayed: still retrying (a delay notice). */
  action: "failed" | "delayed";
  /** This server's mail host name: Reporting-MTA, the From's domain and the Message-ID's. */
  reportingMta: string;
  /** The original envelope sender, who gets the report (never "": nobody bounces a bounce). */
  sender: string;
  /** The original envelope id (RFC 3461 ENVID), if it had one. */
  envelopeId?: string;
  /** When the message reached this server (epoch ms). */
  arrivalDate: number;
  recipients: DsnRecipient[];
  /** Until when delivery is retried (epoch ms): a delay notice says it. */
  willRetryUntil?: number;
  /** The original message. */
  message: Uint8Array;
  /** The report's own date (epoch ms); now when absent. */
  now?: number;
}

/** The Subject lines, those of Postfix, which people know. */
export const DSN_SUBJECTS = {
  failed: "Undelivered Mail Returned to Sender",
  delayed: "Delayed Mail (still being retried)",
} as const;

const ENVELOPE_ID = /^postern-(\d{1,15})$/;

/**
 * The envelope id (RFC 3461 ENVID) a submission is sent with: "postern-" and the submission's
 * number, characters that need no xtext encoding. A DSN quoting it in Original-Envelope-Id is
 * matched to that submission.
 */
export function submissionEnvelopeId(submissionId: number): string {
  return `postern-${submissionId}`;
}

/** The submission number of an envelope id made by {@link submissionEnvelopeId}, else undefined. */
export function submissionOfEnvelopeId(envelopeId: string | undefined): number | undefined {
  const match = envelopeId === undefined ? null : ENVELOPE_ID.exec(envelopeId.trim());
  return match ? Number(match[1]) : undefined;
}

/**
 * The RFC 3463 status code of a reply: its enhanced code when it has one of the right class, else
 * one derived from the basic code (4xx → 4.0.0, 5xx → 5.0.0), else the action's generic one.
 */
export function statusOfReply(reply: string, action: "failed" | "delayed"): string {
  const match = /^([245])\d\d[ -]+([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(reply.trim());
  if (match && match[1] === match[2]) return `${match[2]}.${match[3]}.${match[4]}`;
  const basic = /^([45])\d\d\b/.exec(reply.trim());
  if (basic) return `${basic[1]}.0.0`;
  return action === "failed" ? "5.0.0" : "4.0.0";
}

/** The report as a message (CRLF line ends), to be delivered with a null envelope sender. */
export function composeDsn(input: DsnInput): Uint8Array {
  if (input.recipients.length === 0) throw new Error("A delivery status notification needs a recipient");
  // RFC 3464 §2: a message without a return path (a bounce itself) never gets a report.
  if (input.sender.trim() === "") throw new Error("No delivery status notification for the null sender");
  const host = clean(input.reportingMta);
  const now = input.now ?? Date.now();
  const original = messageHeaders(input.message);
  const originalId = lastHeader(original, "message-id")?.match(/<[^<>\s]+>/)?.[0];
  const boundary = `=_report_${crypto.randomUUID().replaceAll("-", "")}`;
  const global = [input.sender, ...input.recipients.flatMap((r) => [r.address, r.originalRecipient ?? ""])]
    .some((a) => !isAscii(a));
  const headers = [
    field("From", `Mail Delivery System <MAILER-DAEMON@${host}>`),
    field("To", `<${clean(input.sender)}>`),
    field("Subject", DSN_SUBJECTS[input.action]),
    field("Date", rfc5322Date(new Date(now).toISOString())),
    field("Message-ID", `<${crypto.randomUUID()}@${host}>`),
    ...(originalId ? [field("In-Reply-To", originalId), field("References", originalId)] : []),
    field("Auto-Submitted", "auto-replied"),
    field("MIME-Version", "1.0"),
    `Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="${boundary}"\r\n`,
  ];
  const headerBlock = headerBlockOf(input.message);
  const parts = [
    [
      "Content-Type: text/plain; charset=utf-8",
      "Content-Description: Notification",
      "Content-Transfer-Encoding: quoted-printable",
      "",
      qpWrap(qpEncode(Buffer.from(explanation(input, host).replace(/\r?\n/g, "\r\n"), "utf-8")), 76),
    ].join("\r\n"),
    [
      `Content-Type: message/${global ? "global-" : ""}delivery-status`,
      "Content-Description: Delivery report",
      ...(global ? ["Content-Transfer-Encoding: 8bit"] : []),
      "",
      deliveryStatus(input, host, global),
    ].join("\r\n"),
    [
      "Content-Type: text/rfc822-headers",
      "Content-Description: Undelivered message headers",
      ...(isAscii(headerBlock) ? [] : ["Content-Transfer-Encoding: 8bit"]),
      "",
      headerBlock,
    ].join("\r\n"),
  ];
  const body = "This is a MIME-encapsulated message.\r\n\r\n" +
    parts.map((part) => `--${boundary}\r\n${part}\r\n`).join("") + `--${boundary}--\r\n`;
  return new TextEncoder().encode(headers.join("") + "\r\n" + body);
}

/** The text a person reads: what happened to which address, why, and what to do. */
function explanation(input: DsnInput, host: string): string {
  const subject = lastHeader(messageHeaders(input.message), "subject");
  const about = subject === undefined ? "your message" : `your message "${clean(asText(subject))}"`;
  const lines = [`This is the mail system at host ${host}.`, ""];
  if (input.action === "failed") {
    lines.push(
      `I'm sorry to have to inform you that ${about} could not be delivered to one or more recipients.`,
      "It is attached below (its header fields).",
      "",
      "For further assistance, please send mail to your postmaster.",
      "",
      "If you do so, please include this problem report. You can delete your own text from the attached returned message.",
    );
  } else {
    const until = input.willRetryUntil === undefined ? undefined : rfc5322Date(
      new Date(input.willRetryUntil).toISOString(),
    );
    lines.push(
      "####################################################################",
      "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #",
      "####################################################################",
      "",
      `${about[0].toUpperCase()}${about.slice(1)} could not be delivered yet to one or more recipients.`,
      until
        ? `The mail system will keep trying until ${until}; if it still fails then, you will be told.`
        : "The mail system will keep trying; if it fails for good, you will be told.",
    );
  }
  lines.push("", "                   The mail system", "");
  for (const r of input.recipients) {
    const reply = clean(r.result.reply).trim() || "(no reply)";
    const from = r.result.remoteMta ? ` (said ${clean(r.result.remoteMta)})` : "";
    lines.push(`<${clean(r.address)}>: ${reply}${from}`, `    ${advice(r.result, input.action)}`, "");
  }
  return lines.map((line) => wrap(line, 72)).join("\n");
}

/** A line broken at spaces into lines of at most `width` characters. */
function wrap(line: string, width: number): string {
  const out: string[] = [];
  let rest = line;
  while (rest.length > width) {
    const cut = rest.lastIndexOf(" ", width);
    if (cut <= 4) break;
    out.push(rest.slice(0, cut));
    // A recipient's reply goes on indented, as Postfix writes it; prose just goes on.
    rest = (line.startsWith("<") || line.startsWith(" ") ? "    " : "") + rest.slice(cut + 1).trimStart();
  }
  out.push(rest);
  return out.join("\n");
}

/** What the sender can do about a recipient's failure, in plain words. */
function advice(result: RecipientResult, action: "failed" | "delayed"): string {
  if (action === "delayed") return "Nothing to do for now: delivery is retried automatically.";
  const status = statusOfReply(result.reply, action);
  if (/^5\.1\.[0-3]$/.test(status) || status === "5.1.10") {
    return "The address does not exist there: check it for typing mistakes, then send again.";
  }
  if (/^5\.2\.[23]$/.test(status)) {
    return "The mailbox is full or the message too big: send it later or smaller.";
  }
  if (/^5\.7\./.test(status)) return "The receiving server refused it by its policy: ask its postmaster.";
  if (status.startsWith("4.")) return "The receiving server could not be reached in time: try again later.";
  return "The receiving server refused the message: read its reply above, then try again or ask its postmaster.";
}

/** The message/delivery-status body: the per-message block, then one block per recipient. */
function deliveryStatus(input: DsnInput, host: string, global: boolean): string {
  const addressType = global ? "utf-8" : "rfc822";
  const block = (fields: (string | undefined)[]) => fields.filter((f) => f !== undefined).join("");
  const perMessage = block([
    field("Reporting-MTA", `dns; ${host}`),
    input.envelopeId ? field("Original-Envelope-Id", clean(input.envelopeId)) : undefined,
    field("Arrival-Date", rfc5322Date(new Date(input.arrivalDate).toISOString())),
  ]);
  const perRecipient = input.recipients.map((r) =>
    block([
      r.originalRecipient
        ? field("Original-Recipient", `${addressType}; ${clean(r.originalRecipient)}`)
        : undefined,
      field("Final-Recipient", `${addressType}; ${clean(r.address)}`),
      field("Action", input.action),
      field("Status", statusOfReply(clean(r.result.reply), input.action)),
      // The host name alone (RFC 3464 §2.3.5 mta-name), without the "[address]" the transport adds.
      r.result.remoteMta
        ? field("Remote-MTA", `dns; ${clean(r.result.remoteMta).trim().split(" ")[0]}`)
        : undefined,
      clean(r.result.reply).trim()
        ? field("Diagnostic-Code", `smtp; ${clean(r.result.reply).trim()}`)
        : undefined,
      field("Last-Attempt-Date", rfc5322Date(new Date(r.lastAttempt).toISOString())),
      input.action === "delayed" && input.willRetryUntil !== undefined
        ? field("Will-Retry-Until", rfc5322Date(new Date(input.willRetryUntil).toISOString()))
        : undefined,
    ])
  );
  return [perMessage, ...perRecipient].join("\r\n");
}

/** `Name: value` with its CRLF, long values folded at spaces; text fields as RFC 2047 words when not ASCII. */
function field(name: string, value: string): string {
  const safe = name === "Subject" && !isAscii(value) ? encodeWords(value, "Q", 52) : value;
  return foldLines(`${name}: ${safe}`, 76).replace(/\r?\n/g, "\r\n") + "\r\n";
}

/** A value as one line: line breaks and other control characters become spaces. */
function clean(value: string): string {
  // deno-lint-ignore no-control-regex
  return value.replace(/\r\n(?=[ \t])/g, "").replace(/[\x00-\x1f\x7f]+/g, " ");
}

/** The original's header block with CRLF line ends and without the empty line that ends it. */
function headerBlockOf(message: Uint8Array): string {
  const text = new TextDecoder().decode(message);
  const end = /\r?\n\r?\n/.exec(text);
  const block = (end ? text.slice(0, end.index) : text).replace(/\r?\n/g, "\r\n");
  // Only whole header lines: a message without any would otherwise put a body line here.
  const lines = block.split("\r\n").filter((line) => /^[ \t]|^[!-9;-~]+:/.test(line));
  return lines.map((line) => `${line}\r\n`).join("");
}

// deno-lint-ignore no-control-regex
const isAscii = (value: string) => /^[\x00-\x7f]*$/.test(value);
