/**
 * Mail arriving from outside (the MX): each recipient checked against the directory when it is
 * named, and the message stored for every local recipient in ONE transaction, so the sender's
 * acknowledgement (sent after this returns) means every copy is committed, and a failure stores
 * none. Deliveries that finish together share that transaction (group commit, group_commit.ts):
 * one commit, and one search-index flush, for several sessions' messages. The stored emails are
 * the ones Email/import makes (threads, search, quota, change log and so push), and each recipient
 * on vacation answers afterwards. An unknown address of a local domain goes to the domain's
 * catch-all, if it has one. An account that forwards (forwarding.ts) gets its forwarded copy queued
 * in the same transaction, and a bounce to one of this server's SRS addresses is relayed back.
 */
import { getLogger } from "@logtape/logtape";
import type { AccountService, DomainService } from "../directory/mod.ts";
import type { BlobService } from "./blobs.ts";
import type { LocalDelivery } from "./delivery.ts";
import { type InsertLog, insertPrepared } from "./email_import.ts";
import { concatBytes, type DmarcEnforcement, type Domain, type LoggedWrite, type Store } from "./deps.ts";
import type { NewQueuedMessage } from "../store/mod.ts";
import type { Forwarding } from "./forwarding.ts";
import { GroupCommit } from "./group_commit.ts";
import { groupedChanges } from "./change_runs.ts";
import { bareLineFeeds, type MessageFacts, messageFacts, traceKeepsFacts } from "./message_facts.ts";

/**
 * Why a recipient or a message is refused, for the surface to word in its protocol (see
 * smtp/replies.ts): no such address, a disabled account, a domain that is not ours (relaying), a
 * mailbox too full for now, or a message larger than the mailbox's whole quota.
 */
export type InboundRefusal = "unknownRecipient" | "disabled" | "relayDenied" | "mailboxFull" | "tooLarge";

/** A refusal thrown by {@link InboundDelivery.deliver}; nothing was stored. */
export class InboundRefusalError extends Error {
  override name = "InboundRefusalError";
  constructor(readonly reason: InboundRefusal, message: string) {
    super(message);
  }
}

/** A recipient that passed its check: the address as given and the accounts it delivers to. */
export interface AcceptedRecipient {
  /** The address exactly as the sender named it (a +tag included), recorded in Delivered-To. */
  address: string;
  accountIds: number[];
  /** What its domain does with mail failing DMARC (see mail/authentication.ts). */
  dmarcEnforcement?: DmarcEnforcement;
  /** For a valid SRS address (no account): the original sender a bounce is relayed to. */
  relayTo?: string;
}

/** The answer to a recipient check. */
export type RecipientCheck =
  | { accepted: true; recipient: AcceptedRecipient }
  | { accepted: false; reason: InboundRefusal; detail: string };

/** A message to store, with its envelope. */
export interface InboundMessage {
  /** The envelope sender ("" for the null sender). */
  mailFrom: string;
  recipients: readonly AcceptedRecipient[];
  /** The message as received (CRLF line ends, dot-stuffing removed). */
  message: Uint8Array;
  /** The trace header field (a complete `Received:` line with its CRLF) for the copy of a recipient. */
  received: (recipient: string) => string;
  /** Recipient addresses whose copy is filed in Junk (the Inbox when the account has none). */
  junk?: ReadonlySet<string>;
  /** The facts of `message`, if already gathered (by the authentication worker): not parsed again. */
  facts?: MessageFacts;
  /**
   * Whether every LF of `message` follows a CR (the MX's data guard refuses any other, smtp/data_guard.ts):
   * then each copy's IMAP size is known without the insert reading it back.
   */
  crlf?: boolean;
  /** What {@link InboundDelivery.announce} returned for this message: called once it joins a commit. */
  arrived?: () => void;
}

/** One recipient account's copy of a message, ready to be written. */
interface Copy {
  accountId: number;
  address: string;
  data: Uint8Array;
  /** The mailbox it is filed in: the Inbox, or Junk. */
  inbox: number;
  hash: Uint8Array;
  facts: MessageFacts;
  /** The account's quota in bytes, if it has one. */
  limit: number | undefined;
  /** Its IMAP size when known (see InboundMessage.crlf). */
  imapSize?: number | null;
}

/** One delivery's copies, for a batch of {@link GroupCommit}. */
interface Delivery {
  copies: Copy[];
  /** Outbound queue rows written with the copies: forwards and relayed bounces. */
  queued: NewQueuedMessage[];
  now: number;
  receivedAt: number;
}

/** Checks recipients and stores inbound mail. */
export class InboundDelivery {
  readonly #commits = new GroupCommit<Delivery, number>((jobs) => this.#writeBatch(jobs));

  constructor(
    private readonly store: Store,
    private readonly deps: {
      accounts: AccountService;
      domains: DomainService;
      blobs: BlobService;
      local: LocalDelivery;
      write: LoggedWrite;
      /** Looks at each stored message for a delivery report about the accounts' own submissions (dsn_inbound.ts). */
      reports?: {
        received(accountIds: readonly number[], mailFrom: string, message: Uint8Array): Promise<number>;
      };
      /** Forwards mail of accounts that forward and relays bounces to SRS addresses; absent: neither. */
      forwarding?: Forwarding;
    },
  ) {}

  /**
   * Whether mail to `address` can be delivered now: an address, alias or group of one of this
   * server's domains (a `+tag` after the local part ignored), enabled, with room for `size` bytes
   * when the sender declared it (RFC 1870) and for at least one byte otherwise.
   */
  checkRecipient(address: string, size?: number): Promise<RecipientCheck> {
    return this.check(address, size, true);
  }

  /** {@link checkRecipient}, following the domain's catch-all only when `catchAll` is true. */
  private async check(address: string, size: number | undefined, catchAll: boolean): Promise<RecipientCheck> {
    const at = address.lastIndexOf("@");
    if (at <= 0) return refused("unknownRecipient", `"${address}" is not an address of this server`);
    const domainName = address.slice(at + 1).toLowerCase();
    const domain = await this.deps.domains.getByName(domainName);
    if (!domain) return refused("relayDenied", `This server does not relay to "${domainName}"`);
    const id = await this.accountOf(address.slice(0, at), domainName);
    const srs = id === undefined ? this.deps.forwarding?.reverse(address.slice(0, at)) : undefined;
    if (srs) {
      // A bounce of forwarded mail: relayed to whoever sent the original (550 5.1.1 when not ours).
      if (!srs.ok) {
        return refused("unknownRecipient", `No mailbox "${address}" here (SRS address: ${srs.reason})`);
      }
      return { accepted: true, recipient: { address, accountIds: [], relayTo: srs.address } };
    }
    if (id === undefined) {
      if (!catchAll) return refused("unknownRecipient", `No mailbox "${address}" here`);
      return await this.catchAll(address, domain, size);
    }
    const account = await this.deps.accounts.get(id);
    if (!account) return refused("unknownRecipient", `No mailbox "${address}" here`);
    if (!account.enabled) return refused("disabled", `The mailbox "${address}" is disabled`);
    let accountIds = [id];
    if (account.type === "Group") {
      // A group's address is a distribution list: every enabled member gets a copy.
      accountIds = [];
      for (const member of await this.deps.accounts.query({ memberOf: id })) {
        if ((await this.deps.accounts.get(member))?.enabled) accountIds.push(member);
      }
      if (accountIds.length === 0) {
        return refused("unknownRecipient", `The group "${address}" has no members`);
      }
    }
    for (const accountId of accountIds) {
      const limit = (await this.deps.accounts.get(accountId))?.quotas.maxDiskQuota;
      if (limit === undefined) continue;
      if (size !== undefined && size > limit) {
        return refused("tooLarge", `A message of ${size} bytes exceeds the quota of "${address}"`);
      }
      const used = await this.store.blobs.usedBytes(accountId);
      if (used + (size ?? 1) > limit) return refused("mailboxFull", `The mailbox "${address}" is full`);
    }
    return {
      accepted: true,
      recipient: { address, accountIds, dmarcEnforcement: domain.dmarcEnforcement },
    };
  }

  /**
   * Says a message is on its way to {@link deliver} (received, its authentication still being
   * checked), so the commit it would just miss waits a little for it (group_commit.ts); returns what
   * to call once it is delivered or given up (deliver calls it too, as it submits the message).
   */
  announce(): () => void {
    return this.#commits.expect();
  }

  /**
   * Stores the message in the Inbox (Junk for the `junk` recipients) of every account of every recipient (once per account) in one
   * transaction; throws InboundRefusalError (nothing stored) when a quota has no room for it.
   * Returns how many emails were stored.
   */
  async deliver(input: InboundMessage): Promise<number> {
    const now = Date.now();
    const receivedAt = Math.floor(now / 1000) * 1000;
    // Everything but store calls happens before the transaction (see Store.transaction).
    const copies: {
      accountId: number;
      address: string;
      trace: Uint8Array;
      data: Uint8Array;
      inbox: number;
    }[] = [];
    const queued: NewQueuedMessage[] = [];
    const seen = new Set<number>();
    const encoder = new TextEncoder();
    for (const recipient of input.recipients) {
      if (recipient.relayTo && this.deps.forwarding) {
        const trace = input.received(recipient.address);
        queued.push(this.deps.forwarding.relay({ ...input, to: recipient.relayTo, trace }, now));
      }
      for (const accountId of recipient.accountIds) {
        if (seen.has(accountId)) continue;
        seen.add(accountId);
        const forward = await this.#forward(accountId, recipient.address, input, now);
        if (forward) queued.push(forward.row);
        if (forward && !forward.keepCopy) continue;
        // Two indexed reads (mailboxes_role) instead of every mailbox of the account.
        const wanted = input.junk?.has(recipient.address) ? ["junk", "inbox"] : ["inbox"];
        const mailboxes = await this.store.mailboxes.withRoles(accountId, wanted);
        const inbox = mailboxes.find((m) => m.role === "junk") ?? mailboxes.find((m) => m.role === "inbox");
        if (!inbox) continue;
        const trace = encoder.encode(
          `Return-Path: <${input.mailFrom}>\r\nDelivered-To: ${recipient.address}\r\n` +
            input.received(recipient.address),
        );
        copies.push({
          accountId,
          address: recipient.address,
          trace,
          data: concatBytes(trace, input.message),
          inbox: inbox.id,
        });
      }
    }
    const limits = new Map<number, number | undefined>();
    for (const { accountId } of copies) {
      limits.set(accountId, (await this.deps.accounts.get(accountId))?.quotas.maxDiskQuota);
    }
    // Every copy has the facts of the message: the trace fields prepended are none the facts read.
    const facts = input.facts && traceKeepsFacts(input.message) ? input.facts : undefined;
    const prepared = copies.map(({ trace, ...c }) => ({
      ...c,
      hash: this.deps.blobs.hashOf(c.data),
      facts: facts ?? messageFacts(c.data),
      // Known without reading the copy back when the message has no bare LF: only the trace's count.
      imapSize: input.crlf ? imapSize(c.data.length, bareLineFeeds(trace)) : undefined,
      limit: limits.get(c.accountId),
    }));
    const submitted = this.#commits.submit({ copies: prepared, queued, now, receivedAt });
    input.arrived?.();
    const stored = await submitted;
    for (const p of prepared) {
      if (input.mailFrom) await this.deps.local.answerIfAway(p.accountId, p.data, input.mailFrom);
    }
    await this.#readReports(input, prepared.map((p) => p.accountId));
    return stored;
  }

  /**
   * The last resort for an unknown address of a local domain: the domain's catch-all address, checked
   * as a recipient itself (its own domain's catch-all is not followed again). The copy keeps the
   * address the sender named (Delivered-To). A catch-all that does not resolve, or names a disabled
   * account, refuses the address as unknown, so nothing about the catch-all shows; a full mailbox
   * is said (452 lets the sender retry).
   */
  private async catchAll(address: string, domain: Domain, size?: number): Promise<RecipientCheck> {
    const unknown = refused("unknownRecipient", `No mailbox "${address}" here`);
    const target = domain.catchAll;
    if (!target) return unknown;
    const at = target.lastIndexOf("@");
    const local = at > 0 ? await this.accountOf(target.slice(0, at), target.slice(at + 1)) : undefined;
    if (local === undefined) {
      log.warn("The catch-all {target} of {address}'s domain names no account or group", { target, address });
      return unknown;
    }
    const check = await this.check(target, size, false);
    if (!check.accepted) {
      return check.reason === "mailboxFull" || check.reason === "tooLarge" ? check : unknown;
    }
    // The receiving domain's DMARC enforcement applies, not the catch-all address's domain's.
    return {
      accepted: true,
      recipient: {
        address,
        accountIds: check.recipient.accountIds,
        dmarcEnforcement: domain.dmarcEnforcement,
      },
    };
  }

  /**
   * Writes the messages of several deliveries in one transaction (see group_commit.ts). A delivery a
   * quota has no room for is refused alone, before any of its copies is written; the others go on.
   */
  async #writeBatch(jobs: Delivery[]): Promise<(number | Error)[]> {
    return await this.deps.write(async () => {
      const log: InsertLog = { now: jobs[0].now, changes: [], recounted: new Set() };
      const outcomes: (number | Error)[] = [];
      const recounted = new Set<number>();
      for (const job of jobs) {
        const refusal = await this.#roomFor(job.copies);
        if (refusal) {
          outcomes.push(refusal);
          continue;
        }
        let count = 0;
        for (const p of job.copies) {
          const blob = await this.store.blobs.put(p.hash, p.data, job.now);
          // The same octets, trace fields included, already in this account: a replay, stored once
          // (checked here in the write's transaction; the schema allows copies for IMAP APPEND).
          if (await this.store.emails.idByBlob(p.accountId, blob.id) !== undefined) continue;
          const item = { blobId: "", mailboxIds: [p.inbox], keywords: [] };
          await insertPrepared(this.store, p.accountId, {
            item,
            blob,
            data: p.data,
            facts: p.facts,
            imapSize: p.imapSize,
            receivedAt: job.receivedAt,
          }, log);
          // One counts-only change per mailbox per batch says all Mailbox/changes needs to know.
          if (!recounted.has(p.inbox)) {
            recounted.add(p.inbox);
            log.changes.push({
              type: "Mailbox",
              objectId: p.inbox,
              kind: "updated",
              accountId: p.accountId,
              countsOnly: true,
            });
          }
          count++;
        }
        for (const row of job.queued) await this.store.queue.enqueue(row);
        outcomes.push(count);
      }
      return { result: outcomes, events: [], changes: groupedChanges(log.changes) };
    });
  }

  /** The account's forward of this message, if it forwards it, and whether it keeps its own copy. */
  async #forward(accountId: number, address: string, input: InboundMessage, now: number) {
    const forwarding = this.deps.forwarding;
    if (!forwarding) return undefined;
    const account = await this.deps.accounts.get(accountId);
    if (!account?.forwardTo.length) return undefined;
    const row = await forwarding.plan({
      account,
      // A group's or catch-all's copy is forwarded from the member's own address.
      address: recipientIs(account, address) ? address : account.primaryAddress,
      mailFrom: input.mailFrom,
      message: input.message,
      trace: input.received(address),
      junk: input.junk?.has(address) ?? false,
    }, now);
    return row && { row, keepCopy: account.forwardKeepCopy };
  }

  /** Hands a stored message to the report reader; what goes wrong there never undoes the delivery. */
  async #readReports(input: InboundMessage, accountIds: number[]): Promise<void> {
    if (!this.deps.reports || accountIds.length === 0) return;
    try {
      await this.deps.reports.received(accountIds, input.mailFrom, input.message);
    } catch (error) {
      log.warn("A delivery report could not be applied: {error}", { error: String(error) });
    }
  }

  /** Why a quota has no room for one of `copies` (each to another account), if one has none. */
  async #roomFor(copies: readonly Copy[]): Promise<InboundRefusalError | undefined> {
    for (const p of copies) {
      if (p.limit === undefined || await this.store.blobs.isLinked(p.accountId, p.hash)) continue;
      const used = await this.store.blobs.usedBytes(p.accountId);
      if (used + p.data.length > p.limit) {
        return new InboundRefusalError(
          p.data.length > p.limit ? "tooLarge" : "mailboxFull",
          `The mailbox "${p.address}" has no room for a message of ${p.data.length} bytes`,
        );
      }
    }
    return undefined;
  }

  /** The account of `local@domain`, or of `base@domain` for a plus address `base+tag@domain`. */
  private async accountOf(local: string, domain: string): Promise<number | undefined> {
    const exact = await this.deps.accounts.idByLogin(`${local}@${domain}`.toLowerCase());
    if (exact !== undefined) return exact;
    const plus = local.indexOf("+");
    if (plus <= 0) return undefined;
    return await this.deps.accounts.idByLogin(`${local.slice(0, plus)}@${domain}`.toLowerCase());
  }
}

const log = getLogger(["postern", "mail", "inbound"]);

/** Whether `address` (a +tag ignored) is one of the account's own. */
function recipientIs(account: { primaryAddress: string; aliases: string[] }, address: string): boolean {
  const bare = address.toLowerCase().replace(/\+[^@]*@/, "@");
  return [account.primaryAddress, ...account.aliases].some((a) => a.toLowerCase() === bare);
}

/** An IMAP size as the emails table keeps it: null when it is the size (no bare LF). */
function imapSize(size: number, bare: number): number | null {
  return bare === 0 ? null : size + bare;
}

function refused(reason: InboundRefusal, detail: string): RecipientCheck {
  return { accepted: false, reason, detail };
}
