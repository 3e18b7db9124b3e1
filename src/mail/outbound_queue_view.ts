/**
 * The `QueuedMessage` management type (src/model/objects/queued_message.ts): the outbound queue as
 * administrators see and steer it. Reading, retrying, canceling and deleting are for administrators
 * only; a user follows their own mail through EmailSubmission `deliveryStatus` instead. Ids are
 * checked before anything is done, so a command naming an unknown message changes nothing.
 */
import type { Caller, ObjectHandler, WireObject } from "../directory/mod.ts";
import { isAdmin } from "../directory/mod.ts";
import { decodeId, encodeId } from "../model/ids.ts";
import { QUEUED_MESSAGE_STATES, toKeyedList } from "../model/objects/mod.ts";
import type {
  DeliveryStatus,
  QueuedMessageRecord,
  QueuedRecipientRecord,
  QueueFilter,
  QueueRecipientState,
} from "../store/mod.ts";
import { ConflictError, ForbiddenError, type LoggedWrite, NotFoundError, type Store } from "./deps.ts";

/** What a canceled recipient's EmailSubmission deliveryStatus says (RFC 8621 §7: delivered "no"). */
export const CANCELED_REPLY = "550 5.0.0 Delivery canceled by the administrator";

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const PAGE = 1000;

/** The message's state from its recipients': the first of QUEUED_MESSAGE_STATES any recipient is in. */
export function messageState(recipients: readonly { state: string }[]): string {
  const states = new Set(recipients.map((r) => r.state));
  return QUEUED_MESSAGE_STATES.find((s) => states.has(s)) ?? "delivered";
}

const active = (r: QueuedRecipientRecord) => r.state === "queued" || r.state === "deferred";

/** A queued message as the wire shows it. */
export function queuedMessageToWire(m: QueuedMessageRecord): WireObject {
  const pending = m.recipients.filter(active);
  const domains = [...new Set((pending.length ? pending : m.recipients).map((r) => r.domain))].sort();
  return {
    id: encodeId(m.id),
    state: messageState(m.recipients),
    sender: m.mailFrom,
    domains: toKeyedList(domains),
    recipients: toKeyedList(m.recipients.map((r) => ({
      address: r.recipient,
      state: r.state,
      attempts: r.attempts,
      nextAttemptAt: active(r) ? iso(r.nextAttemptAt) : null,
      lastReply: r.lastReply,
      remoteMta: r.remoteMta,
    }))),
    size: m.size,
    kind: m.kind,
    createdAt: iso(m.createdAt),
    nextAttemptAt: pending.length ? iso(Math.min(...pending.map((r) => r.nextAttemptAt))) : null,
  };
}

const refusedToUsers = "The outbound queue is managed by administrators; follow your own mail " +
  "with EmailSubmission deliveryStatus";

function requireAdmin(caller: Caller): void {
  if (!isAdmin(caller)) throw new ForbiddenError(refusedToUsers);
}

/** The handler of `QueuedMessage` objects, and the queue commands of the x:Action type. */
export class OutboundQueueView {
  constructor(
    private readonly store: Store,
    /** Logs the EmailSubmission changes of a cancel in its transaction (a StateChange is pushed). */
    private readonly write: LoggedWrite,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Every queued message, oldest first (paged from the store); with `narrow`, only those with a
   * recipient in its state or of its domain (the store filters).
   */
  async all(narrow: Record<string, string> = {}): Promise<QueuedMessageRecord[]> {
    const filter: QueueFilter = {};
    if (narrow.state && narrow.state !== "delivered") filter.state = narrow.state as QueueRecipientState;
    if (narrow.domain) filter.domain = narrow.domain.toLowerCase().replace(/\.$/, "");
    const out: QueuedMessageRecord[] = [];
    for (let afterId = 0;;) {
      const page = await this.store.queue.list({ ...filter, afterId, limit: PAGE });
      out.push(...page);
      if (page.length < PAGE) return out;
      afterId = page[page.length - 1].id;
    }
  }

  /** The messages named by wire ids; an unknown one is refused by name before any is returned. */
  async #named(ids: readonly string[]): Promise<QueuedMessageRecord[]> {
    const out: QueuedMessageRecord[] = [];
    for (const wireId of ids) {
      const id = decodeId(wireId);
      const message = id === undefined ? undefined : await this.store.queue.get(id);
      if (!message) throw new NotFoundError("QueuedMessage", wireId);
      out.push(message);
    }
    return out;
  }

  /** Makes the next attempt of the deferred recipients now (null: of every message); how many. */
  async retry(ids: readonly string[] | null, caller: Caller): Promise<number> {
    requireAdmin(caller);
    const messages = ids === null
      ? (await this.all()).filter((m) => m.recipients.some((r) => r.state === "deferred"))
      : await this.#named(ids);
    let retried = 0;
    for (const m of messages) retried += await this.store.queue.retryNow(m.id, this.now());
    return retried;
  }

  /**
   * Cancels the recipients still to deliver that no worker holds (no bounce is sent); their
   * submission's deliveryStatus says "no" with {@link CANCELED_REPLY}. How many were canceled.
   */
  async cancel(ids: readonly string[], caller: Caller): Promise<number> {
    requireAdmin(caller);
    let canceled = 0;
    for (const named of await this.#named(ids)) {
      canceled += await this.write(async () => {
        const now = this.now();
        const m = await this.store.queue.get(named.id);
        const count = m ? await this.store.queue.cancel(m.id, now) : 0;
        if (!m || count === 0 || m.submissionId === null || m.accountId === null) {
          return { result: count, events: [], changes: [] };
        }
        const statuses = Object.fromEntries(
          m.recipients.filter((r) => active(r) && r.claimedUntil < now).map((r) => [
            r.recipient,
            { smtpReply: CANCELED_REPLY, delivered: "no" as const, displayed: "unknown" as const },
          ]),
        );
        const updated = await this.#settle(m.submissionId, statuses);
        return {
          result: count,
          events: [],
          changes: updated
            ? [{
              type: "EmailSubmission",
              objectId: m.submissionId,
              kind: "updated" as const,
              accountId: m.accountId,
            }]
            : [],
        };
      });
    }
    return canceled;
  }

  /**
   * Records the canceled recipients on their submission: one the queue had not tried (still
   * pending) with nothing left to deliver becomes canceled (RFC 8621 §7: nothing was sent), any
   * other records them as a queue outcome. False if the submission is gone.
   */
  async #settle(submissionId: number, statuses: Record<string, DeliveryStatus>): Promise<boolean> {
    const submission = await this.store.submissions.get(submissionId);
    if (!submission) return false;
    const queued = await this.store.queue.ofSubmission(submissionId);
    const allCanceled = queued.every((q) => q.recipients.every((r) => r.state === "canceled"));
    if (submission.undoStatus !== "pending" || !allCanceled) {
      return await this.store.submissions.queueProgress(submissionId, statuses);
    }
    await this.store.submissions.settle(submissionId, "canceled", {
      ...submission.deliveryStatus,
      ...statuses,
    });
    return true;
  }

  /** The object handler; messages are made by the server, never created or changed here. */
  handler(): ObjectHandler {
    const refused = () =>
      Promise.reject(
        new ForbiddenError(
          "Queued messages are made by the server's mail flows; retry or cancel them with the RetryQueuedMessages and CancelQueuedMessages actions",
        ),
      );
    const find = async (id: number, wireId: string, caller: Caller) => {
      requireAdmin(caller);
      const message = await this.store.queue.get(id);
      if (!message) throw new NotFoundError("QueuedMessage", wireId);
      return message;
    };
    return {
      create: refused,
      update: refused,
      get: async (id, wireId, caller) => queuedMessageToWire(await find(id, wireId, caller)),
      list: async (caller, narrow) => {
        requireAdmin(caller);
        return (await this.all(narrow)).map(queuedMessageToWire);
      },
      delete: async (id, wireId, caller) => {
        const message = await find(id, wireId, caller);
        if (!await this.store.queue.delete(id, this.now())) {
          throw new ConflictError(
            `Queued message ${wireId} is being delivered now; cancel it, or delete it once the attempt ends`,
            "inUse",
          );
        }
        return queuedMessageToWire(message);
      },
    };
  }
}
