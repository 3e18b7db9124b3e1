/**
 * `QueuedMessage`: a message in the outbound queue (src/mail/queue.ts) with the state of each of its
 * recipients, as administrators see it. Messages are queued by the server's own flows (EmailSubmission,
 * SMTP submission, vacation replies, bounces); administrators read them, retry or cancel them with
 * the RetryQueuedMessages and CancelQueuedMessages actions, and destroy one to drop it silently.
 */
import { serverSetField } from "./mod_internal.ts";
import type { ObjectSpec } from "./spec.ts";

const read = serverSetField;

/** A message's state, from its recipients': the first that applies, in this order. */
export const QUEUED_MESSAGE_STATES = ["deferred", "queued", "failed", "canceled", "delivered"] as const;

/** The QueuedMessage declaration. */
export const QUEUED_MESSAGE: ObjectSpec = {
  name: "QueuedMessage",
  description:
    "A message in the outbound queue; retry or cancel it with the RetryQueuedMessages and CancelQueuedMessages actions, destroy it to drop it without a bounce",
  readOnly: true,
  fields: {
    id: read("Id", "Object id", true),
    state: read(
      "String",
      "deferred (a recipient waits for a retry after a temporary failure), queued (waits for its first attempt), failed, canceled or delivered (every recipient done)",
      true,
    ),
    sender: read("String", 'The envelope sender (MAIL FROM); "" for the null sender of bounces', true),
    domains: read("List<String>", "The recipient domains still to deliver to (all of them once done)", true),
    recipients: read(
      "List<QueuedRecipient>",
      "Each recipient: address, state (queued, deferred, delivered, failed, canceled), attempts, nextAttemptAt, lastReply",
    ),
    size: read("UnsignedInt", "The message's size in bytes", true),
    kind: read(
      "String",
      "What queued it: submission, vacation (an automatic reply), bounce, report (a TLS report)",
    ),
    createdAt: read("UTCDate", "When it was queued", true),
    nextAttemptAt: read("UTCDate?", "The earliest next attempt of a recipient still to deliver"),
  },
};

/** "42s", "5m", "3h", "2d": how long ago `iso` was, rounded down. */
export function queueAge(iso: unknown, now = Date.now()): string {
  const seconds = Math.max(0, Math.floor((now - Date.parse(String(iso))) / 1000));
  if (!Number.isFinite(seconds)) return "";
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** The recipients of a queued message as a list, whatever wire form they came in. */
export function queuedRecipients(message: Record<string, unknown>): Record<string, unknown>[] {
  const value = message.recipients;
  if (!value || typeof value !== "object") return [];
  return (Array.isArray(value) ? value : Object.values(value)) as Record<string, unknown>[];
}
