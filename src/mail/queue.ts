/**
 * The outbound queue as the other mail services use it: what goes in besides submissions
 * (submissions.ts queues its own in its transaction). Automatic replies go with the null sender
 * (RFC 3834 §3.3, RFC 5321 §4.5.5), DKIM-signed like any mail of a local domain. The delivery
 * worker is queue_worker.ts.
 */
import type { Store } from "./deps.ts";

/** Puts automatic mail in the outbound queue. */
export class OutboundQueue {
  constructor(
    private readonly store: Store,
    /** DKIM-signs a message of a local domain (dkim_signing.ts); absent: it leaves unsigned. */
    private readonly sign?: (message: Uint8Array) => Promise<Uint8Array>,
  ) {}

  /** Queues an automatic reply (a vacation response) of `accountId` to `to`; the queued message's id. */
  async reply(accountId: number, to: string, message: Uint8Array, now = Date.now()): Promise<number> {
    const signed = this.sign ? await this.sign(message) : message;
    return await this.store.transaction(() =>
      this.store.queue.enqueue({
        accountId,
        submissionId: null,
        kind: "vacation",
        mailFrom: "",
        message: signed,
        recipients: [to],
        createdAt: now,
      })
    );
  }
}
