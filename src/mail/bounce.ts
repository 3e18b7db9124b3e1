/**
 * What the queue tells a sender about their message: a bounce when delivery to some recipients
 * failed for good (or expired), a delay notice once while it is still retried. The queue builds a
 * {@link BounceInput} and asks an injected {@link BounceComposer} for the message; the RFC 3464
 * composer (`composeDsn` of src/mail/dsn.ts, whose `DsnInput` has this shape) is the one to use.
 * {@link minimalBounce} is a plain-text stand-in until it is wired in.
 */
import type { RecipientResult } from "../outbound/mod.ts";

/** One recipient a report is about. */
export interface BounceRecipient {
  /** The address delivery was tried to. */
  address: string;
  /** The last attempt's outcome (its reply explains it). */
  result: RecipientResult;
  /** When the last attempt was made (epoch ms). */
  lastAttempt: number;
}

/** What a bounce or delay notice is about (the shape of dsn.ts's DsnInput). */
export interface BounceInput {
  /** failed: given up for these recipients (a bounce); delayed: still retrying (a delay notice). */
  action: "failed" | "delayed";
  /** This server's mail host name. */
  reportingMta: string;
  /** The original envelope sender, who gets the report (never "": nobody bounces a bounce). */
  sender: string;
  /** The original envelope id (RFC 3461 ENVID), if it had one. */
  envelopeId?: string;
  /** When the message was queued (epoch ms). */
  arrivalDate: number;
  recipients: BounceRecipient[];
  /** Until when delivery is retried (epoch ms), for a delay notice. */
  willRetryUntil?: number;
  /** The original message. */
  message: Uint8Array;
  /** The report's own date (epoch ms). */
  now?: number;
}

/** Makes the message of a bounce or delay notice. */
export type BounceComposer = (input: BounceInput) => Uint8Array;

/** A value with no line break or control character, so it cannot add a field or a line. */
// deno-lint-ignore no-control-regex -- control characters are exactly what is removed
const clean = (value: string) => value.replace(/[\x00-\x1f\x7f]+/g, " ").trim();

/**
 * A plain-text report naming each recipient and the reply: a stand-in for the RFC 3464 composer
 * (no machine-readable part), sent from MAILER-DAEMON with Auto-Submitted (RFC 3834).
 */
export const minimalBounce: BounceComposer = (input) => {
  const failed = input.action === "failed";
  const host = clean(input.reportingMta);
  const lines = [
    `From: Mail Delivery System <MAILER-DAEMON@${host}>`,
    `To: <${clean(input.sender)}>`,
    `Subject: ${failed ? "Undelivered Mail Returned to Sender" : "Delayed Mail (still being retried)"}`,
    `Date: ${new Date(input.now ?? Date.now()).toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <${crypto.randomUUID()}@${host}>`,
    "Auto-Submitted: auto-replied",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    failed
      ? "Your message could not be delivered to these recipients:"
      : "Your message has not been delivered yet to these recipients; delivery is still being tried:",
    "",
    ...input.recipients.map((r) => `<${clean(r.address)}>: ${clean(r.result.reply)}`),
    ...(input.willRetryUntil
      ? ["", `Delivery is tried until ${new Date(input.willRetryUntil).toUTCString()}.`]
      : []),
    "",
  ];
  return new TextEncoder().encode(lines.join("\r\n"));
};
