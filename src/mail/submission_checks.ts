/**
 * What an EmailSubmission is checked against before it is recorded (RFC 8621 §7.5): the limits of
 * the submission capability, what a recipient address is, that the message's authors are the
 * account's own addresses, and the envelope a message without one gets (its To, Cc and Bcc).
 */
import type { EnvelopeAddress } from "../store/mod.ts";
import { RuleError } from "./deps.ts";
import { asAddresses, lastHeader, type messageHeaders } from "./mime/mod.ts";

/** Limits of the submission capability (RFC 8621 §1.3.2). */
export const SUBMISSION_LIMITS = {
  /** Longest delay of a sendAt, in seconds. */
  maxDelayedSend: 7 * 24 * 3600,
  /** Recipients of one submission at most. */
  maxRecipients: 100,
} as const;

/**
 * A recipient: local part, "@", then a domain of one or more dot-separated labels. RFC 5321 §4.1.2
 * (`Domain = sub-domain *("." sub-domain)`) allows a single label, so a fresh install's own default
 * domain "localhost" is a valid recipient.
 */
const ADDRESS = /^[^\s@<>(),;:"]+@[^\s@<>(),;:".]+(?:\.[^\s@<>(),;:".]+)*$/;

/** Whether `address` can be a recipient of a submission. */
export function isRecipientAddress(address: string): boolean {
  return ADDRESS.test(address);
}

/**
 * The message's authors must be the account's own addresses: every From, and the Sender when there is
 * one (RFC 5322 §3.6.2: who actually sent it), else anyone could send as someone else through either.
 * RFC 8621 §7.5 has one error for both: forbiddenFrom.
 */
export function checkAuthors(headers: ReturnType<typeof messageHeaders>, addresses: string[]): void {
  const named = (name: string) =>
    asAddresses(lastHeader(headers, name) ?? "").map((a) => a.email.toLowerCase());
  const from = named("from");
  if (from.length === 0 || from.some((a) => !addresses.includes(a))) {
    throw new RuleError(
      "forbiddenFrom",
      `The message's From (${from.join(", ") || "none"}) must be addresses of this account: ${
        addresses.join(", ")
      }`,
    );
  }
  const sender = named("sender");
  if (sender.some((a) => !addresses.includes(a))) {
    throw new RuleError(
      "forbiddenFrom",
      `The message's Sender (${sender.join(", ")}) must be an address of this account: ${
        addresses.join(", ")
      }`,
    );
  }
}

/** To, Cc and Bcc of the message, each address once. */
export function uniqueRecipients(headers: ReturnType<typeof messageHeaders>): EnvelopeAddress[] {
  const seen = new Set<string>();
  const out: EnvelopeAddress[] = [];
  for (const header of headers) {
    if (!/^(to|cc|bcc)$/i.test(header.name)) continue;
    for (const address of asAddresses(header.value)) {
      const email = address.email.trim();
      if (!email || seen.has(email.toLowerCase())) continue;
      seen.add(email.toLowerCase());
      out.push({ email, parameters: null });
    }
  }
  return out;
}
