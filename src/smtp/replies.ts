/**
 * Every refusal the MX answers, as one table: the RFC 5321 reply code, the RFC 3463 enhanced status
 * code and the text. The reason names are the metric labels too (postern_smtp_refusals_total).
 */
import type { InboundRefusal } from "../mail/mod.ts";

/** One SMTP reply. */
export interface SmtpReply {
  code: number;
  /** RFC 3463 class.subject.detail. */
  enhanced: string;
  text: string;
}

/** Why a command or a message was refused. */
export type RefusalReason =
  | InboundRefusal
  | "tooManyRecipients"
  | "sizeExceeded"
  | "bareLineEnd"
  | "nulByte"
  | "tooManyConnections"
  | "tooManyErrors"
  | "tooManyCommands"
  | "dataTimeout"
  | "dmarcReject"
  | "localError"
  | "forbiddenSender"
  | "badRecipient"
  | "credentialsRevoked"
  | "mailboxFullSender"
  | "mailLoop";

/**
 * The reply of each refusal. Quotas (RFC 3463 X.2.2 "mailbox full", usable for persistent transient
 * and permanent errors): a mailbox without room for now is 452 4.2.2, so the sender keeps the message
 * and retries while its owner makes room (RFC 1870 §6.3 answers a temporary lack of storage with 452);
 * a message larger than the mailbox's whole quota can never fit, so that is the permanent 552 5.2.2.
 */
export const REFUSALS: Record<RefusalReason, SmtpReply> = {
  unknownRecipient: { code: 550, enhanced: "5.1.1", text: "No such user here" },
  disabled: { code: 550, enhanced: "5.2.1", text: "Mailbox disabled" },
  relayDenied: {
    code: 550,
    enhanced: "5.7.1",
    text: "Relaying denied: this server is the MX of its own domains only",
  },
  mailboxFull: { code: 452, enhanced: "4.2.2", text: "Mailbox full, try again later" },
  tooLarge: { code: 552, enhanced: "5.2.2", text: "Message larger than the mailbox's quota" },
  tooManyRecipients: { code: 452, enhanced: "4.5.3", text: "Too many recipients" },
  sizeExceeded: { code: 552, enhanced: "5.3.4", text: "Message exceeds the fixed maximum message size" },
  bareLineEnd: {
    code: 550,
    enhanced: "5.6.0",
    text: "Message refused: bare CR or LF in the data (RFC 5321 §2.3.8); end every line with CRLF",
  },
  nulByte: { code: 550, enhanced: "5.6.0", text: "Message refused: NUL byte in the data" },
  tooManyConnections: {
    code: 421,
    enhanced: "4.7.0",
    text: "Too many connections from your address, try later",
  },
  tooManyErrors: { code: 421, enhanced: "4.7.0", text: "Too many errors, closing the connection" },
  tooManyCommands: {
    code: 421,
    enhanced: "4.7.0",
    text: "Too many commands before MAIL FROM, closing the connection",
  },
  dataTimeout: { code: 421, enhanced: "4.4.2", text: "DATA took too long, closing the connection" },
  dmarcReject: {
    code: 550,
    enhanced: "5.7.1",
    text: "Message refused: it fails the DMARC policy (p=reject) of its From domain",
  },
  forbiddenSender: {
    code: 553,
    enhanced: "5.7.1",
    text: "Sender address not allowed: not an address this account may send as",
  },
  badRecipient: { code: 553, enhanced: "5.1.3", text: "Bad recipient address syntax" },
  credentialsRevoked: {
    code: 535,
    enhanced: "5.7.8",
    text: "The credentials of this session are no longer valid; authenticate again",
  },
  mailLoop: {
    code: 554,
    enhanced: "5.4.6",
    text: "Message refused: too many Received fields, a mail loop (RFC 5321 §6.3)",
  },
  mailboxFullSender: {
    code: 552,
    enhanced: "5.2.2",
    text: "Your mailbox is full: the Sent copy does not fit",
  },
  localError: {
    code: 451,
    enhanced: "4.3.0",
    text: "Local error while storing the message, try again later",
  },
};

/** The error a smtp-server handler passes to its callback to answer `reply` (detail appended). */
export function replyError(reply: SmtpReply, detail?: string): Error & { responseCode: number } {
  // No CR or LF can reach the reply line: the text is flattened here (smtp-server also replaces them).
  const text = `${reply.enhanced} ${reply.text}${detail ? ` (${detail})` : ""}`
    // deno-lint-ignore no-control-regex
    .replace(/[\x00-\x1f\x7f]/g, " ");
  return Object.assign(new Error(text), { responseCode: reply.code });
}
