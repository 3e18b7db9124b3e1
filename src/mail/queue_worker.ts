/**
 * The delivery worker of the outbound queue (store/queue.ts). Read in order:
 *
 * 1. runDue: the due (message, domain) pairs nobody holds, picked within the per-domain and global
 *    caps and the per-domain rate delay (kept by each process, as Postfix's queue manager keeps its
 *    own), then claimed together in one transaction, each pair with a lease by one UPDATE (of two
 *    workers or processes exactly one gets it; a worker that dies leaves a lease that expires, and
 *    the work is claimed again).
 * 2. attempt: a message queued unsigned is DKIM-signed first, once: the signed bytes replace the
 *    stored ones before anything is sent, so every attempt of every domain sends the same bytes
 *    (queueing a submission does not wait for a signature). Then the route from the settings
 *    (queue_routes.ts), one call of the transport, each
 *    recipient's result recorded with its submission's deliveryStatus (queue_outcomes.ts: with the
 *    outcomes of the deliveries that ended at the same time, in one transaction that logs the
 *    EmailSubmission changes, so StateChanges are pushed): delivered; permanent → failed;
 *    temporary → deferred until the next attempt of the schedule, or failed once expired.
 * 3. notify: the bounce and delay notice the sender is owed (queue_notices.ts), each made and
 *    queued in the transaction that marks what it names, so exactly once; one for a sender here is
 *    delivered into the Inbox at once (a queued bounce to an account here always goes that way).
 *    runDue also looks, now and then, for failures a worker that died recorded without reporting.
 *
 * Timers only wake it (server.ts); tests call runDue with their own clock. In the server it is
 * also `continuous`: a delivery that ends makes it claim due work at once, so a full queue drains at
 * the speed of the deliveries, not one batch per tick.
 */
import type { OutboundSettings, SmarthostSettings } from "../model/objects/mod.ts";
import type { OutboundTransport, RecipientResult, Route } from "../outbound/mod.ts";
import type { DueDelivery, QueuedMessageRecord, QueuedRecipientRecord, QueueResult } from "../store/mod.ts";
import type { BounceComposer } from "./bounce.ts";
import type { LoggedWrite, Store } from "./deps.ts";
import type { LocalDelivery } from "./delivery.ts";
import { QueueOutcomes } from "./queue_outcomes.ts";
import { queueNotices } from "./queue_notices.ts";
import { nextAttempt, routeFor, usesSmarthost } from "./queue_routes.ts";

/** How long a claim lasts by default (x:Outbound leaseSeconds): the transport gives up well before. */
export const DEFAULT_LEASE_MS = 15 * 60_000;
/** What the transport's deadline keeps from the lease, for recording the outcome. */
const LEASE_MARGIN_MS = 30_000;
/** How often runDue looks for notices a dead worker owed (QueueRepository.unreported). */
const SWEEP_EVERY_MS = 60_000;
/** Finished messages deleted per statement (each a short write). */
const PURGE_BATCH = 500;

/** What the worker works with. */
export interface QueueWorkerDeps {
  store: Store;
  /** Logs the EmailSubmission changes in the write's transaction. */
  write: LoggedWrite;
  outbound: () => Promise<OutboundSettings>;
  smarthost: () => Promise<SmarthostSettings>;
  transport: OutboundTransport;
  /** Delivers bounces and delay notices into the sender's Inbox. */
  local: LocalDelivery;
  bounces: BounceComposer;
  /** This server's mail host name (the reports' Reporting-MTA). */
  reportingMta: string;
  /**
   * Where a bounce to an envelope sender goes: for one of this server's SRS addresses (a forward,
   * forwarding.ts), the original sender behind it; unset or otherwise, the sender itself.
   */
  returnPath?: (mailFrom: string) => string;
  /** DKIM-signs a message queued unsigned (dkim_signing.ts); absent: it leaves as it is. */
  sign?: (message: Uint8Array) => Promise<Uint8Array>;
  /** Overrides x:Outbound leaseSeconds. */
  leaseMs?: number;
  /** Where a failure of the worker itself is reported. */
  warn?: (message: string) => void;
}

/** Works through the outbound queue. */
export class QueueWorker {
  #inFlight = 0;
  readonly #perDomain = new Map<string, number>();
  /** When this worker last started a delivery to each domain (for perDomainRateDelaySeconds). */
  readonly #lastStart = new Map<string, number>();
  readonly #running = new Set<Promise<void>>();

  /** Claim due work as soon as a delivery ends (the server turns it on, and off when it stops). */
  continuous = false;
  #waking = false;
  #sweptAt: number | undefined;

  readonly #outcomes: QueueOutcomes;

  constructor(private readonly deps: QueueWorkerDeps) {
    this.#outcomes = new QueueOutcomes(deps);
  }

  /**
   * Claims and delivers the work due at `now`, within the caps; how many (message, domain) pairs it
   * started. With `wait` (the default) it returns once they, and any still running, are done.
   */
  async runDue(now = Date.now(), options: { wait?: boolean } = {}): Promise<number> {
    const settings = await this.deps.outbound();
    const leaseMs = this.#leaseMs(settings);
    const free = settings.globalConcurrency - this.#inFlight;
    let started = 0;
    await this.#sweep(now);
    if (this.#lastStart.size > 10_000) this.#forgetStarts(now, settings.perDomainRateDelaySeconds * 1000);
    if (free > 0) {
      // The units to start, each counted against the caps at once (so a runDue running beside this
      // one sees them), then claimed together: one transaction for them all.
      const chosen: DueDelivery[] = [];
      for (const work of await this.deps.store.queue.due(now, free * 4)) {
        if (this.#inFlight >= settings.globalConcurrency) break;
        if ((this.#perDomain.get(work.domain) ?? 0) >= settings.perDomainConcurrency) continue;
        const last = this.#lastStart.get(work.domain);
        if (last !== undefined && now - last < settings.perDomainRateDelaySeconds * 1000) continue;
        // With a rate delay, one start per domain in a batch.
        if (settings.perDomainRateDelaySeconds > 0 && chosen.some((c) => c.domain === work.domain)) continue;
        this.#reserve(work.domain);
        chosen.push(work);
      }
      const until = now + leaseMs;
      let claims: QueuedRecipientRecord[][] = [];
      try {
        claims = chosen.length ? await this.deps.store.queue.claimAll(chosen, now, until) : [];
      } finally {
        chosen.forEach((work, i) => {
          const claimed = claims[i] ?? [];
          if (claimed.length === 0) return this.#unreserve(work.domain); // another worker has it
          started++;
          if (settings.perDomainRateDelaySeconds > 0) this.#lastStart.set(work.domain, now);
          const claim = { recipients: claimed, until };
          this.#start(work.domain, this.#attempt(work.messageId, work.domain, claim, now, settings));
        });
      }
    }
    if (options.wait ?? true) await this.idle();
    return started;
  }

  /**
   * Deletes the finished messages older than x:Outbound keepFinishedSeconds, in batches; how many
   * (the server's timer calls it; tests call it with their clock). Safe beside another process's.
   */
  async purge(now = Date.now()): Promise<number> {
    const { keepFinishedSeconds } = await this.deps.outbound();
    let purged = 0;
    for (let batch = PURGE_BATCH; batch === PURGE_BATCH;) {
      batch = await this.deps.store.queue.purgeFinished(now - keepFinishedSeconds * 1000, now, PURGE_BATCH);
      purged += batch;
    }
    return purged;
  }

  /** Forgets the starts older than the rate delay (they hold nothing back any more). */
  #forgetStarts(now: number, delayMs: number): void {
    for (const [domain, at] of this.#lastStart) if (now - at >= delayMs) this.#lastStart.delete(domain);
  }

  /** One runDue soon, however many deliveries end meanwhile. */
  #wake(): void {
    if (this.#waking) return;
    this.#waking = true;
    setTimeout(() => {
      this.#waking = false;
      if (!this.continuous) return;
      this.runDue(Date.now(), { wait: false }).catch((error) =>
        this.deps.warn?.(`Delivering queued mail failed: ${error instanceof Error ? error.message : error}`)
      );
    }, 0);
  }

  /** Resolves once no delivery of this worker is under way (for a shutdown). */
  async idle(): Promise<void> {
    while (this.#running.size) await Promise.all([...this.#running]);
  }

  /** Counts a delivery to `domain` against the caps before it is claimed. */
  #reserve(domain: string): void {
    this.#inFlight++;
    this.#perDomain.set(domain, (this.#perDomain.get(domain) ?? 0) + 1);
  }

  #unreserve(domain: string): void {
    this.#inFlight--;
    const left = (this.#perDomain.get(domain) ?? 1) - 1;
    if (left) this.#perDomain.set(domain, left);
    else this.#perDomain.delete(domain);
  }

  /** Runs a reserved delivery; its place is given back when it ends. */
  #start(domain: string, attempt: Promise<void>): void {
    const running: Promise<void> = attempt.catch((error) =>
      this.deps.warn?.(
        `Outbound delivery to ${domain} failed: ${error instanceof Error ? error.message : error}`,
      )
    ).finally(() => {
      this.#unreserve(domain);
      this.#running.delete(running);
      if (this.continuous) this.#wake();
    });
    this.#running.add(running);
  }

  async #attempt(
    messageId: number,
    domain: string,
    claim: { recipients: QueuedRecipientRecord[]; until: number },
    now: number,
    settings: OutboundSettings,
  ): Promise<void> {
    const claimed = claim.recipients;
    const message = await this.deps.store.queue.get(messageId);
    let content = await this.deps.store.queue.content(messageId);
    if (!message || !content) return; // deleted by an operator meanwhile
    if (message.signPending) content = await this.#signOnce(messageId, content);
    if (!content) return;
    const recipients = claimed.map((r) => r.recipient);
    // The Smarthost settings (a sealed password to open) are read only for mail that goes through it.
    const smarthost = usesSmarthost(domain, settings) ? await this.deps.smarthost() : undefined;
    const route = routeFor(domain, settings, smarthost);
    let results: Record<string, RecipientResult>;
    if (message.kind === "bounce" && await this.#allLocal(recipients)) {
      results = await this.#intoInboxes(recipients, content);
    } else if ("unavailable" in route) {
      results = Object.fromEntries(
        recipients.map((r) => [r, { reply: route.unavailable, kind: "temporary" }]),
      );
    } else {
      results = await this.#send(domain, route, { message, content, recipients, leaseMs: claim.until - now });
    }
    const relayed = !("unavailable" in route) && route.kind === "relay";
    const outcome = claimed.map((r) => this.#outcome(r, results[r.recipient], message, now, settings));
    await this.#outcomes.record({ message, results: outcome, now, claimedUntil: claim.until, relayed });
    // Every recipient of the message delivered by this attempt: no bounce or delay notice can be due,
    // so the message is not read again for them.
    const covered = message.recipients.every((r) => claimed.some((c) => c.id === r.id));
    if (covered && outcome.every((o) => o.state === "delivered")) return;
    await this.notify(messageId, now);
  }

  /**
   * Signs a message queued unsigned and stores the signed bytes; the bytes stored afterwards (those
   * of whichever worker stored first, when two domains of the message are attempted at once).
   */
  async #signOnce(messageId: number, unsigned: Uint8Array): Promise<Uint8Array | undefined> {
    const signed = this.deps.sign ? await this.deps.sign(unsigned) : unsigned;
    if (await this.deps.store.queue.storeSigned(messageId, signed)) return signed;
    return await this.deps.store.queue.content(messageId);
  }

  /** A recipient's new state from the transport's result. */
  #outcome(
    recipient: QueuedRecipientRecord,
    result: RecipientResult | undefined,
    message: QueuedMessageRecord,
    now: number,
    settings: OutboundSettings,
  ): QueueResult {
    const base = { recipient: recipient.recipient, remoteMta: result?.remoteMta ?? null };
    if (!result) {
      result = { reply: "451 4.3.0 The transport gave no result for this recipient", kind: "temporary" };
    }
    if (result.kind === "delivered") return { ...base, state: "delivered", reply: result.reply };
    if (result.kind === "permanent") return { ...base, state: "failed", reply: result.reply };
    const next = nextAttempt(settings, {
      attempts: recipient.attempts + 1,
      createdAt: message.createdAt,
      now,
    });
    if (next === undefined) {
      const days = Math.round(settings.maxAgeSeconds / 8640) / 10;
      return { ...base, state: "failed", reply: `${result.reply} (expired: undelivered after ${days} days)` };
    }
    return { ...base, state: "deferred", reply: result.reply, nextAttemptAt: next };
  }

  /**
   * Makes the notices `messageId` owes its sender (queue_notices.ts) and delivers at once those for
   * a sender here (into the Inbox); those for a sender elsewhere leave with the queue.
   */
  async notify(messageId: number, now = Date.now()): Promise<void> {
    const settings = await this.deps.outbound();
    const { queue } = this.deps.store;
    for (const noticeId of await queueNotices(this.deps, messageId, { now, settings })) {
      const notice = await queue.get(noticeId);
      const [recipient] = notice?.recipients ?? [];
      if (!recipient || await this.deps.local.accountOf(recipient.recipient) === undefined) continue;
      const until = now + this.#leaseMs(settings);
      const claimed = await queue.claim(noticeId, recipient.domain, now, until);
      // Unclaimed (another worker has it) or lost with this process: the queue delivers it later.
      if (claimed.length) {
        await this.#attempt(noticeId, recipient.domain, { recipients: claimed, until }, now, settings);
      }
    }
  }

  /** The notices owed for failures recorded by a worker that died before making them. */
  async #sweep(now: number): Promise<void> {
    if (this.#sweptAt !== undefined && now >= this.#sweptAt && now - this.#sweptAt < SWEEP_EVERY_MS) return;
    this.#sweptAt = now;
    for (const messageId of await this.deps.store.queue.unreported(now, 100)) {
      // One that cannot be made now holds back neither the others nor the deliveries.
      await this.notify(messageId, now).catch((error) =>
        this.deps.warn?.(
          `The notices of queued message ${messageId} failed: ${
            error instanceof Error ? error.message : error
          }`,
        )
      );
    }
  }

  /** One call of the transport, told to give up well before the claim runs out. */
  async #send(
    domain: string,
    route: Route,
    what: { message: QueuedMessageRecord; content: Uint8Array; recipients: string[]; leaseMs: number },
  ): Promise<Record<string, RecipientResult>> {
    const { leaseMs } = what;
    const deadline = AbortSignal.timeout(Math.max(leaseMs - LEASE_MARGIN_MS, leaseMs / 2));
    try {
      return await this.deps.transport.deliver(domain, route, {
        mailFrom: what.message.mailFrom,
        recipients: what.recipients,
        message: what.content,
        envelopeId: what.message.envelopeId ?? undefined,
      }, deadline);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return Object.fromEntries(what.recipients.map((r) => [r, {
        reply: `451 4.3.0 Delivery to ${domain} failed here: ${reason.replace(/[\r\n]+/g, " ")}`,
        kind: "temporary",
      }]));
    }
  }

  #leaseMs(settings: OutboundSettings): number {
    return this.deps.leaseMs ?? (settings.leaseSeconds ? settings.leaseSeconds * 1000 : DEFAULT_LEASE_MS);
  }

  /** Whether every recipient is an account of this server. */
  async #allLocal(recipients: string[]): Promise<boolean> {
    for (const r of recipients) if (await this.deps.local.accountOf(r) === undefined) return false;
    return true;
  }

  /** Delivers a notice into the Inboxes of its recipients, accounts of this server. */
  async #intoInboxes(recipients: string[], content: Uint8Array): Promise<Record<string, RecipientResult>> {
    const results: Record<string, RecipientResult> = {};
    for (const recipient of recipients) {
      try {
        const { delivered, smtpReply } = await this.deps.local.deliver(recipient, content, "");
        const reply = smtpReply ?? "";
        results[recipient] = delivered === "yes"
          ? { reply, kind: "delivered" }
          : { reply, kind: reply.startsWith("4") ? "temporary" : "permanent" };
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        results[recipient] = { reply: `451 4.3.0 Delivery here failed: ${reason}`, kind: "temporary" };
      }
    }
    return results;
  }
}
