/**
 * What the queue owes a sender about a message: a bounce naming the recipients that failed for good
 * since the last one (as soon as they fail, as Postfix does; those still deferred go on and are
 * reported later), and once, while some are still deferred after delayNoticeSeconds, a delay
 * notice. Never for a null sender: its failed recipients are only marked as dealt with.
 *
 * Each notice is made and put in the outbound queue (kind "bounce", null sender, to the sender) in
 * the transaction that marks what it names: recipients reported, the delay notified. So it is made
 * exactly once: of two workers finishing domains of one message at once, each recipient goes to the
 * one whose transaction marked it, and a process that dies before the transaction leaves the
 * recipients unmarked for the next run (QueueRepository.unreported), after it the notice queued.
 * The queue delivers a notice like any message, into the Inbox when the sender is an account here.
 */
import type { OutboundSettings } from "../model/objects/mod.ts";
import type { QueuedMessageRecord, QueuedRecipientRecord } from "../store/mod.ts";
import type { BounceComposer, BounceInput } from "./bounce.ts";
import type { Store } from "./deps.ts";

/** What making notices needs. */
export interface NoticeDeps {
  store: Store;
  bounces: BounceComposer;
  /** This server's mail host name (the reports' Reporting-MTA). */
  reportingMta: string;
  /** Where a notice to an envelope sender goes (an SRS address: the original sender behind it). */
  returnPath?: (mailFrom: string) => string;
}

/** Makes and queues the notices `messageId` owes its sender at `now`; the ids of the queued notices. */
export async function queueNotices(
  deps: NoticeDeps,
  messageId: number,
  options: { now: number; settings: OutboundSettings },
): Promise<number[]> {
  const { now, settings } = options;
  const { queue } = deps.store;
  const owed = async () => {
    const message = await queue.get(messageId);
    if (!message) return undefined;
    const unreported = message.recipients.filter((r) => r.state === "failed" && r.reportedAt === null);
    const deferred = message.recipients.filter((r) => r.state === "deferred");
    const delay = message.mailFrom !== "" && deferred.length > 0 && message.delayNotifiedAt === null &&
      settings.delayNoticeSeconds > 0 && now - message.createdAt >= settings.delayNoticeSeconds * 1000;
    return unreported.length || delay ? { message, unreported, deferred, delay } : undefined;
  };
  // Most attempts owe nothing: looked at before a write is opened, and again inside it.
  if (!await owed()) return [];
  return await deps.store.transaction(async () => {
    const owes = await owed();
    if (!owes) return [];
    const { message, unreported, deferred } = owes;
    const marked = new Set(await queue.markReported(messageId, unreported.map((r) => r.id), now));
    if (message.mailFrom === "") return []; // nobody bounces a bounce (or an automatic reply)
    const made: number[] = [];
    const failed = unreported.filter((r) => marked.has(r.id));
    if (failed.length) {
      made.push(await enqueueNotice(deps, message, { action: "failed", recipients: failed, now }));
    }
    if (owes.delay && await queue.markDelayNotified(messageId, now)) {
      made.push(
        await enqueueNotice(deps, message, {
          action: "delayed",
          recipients: deferred,
          now,
          willRetryUntil: message.createdAt + settings.maxAgeSeconds * 1000,
        }),
      );
    }
    return made;
  });
}

/** Makes one notice and queues it to the sender with the null sender (in the caller's transaction). */
async function enqueueNotice(
  deps: NoticeDeps,
  message: QueuedMessageRecord,
  notice: {
    action: BounceInput["action"];
    recipients: QueuedRecipientRecord[];
    now: number;
    willRetryUntil?: number;
  },
): Promise<number> {
  const { action, now } = notice;
  const sender = deps.returnPath?.(message.mailFrom) ?? message.mailFrom;
  const report = deps.bounces({
    action,
    reportingMta: deps.reportingMta,
    sender,
    envelopeId: message.envelopeId ?? undefined,
    arrivalDate: message.createdAt,
    recipients: notice.recipients.map((r) => ({
      address: r.recipient,
      result: {
        reply: r.lastReply ?? "",
        kind: action === "failed" ? "permanent" : "temporary",
        remoteMta: r.remoteMta ?? undefined,
      },
      lastAttempt: r.updatedAt,
    })),
    willRetryUntil: notice.willRetryUntil,
    message: await deps.store.queue.content(message.id) ?? new Uint8Array(),
    now,
  });
  return await deps.store.queue.enqueue({
    accountId: message.accountId,
    submissionId: null,
    kind: "bounce",
    mailFrom: "",
    message: report,
    recipients: [sender],
    createdAt: now,
  });
}
