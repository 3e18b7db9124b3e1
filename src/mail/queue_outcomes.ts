/**
 * Recording the outcomes of deliveries (queue_worker.ts), several at once: the outcomes of the
 * deliveries that end in the same turn of the event loop are written in one transaction
 * (group_commit.ts), so a full queue pays one commit per batch instead of one per message. Each
 * delivery's own write is what it was alone: its recipients' new states (only those its claim still
 * holds: a worker whose lease ran out and was taken over changes nothing), its submission's
 * deliveryStatus, and the EmailSubmission change that makes a StateChange. A delivery is told its
 * outcome is recorded only once the batch has committed; until then its claim holds the recipients,
 * so a crash before the commit leaves them to be claimed again when the lease runs out, exactly as a
 * crash before a write of its own did.
 */
import type { DeliveryStatus, QueuedMessageRecord, QueueResult } from "../store/mod.ts";
import type { Change, LoggedWrite, Store } from "./deps.ts";
import { status } from "./delivery.ts";
import { GroupCommit } from "./group_commit.ts";

/** One delivery's outcome to record. */
export interface DeliveryOutcome {
  message: QueuedMessageRecord;
  results: QueueResult[];
  now: number;
  /** The claim's `until`: only recipients still held by it are changed. */
  claimedUntil: number;
  /** Delivered through a relay: deliveryStatus says "unknown" rather than "yes" (RFC 8621 §7). */
  relayed: boolean;
}

/** Writes delivery outcomes, batched; see the module comment. */
export class QueueOutcomes {
  readonly #batches: GroupCommit<DeliveryOutcome, void>;

  constructor(private readonly deps: { store: Store; write: LoggedWrite }) {
    this.#batches = new GroupCommit((outcomes) => this.#writeAll(outcomes), { maxBatch: 128 });
  }

  /** Records `outcome`; settles once it is committed (rejects if it could not be written, even alone). */
  record(outcome: DeliveryOutcome): Promise<void> {
    return this.#batches.submit(outcome);
  }

  async #writeAll(outcomes: DeliveryOutcome[]): Promise<void[]> {
    const { queue, submissions } = this.deps.store;
    await this.deps.write(async () => {
      const changes: Change[] = [];
      for (const { message, results, now, claimedUntil, relayed } of outcomes) {
        const changed = new Set(await queue.record(message.id, results, now, claimedUntil));
        if (changed.size === 0 || message.submissionId === null) continue;
        const statuses = Object.fromEntries(
          results.filter((o) => changed.has(o.recipient)).map((
            o,
          ) => [o.recipient, deliveryStatus(o, relayed)]),
        );
        const updated = await submissions.queueProgress(message.submissionId, statuses);
        if (updated && message.accountId !== null) {
          changes.push({
            type: "EmailSubmission",
            objectId: message.submissionId,
            kind: "updated",
            accountId: message.accountId,
          });
        }
      }
      return { result: undefined, events: [], changes };
    });
    return outcomes.map(() => undefined);
  }
}

/** What a recipient's outcome shows as its EmailSubmission deliveryStatus (RFC 8621 §7). */
function deliveryStatus(outcome: QueueResult, relayed: boolean): DeliveryStatus {
  if (outcome.state === "delivered") return status(relayed ? "unknown" : "yes", outcome.reply);
  if (outcome.state === "failed") return status("no", outcome.reply);
  return status("queued", outcome.reply);
}
