/**
 * The outbound queue's records and its repository interface (the SQLite implementation is
 * queue.ts). Read in order: the records, then the repository (enqueue; what the delivery worker
 * uses: due, claim, record; what an operator uses: list, retry, cancel, delete, stats; the
 * notices owed and the retention).
 */

/** What made a queued message: a submission, an automatic reply (null sender), a bounce (null sender). */
export type QueueKind = "submission" | "vacation" | "bounce" | "report" | "forward";

/**
 * A recipient's state: queued (never tried), deferred (temporary failure, tried again at its next
 * attempt), delivered, failed (permanent failure or expired) or canceled. The first two are active.
 */
export type QueueRecipientState = "queued" | "deferred" | "delivered" | "failed" | "canceled";

/** The states a recipient is still to be delivered in. */
export const ACTIVE_QUEUE_STATES: readonly QueueRecipientState[] = ["queued", "deferred"];

/** One recipient of a queued message; times in ms since the epoch. */
export interface QueuedRecipientRecord {
  id: number;
  messageId: number;
  /** The address as given in the envelope. */
  recipient: string;
  /** Its domain, lower case: the unit of delivery (one transaction per message and domain). */
  domain: string;
  state: QueueRecipientState;
  /** Delivery attempts made (those that ended: a claim lost with its worker is not counted). */
  attempts: number;
  /** When it is due (queued, deferred); for the others, when it was due last. */
  nextAttemptAt: number;
  /** The reply of the last attempt ("451 4.3.0 Try later"), null before any. */
  lastReply: string | null;
  /** The server that gave the last reply ("mx.example.net [192.0.2.1]"), null if none answered. */
  remoteMta: string | null;
  /** When the claim of the worker delivering it runs out; 0 or past: nobody holds it. */
  claimedUntil: number;
  /** When a bounce named it (failed recipients only), null if none has. */
  reportedAt: number | null;
  updatedAt: number;
}

/** A queued message without its content (see {@link QueueRepository.content}). */
export interface QueuedMessageRecord {
  id: number;
  /** The sender account (the owner of its submission or vacation reply, the bounce's recipient); null: none. */
  accountId: number | null;
  /** The EmailSubmission it came from, null if none (or since forgotten). */
  submissionId: number | null;
  kind: QueueKind;
  /** The envelope sender; "" is the null sender. */
  mailFrom: string;
  /** The envelope id sent with MAIL FROM (RFC 3461 ENVID), null if none. */
  envelopeId: string | null;
  /** Size of the message in bytes. */
  size: number;
  createdAt: number;
  /** When the delay notice was sent to the sender, null if not (yet). */
  delayNotifiedAt: number | null;
  /** When the last bounce naming some of its failed recipients was made, null if none (yet). */
  bouncedAt: number | null;
  /** Stored unsigned: the delivery worker signs it before its first attempt (see storeSigned). */
  signPending: boolean;
  recipients: QueuedRecipientRecord[];
}

/** A message to enqueue. */
export interface NewQueuedMessage {
  accountId: number | null;
  submissionId: number | null;
  kind: QueueKind;
  mailFrom: string;
  envelopeId?: string | null;
  /** The message as it goes on the wire: DKIM-signed (unless `signPending`), without Bcc. */
  message: Uint8Array;
  /** The message is not signed yet: the delivery worker signs it before its first attempt. */
  signPending?: boolean;
  recipients: string[];
  createdAt: number;
  /** When the first attempt is due; default `createdAt`. */
  firstAttemptAt?: number;
}

/** The outcome of one attempt for one claimed recipient. */
export interface QueueResult {
  recipient: string;
  /** The new state: delivered, failed, or deferred (tried again at `nextAttemptAt`). */
  state: "delivered" | "deferred" | "failed";
  reply: string;
  remoteMta?: string | null;
  /** For deferred: when it is due again. */
  nextAttemptAt?: number;
}

/** Filter of {@link QueueRepository.list}; all given conditions must hold. */
export interface QueueFilter {
  /** Messages with a recipient in this state. */
  state?: QueueRecipientState;
  /** Messages with a recipient of this domain (lower case). */
  domain?: string;
  accountId?: number;
  /** Only messages with an id greater than this (paging). */
  afterId?: number;
  /** At most this many (default 100). */
  limit?: number;
}

/** Counts for metrics and the admin screens. */
export interface QueueStats {
  /** Recipients by state. */
  recipients: Record<QueueRecipientState, number>;
  /** Messages with an active recipient. */
  activeMessages: number;
  /** Creation time of the oldest message with an active recipient, null if none. */
  oldestActiveAt: number | null;
}

/** A due unit of work: the active recipients of one message at one domain. */
export interface DueDelivery {
  messageId: number;
  domain: string;
}

/** Persistence of the outbound queue. */
export interface QueueRepository {
  /** Stores a message and its recipients (state queued); its id. Joins the caller's transaction. */
  enqueue(message: NewQueuedMessage): Promise<number>;
  /** A message with its recipients, undefined if there is none. */
  get(id: number): Promise<QueuedMessageRecord | undefined>;
  /** The bytes of a message, undefined if there is none. */
  content(id: number): Promise<Uint8Array | undefined>;
  /**
   * Replaces the content of a message stored unsigned (`signPending`) by its signed bytes and clears
   * the mark, unless another worker did first; whether these bytes were stored. Either way
   * {@link content} then gives the bytes every attempt sends.
   */
  storeSigned(id: number, signed: Uint8Array): Promise<boolean>;
  /** Messages matching `filter`, by id. */
  list(filter?: QueueFilter): Promise<QueuedMessageRecord[]>;
  /** The messages of an EmailSubmission. */
  ofSubmission(submissionId: number): Promise<QueuedMessageRecord[]>;
  /** Due work at `now` that nobody holds: (message, domain) pairs, the longest waiting first. */
  due(now: number, limit: number): Promise<DueDelivery[]>;
  /**
   * Claims the due active recipients of a message at a domain until `until`, unless a claim of
   * theirs is still live at `now`; those claimed (none: someone else has them or nothing is due).
   * One statement, so of two workers or processes racing for them exactly one wins.
   */
  claim(messageId: number, domain: string, now: number, until: number): Promise<QueuedRecipientRecord[]>;
  /**
   * Claims several units as {@link claim} claims one, in one transaction (one commit for them all,
   * each unit still claimed by one statement that another worker's claim excludes); for each unit,
   * in the order given, the recipients claimed (none: someone else has it or nothing is due).
   */
  claimAll(units: DueDelivery[], now: number, until: number): Promise<QueuedRecipientRecord[][]>;
  /**
   * Records an attempt's outcome for claimed recipients, counts the attempt and releases their claim;
   * only recipients still active are changed (an operator's cancel meanwhile stands), and with
   * `claimedUntil` (the claim's `until`) only those the claim still holds: a worker whose lease ran
   * out and was claimed again changes nothing. The recipients it changed.
   */
  record(messageId: number, results: QueueResult[], now: number, claimedUntil?: number): Promise<string[]>;
  /** Releases a claim without counting an attempt (the worker gives the work back). */
  release(messageId: number, domain: string): Promise<void>;
  /**
   * Cancels the message if every recipient is still queued (never tried) and unclaimed at `now`,
   * the condition for undoing a submission (RFC 8621 §7.5); whether it was.
   */
  cancelUntried(messageId: number, now: number): Promise<boolean>;
  /** An operator's cancel: the active recipients nobody holds at `now` become canceled; how many. */
  cancel(messageId: number, now: number): Promise<number>;
  /** An operator's retry: the deferred recipients nobody holds are due at `now`; how many. */
  retryNow(messageId: number, now: number): Promise<number>;
  /** Deletes a message and its recipients unless one is claimed at `now`; whether it was. */
  delete(messageId: number, now: number): Promise<boolean>;
  /** Marks the delay notice sent; false when it already was (so it goes once). */
  markDelayNotified(messageId: number, now: number): Promise<boolean>;
  /**
   * Marks failed recipients of a message as named by a bounce, those no bounce has named yet; the ids
   * it marked (of two workers finishing domains of one message at once, each recipient goes to one).
   * The message's bouncedAt is set unless its sender is the null sender (nobody is told).
   */
  markReported(messageId: number, recipientIds: number[], now: number): Promise<number[]>;
  /**
   * Messages with a recipient that failed for good and that no bounce has named yet, nobody holding
   * it at `now`: the reports a worker owes (normally made at once; left here by one that died).
   */
  unreported(now: number, limit: number): Promise<number[]>;
  /**
   * Deletes at most `limit` finished messages: every recipient delivered, failed (and reported) or
   * canceled, none changed since `before`, none held at `now`; how many. One statement, so two
   * workers running it at once delete each message once.
   */
  purgeFinished(before: number, now: number, limit: number): Promise<number>;
  /** Counts of recipients and the age of the queue. */
  stats(): Promise<QueueStats>;
}

/** The domain of an address, lower case ("" if it has none). */
export function domainOf(address: string): string {
  const at = address.lastIndexOf("@");
  return at < 0 ? "" : address.slice(at + 1).toLowerCase();
}
