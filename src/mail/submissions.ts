/**
 * EmailSubmission (RFC 8621 §7): sending an email of the account as one of its identities. The
 * envelope is the one given or the message's own (Sender/From, To/Cc/Bcc). A submission whose
 * `sendAt` (from FUTURERELEASE HOLDFOR/HOLDUNTIL) is in the future waits as `pending` (it can be
 * canceled until then); at its time every recipient of this server gets a copy in the Inbox, and
 * the others are put in the outbound queue (store/queue.ts, queue_worker.ts), whose attempts
 * update each recipient's delivery status.
 *
 * Sent now, the message is DKIM-signed once and its remote recipients are queued in the same
 * transaction that records the submission: once it is acknowledged, it is queued. A submission
 * with only remote recipients stays `pending` while the queue has not tried any of them, and can
 * be canceled until then (RFC 8621 §7.5); the first attempt makes it final.
 *
 * Local delivery is background work on rows: a worker (EmailSubmission/set for an immediate send,
 * the due loop for a held one, in this process or another on the same database) first claims the
 * row, and only the one whose claim took delivers; a claimed submission can no longer be canceled.
 * A worker that died mid-delivery leaves a claim that expires, and the submission's recipients
 * still without an outcome are done again (remote ones already queued are not queued twice).
 */
import type { AccountService } from "../directory/mod.ts";
import type { DeliveryStatus, EnvelopeAddress, SubmissionRecord } from "../store/mod.ts";
import type { BlobService } from "./blobs.ts";
import {
  type Change,
  ForbiddenError,
  invalidProperty,
  type LoggedWrite,
  NotFoundError,
  RuleError,
  type Store,
} from "./deps.ts";
import { type LocalDelivery, status, withoutBcc } from "./delivery.ts";
import type { EmailService } from "./emails.ts";
import { submissionEnvelopeId } from "./dsn.ts";
import type { IdentityService } from "./identities.ts";
import { messageHeaders } from "./mime/mod.ts";
import {
  checkAuthors,
  isRecipientAddress,
  SUBMISSION_LIMITS,
  uniqueRecipients,
} from "./submission_checks.ts";

export { checkAuthors, isRecipientAddress, SUBMISSION_LIMITS } from "./submission_checks.ts";

/** How long a claim for local deliveries lasts, per recipient and at least. */
const CLAIM_PER_RECIPIENT_MS = 30_000;
const CLAIM_MIN_MS = 120_000;

/** What a new submission is made of (ids decoded). */
export interface SubmissionInput {
  identityId: number;
  emailId: number;
  envelope?: { mailFrom: EnvelopeAddress; rcptTo: EnvelopeAddress[] } | null;
  sendAt?: number;
}

/** Submissions of an account by its owner. */
export class SubmissionService {
  constructor(
    private readonly store: Store,
    private readonly deps: {
      accounts: AccountService;
      identities: IdentityService;
      emails: EmailService;
      blobs: BlobService;
      delivery: LocalDelivery;
      /** DKIM-signs a message of a local domain (dkim_signing.ts); absent: mail leaves unsigned. */
      sign?: (message: Uint8Array) => Promise<Uint8Array>;
    },
    /** Logs events and changes in the write's transaction. */
    private readonly write: LoggedWrite,
  ) {}

  /** The account's submissions. */
  list(viewerId: number, accountId: number): Promise<SubmissionRecord[]> {
    this.requireOwner(viewerId, accountId);
    return this.store.submissions.list(accountId);
  }

  /**
   * Submits an email: checked, recorded, and sent at once unless `sendAt` is later. With `detach`,
   * the answer comes once the submission is recorded and `detach` is handed the send under way (the
   * claim taken at insert makes a send lost with its process happen again, see sendDue).
   */
  async create(
    viewerId: number,
    accountId: number,
    input: SubmissionInput,
    options: { detach?: (sending: Promise<void>) => void } = {},
  ): Promise<SubmissionRecord> {
    this.requireOwner(viewerId, accountId);
    const identity = (await this.deps.identities.list(viewerId, accountId)).find((i) =>
      i.id === input.identityId
    );
    if (!identity) throw invalidProperty("identityId", "no identity of this account has that id");
    const [email] = await this.deps.emails.get(viewerId, accountId, [input.emailId]);
    if (!email) throw invalidProperty("emailId", "no email of this account has that id");
    const message = await this.deps.emails.message(viewerId, accountId, email);
    const headers = messageHeaders(message);
    const addresses = await this.deps.identities.addresses(accountId);
    checkAuthors(headers, addresses);
    const envelope = input.envelope ?? {
      mailFrom: { email: identity.email, parameters: null },
      rcptTo: uniqueRecipients(headers),
    };
    if (!addresses.includes(envelope.mailFrom.email.toLowerCase())) {
      throw new RuleError(
        "forbiddenMailFrom",
        `"${envelope.mailFrom.email}" is not an address of this account`,
      );
    }
    if (envelope.rcptTo.length === 0) {
      throw new RuleError("noRecipients", "The message has no recipient (To, Cc or Bcc)");
    }
    const bad = envelope.rcptTo.filter((r) => !isRecipientAddress(r.email)).map((r) => r.email);
    if (bad.length) {
      throw new RuleError("invalidRecipients", `Not addresses: ${bad.join(", ")}`, {
        invalidRecipients: bad,
      });
    }
    if (envelope.rcptTo.length > SUBMISSION_LIMITS.maxRecipients) {
      throw new RuleError(
        "tooManyRecipients",
        `${envelope.rcptTo.length} recipients, more than ${SUBMISSION_LIMITS.maxRecipients}`,
        { maxRecipients: SUBMISSION_LIMITS.maxRecipients },
      );
    }
    const now = Date.now();
    const sendAt = input.sendAt ?? now;
    if (sendAt > now + SUBMISSION_LIMITS.maxDelayedSend * 1000) {
      throw invalidProperty(
        "envelope",
        `a hold (HOLDFOR, HOLDUNTIL) is at most ${SUBMISSION_LIMITS.maxDelayedSend} seconds ahead (maxDelayedSend)`,
      );
    }
    const sendNow = sendAt <= now;
    const local = sendNow ? await this.localRecipients(envelope.rcptTo) : new Set<string>();
    const remote = envelope.rcptTo.map((r) => r.email).filter((r) => !local.has(r));
    // Sent now to this server's accounts: signed once before the transaction (it may only await
    // store calls), the same bytes for local and remote recipients (RFC 6376 §5: this is the
    // originating domain's server). Only to remote ones: queued unsigned, and the delivery worker
    // signs it once before its first attempt (queue_worker.ts), so the request does not wait for it.
    const signLater = sendNow && local.size === 0 && this.deps.sign !== undefined;
    const signed = sendNow && !signLater ? await this.signed(message) : message;
    const record: Omit<SubmissionRecord, "id"> = {
      accountId,
      identityId: identity.id,
      emailId: email.id,
      threadId: email.threadId,
      envelope,
      sendAt,
      undoStatus: "pending",
      deliveryStatus: Object.fromEntries(envelope.rcptTo.map((r) => [r.email, queued()])),
      createdAt: now,
      // Local copies to make now: claimed as it is made, so the due loop never sees it free.
      claimedUntil: sendNow && local.size ? now + claimLength(local.size) : 0,
      inQueue: sendNow && local.size === 0,
    };
    const id = await this.write(async () => {
      const id = await this.store.submissions.insert(record);
      if (sendNow && remote.length) {
        await this.enqueue({ ...record, id }, remote, signed, now, { signPending: signLater });
      }
      return { result: id, events: [], changes: [change(id, "created", accountId)] };
    });
    if (sendNow && local.size) {
      const sending = this.send({ ...record, id }, signed, { signed: true });
      if (!options.detach) await sending;
      else options.detach(sending);
    }
    return (await this.store.submissions.get(id))!;
  }

  /**
   * Cancels a pending submission (the only change RFC 8621 allows); one being sent (claimed) or
   * already sent can no longer be canceled (`cannotUnsend`, RFC 8621 §7.5).
   */
  async cancel(viewerId: number, accountId: number, id: number, now = Date.now()): Promise<void> {
    const submission = await this.owned(viewerId, accountId, id);
    const refuse = (why: string) =>
      new RuleError("cannotUnsend", `The submission ${why}: it can no longer be canceled`);
    if (submission.undoStatus !== "pending") throw refuse(`is ${submission.undoStatus}`);
    await this.write(async () => {
      if (submission.inQueue) {
        // Only while the queue has tried none of its recipients and no worker holds one.
        for (const queued of await this.store.queue.ofSubmission(id)) {
          if (!await this.store.queue.cancelUntried(queued.id, now)) throw refuse("is being sent");
        }
        const statuses = Object.fromEntries(
          submission.envelope.rcptTo.map((r) => [r.email, failed("554 5.7.0 Canceled before it was sent")]),
        );
        await this.store.submissions.settle(id, "canceled", statuses);
      } else if (!await this.store.submissions.cancel(id, now)) throw refuse("is being sent");
      return { result: undefined, events: [], changes: [change(id, "updated", accountId)] };
    });
  }

  /** Forgets a submission (what was sent stays sent). */
  async destroy(viewerId: number, accountId: number, id: number): Promise<void> {
    await this.owned(viewerId, accountId, id);
    await this.write(async () => {
      await this.store.submissions.delete(id);
      return { result: undefined, events: [], changes: [change(id, "destroyed", accountId)] };
    });
  }

  /**
   * Sends the pending submissions whose time has come and that no other worker holds, each claimed
   * first (the server's timer calls it every second; tests call it directly); how many it sent.
   */
  async sendDue(now = Date.now()): Promise<number> {
    let sent = 0;
    for (const candidate of await this.store.submissions.due(now)) {
      const length = claimLength(candidate.envelope.rcptTo.length);
      const submission = await this.store.submissions.claim(candidate.id, now, now + length);
      if (!submission) continue; // another worker took it, or it was canceled or sent meanwhile
      sent++;
      const [email] = await this.deps.emails.get(submission.accountId, submission.accountId, [
        submission.emailId,
      ]);
      if (!email) {
        await this.settle(
          submission,
          Object.fromEntries(
            submission.envelope.rcptTo.map((
              r,
            ) => [r.email, failed("554 5.6.0 The email was destroyed before sending")]),
          ),
        );
        continue;
      }
      await this.send(
        submission,
        await this.deps.emails.message(submission.accountId, submission.accountId, email),
        { now },
      );
    }
    return sent;
  }

  /**
   * Delivers a claimed submission to its local recipients still queued (a retry after a crash
   * skips those already delivered here) and queues its remote ones not queued yet, then records
   * the outcome and releases the claim. With only remote recipients it stays pending, in the queue.
   */
  private async send(
    submission: SubmissionRecord,
    stored: Uint8Array,
    options: { signed?: boolean; now?: number } = {},
  ): Promise<void> {
    const message = options.signed ? stored : await this.signed(stored);
    const outcome: Record<string, DeliveryStatus> = { ...submission.deliveryStatus };
    const mailFrom = submission.envelope.mailFrom.email;
    const inQueue = new Set(
      (await this.store.queue.ofSubmission(submission.id)).flatMap((m) =>
        m.recipients.map((r) => r.recipient)
      ),
    );
    const remote: string[] = [];
    let local = 0;
    for (const rcpt of submission.envelope.rcptTo) {
      if (inQueue.has(rcpt.email)) continue;
      if (outcome[rcpt.email] && outcome[rcpt.email].delivered !== "queued") continue;
      if (await this.deps.delivery.accountOf(rcpt.email) !== undefined) {
        outcome[rcpt.email] = await this.deps.delivery.deliver(rcpt.email, message, mailFrom);
        local++;
      } else remote.push(rcpt.email);
    }
    // Local recipients, delivered now or before a crash: their copies are made, so it is final.
    const hasLocal = local > 0 ||
      submission.envelope.rcptTo.some((r) => !inQueue.has(r.email) && !remote.includes(r.email));
    await this.write(async () => {
      if (remote.length) await this.enqueue(submission, remote, message, options.now ?? Date.now());
      // Only queued ones: pending in the queue, cancelable while untried.
      if (hasLocal) await this.store.submissions.settle(submission.id, "final", outcome);
      else await this.store.submissions.handOver(submission.id, outcome);
      return {
        result: undefined,
        events: [],
        changes: [change(submission.id, "updated", submission.accountId)],
      };
    });
  }

  /**
   * Queues the message for `recipients` (in the caller's transaction), without its Bcc; with
   * `signPending` it is not signed yet and the delivery worker signs it.
   */
  private async enqueue(
    submission: SubmissionRecord,
    recipients: string[],
    signed: Uint8Array,
    now: number,
    options: { signPending?: boolean } = {},
  ): Promise<void> {
    await this.store.queue.enqueue({
      accountId: submission.accountId,
      submissionId: submission.id,
      kind: "submission",
      mailFrom: submission.envelope.mailFrom.email,
      envelopeId: submission.envelope.mailFrom.parameters?.ENVID ?? submissionEnvelopeId(submission.id),
      message: withoutBcc(signed),
      signPending: options.signPending,
      recipients,
      createdAt: now,
    });
  }

  private async signed(message: Uint8Array): Promise<Uint8Array> {
    return this.deps.sign ? await this.deps.sign(message) : message;
  }

  /** The recipients that are accounts of this server. */
  private async localRecipients(rcptTo: EnvelopeAddress[]): Promise<Set<string>> {
    const local = new Set<string>();
    for (const r of rcptTo) {
      if (await this.deps.delivery.accountOf(r.email) !== undefined) local.add(r.email);
    }
    return local;
  }

  private async settle(submission: SubmissionRecord, outcome: Record<string, DeliveryStatus>): Promise<void> {
    await this.write(async () => {
      await this.store.submissions.settle(submission.id, "final", outcome);
      return {
        result: undefined,
        events: [],
        changes: [change(submission.id, "updated", submission.accountId)],
      };
    });
  }

  private async owned(viewerId: number, accountId: number, id: number): Promise<SubmissionRecord> {
    this.requireOwner(viewerId, accountId);
    const submission = await this.store.submissions.get(id);
    if (!submission || submission.accountId !== accountId) {
      throw new NotFoundError("EmailSubmission", String(id));
    }
    return submission;
  }

  private requireOwner(viewerId: number, accountId: number): void {
    if (viewerId !== accountId) throw new ForbiddenError("Only the account's owner sends as it");
  }
}

const queued = (): DeliveryStatus => status("queued", "250 2.1.5 Queued");

/** How long a worker's claim for local deliveries lasts. */
const claimLength = (recipients: number) => Math.max(CLAIM_MIN_MS, recipients * CLAIM_PER_RECIPIENT_MS);

const failed = (smtpReply: string): DeliveryStatus => status("no", smtpReply);

function change(id: number, kind: Change["kind"], accountId: number): Change {
  return { type: "EmailSubmission", objectId: id, kind, accountId };
}
