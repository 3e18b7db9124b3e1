/**
 * Delivery of a sent message to the accounts of this server: a copy into each recipient's Inbox,
 * as an import by that account (its quota counts), without the Bcc header (RFC 5321 §7.2, RFC 8621
 * §7: recipients must not see who else was blind-copied). A group's address reaches its members.
 * A recipient on vacation answers the envelope sender (see VacationService); the answer goes with
 * a null sender, so nothing answers it in turn.
 */
import type { AccountService } from "../directory/mod.ts";
import type { DeliveryStatus } from "../store/mod.ts";
import type { BlobService } from "./blobs.ts";
import { concatBytes, QuotaError, type Store } from "./deps.ts";
import type { EmailService } from "./emails.ts";
import type { VacationService } from "./vacation.ts";

/** Delivers to local accounts. */
export class LocalDelivery {
  /**
   * Sends an automatic reply to a sender elsewhere, with the null sender (the outbound queue:
   * mail/queue.ts); unset, such replies are not sent.
   */
  replyElsewhere?: (accountId: number, to: string, message: Uint8Array) => Promise<void>;

  constructor(
    private readonly store: Store,
    private readonly accounts: AccountService,
    private readonly blobs: BlobService,
    private readonly emails: () => EmailService,
    private readonly vacation: VacationService,
  ) {}

  /** The account an address delivers to, if it is one of this server's. */
  async accountOf(address: string): Promise<number | undefined> {
    if (!address.includes("@")) return undefined;
    return await this.accounts.idByLogin(address.toLowerCase());
  }

  /**
   * Delivers `message` from envelope sender `mailFrom` ("" for none) to the account of `address`;
   * the outcome as RFC 8621 reports it.
   */
  async deliver(address: string, message: Uint8Array, mailFrom = ""): Promise<DeliveryStatus> {
    const id = await this.accountOf(address);
    if (id === undefined) return status("no", "550 5.1.1 No such user here");
    const account = await this.accounts.get(id);
    if (!account?.enabled) return status("no", "550 5.2.1 Mailbox disabled");
    const targets = account.type === "Group" ? await this.accounts.query({ memberOf: id }) : [id];
    const copy = withoutBcc(message);
    let delivered = 0;
    let lastReply = "550 5.1.1 The group has no members";
    for (const target of targets) {
      const reply = await this.intoInbox(target, copy);
      if (reply.startsWith("250")) {
        delivered++;
        await this.answerIfAway(target, copy, mailFrom);
      }
      lastReply = reply;
    }
    return delivered ? status("yes", "250 2.0.0 Delivered to the Inbox") : status("no", lastReply);
  }

  /** The recipient's vacation reply: into the Inbox of a local sender, else queued to the sender. */
  async answerIfAway(accountId: number, message: Uint8Array, mailFrom: string): Promise<void> {
    if (!mailFrom) return;
    const reply = await this.vacation.replyFor(accountId, message, mailFrom);
    if (!reply) return;
    if (await this.accountOf(reply.to) !== undefined) await this.deliver(reply.to, reply.message);
    else await this.replyElsewhere?.(accountId, reply.to, reply.message);
  }

  private async intoInbox(accountId: number, message: Uint8Array): Promise<string> {
    const inbox = (await this.store.mailboxes.list(accountId)).find((m) => m.role === "inbox");
    if (!inbox) return "550 5.1.1 The recipient has no Inbox";
    try {
      const upload = await this.blobs.upload(accountId, accountId, { data: message, type: "message/rfc822" });
      const [outcome] = await this.emails().import(accountId, accountId, [{
        blobId: upload.blobId,
        mailboxIds: [inbox.id],
        keywords: [],
      }]);
      if (!("type" in outcome)) return "250 2.0.0 Delivered";
      // The same message twice in one account is delivered already.
      if (outcome.type === "alreadyExists") return "250 2.0.0 Delivered (already there)";
      return outcome.type === "overQuota" ? "552 5.2.2 Mailbox full" : `550 5.0.0 ${outcome.description}`;
    } catch (error) {
      if (error instanceof QuotaError) return "552 5.2.2 Mailbox full";
      throw error;
    }
  }
}

/** A recipient's delivery status with the SMTP reply that explains it. */
export function status(delivered: DeliveryStatus["delivered"], smtpReply: string): DeliveryStatus {
  return { smtpReply, delivered, displayed: "unknown" };
}

/** The message without its Bcc header field (folded lines included). */
export function withoutBcc(message: Uint8Array): Uint8Array {
  // Windows-1252 maps each byte to one character: string offsets are byte offsets.
  const text = new TextDecoder("windows-1252").decode(message);
  // The header block with the line break of its last field; the empty line and body follow.
  const separator = /\r?\n(\r?\n)/.exec(text);
  if (!separator) return message;
  const end = separator.index + separator[0].length - separator[1].length;
  const parts: Uint8Array[] = [];
  let offset = 0;
  let dropping = false;
  let dropped = false;
  for (const line of text.slice(0, end).split(/(?<=\n)/)) {
    if (!/^[ \t]/.test(line)) dropping = /^bcc\s*:/i.test(line);
    if (dropping) dropped = true;
    else parts.push(message.subarray(offset, offset + line.length));
    offset += line.length;
  }
  if (!dropped) return message;
  parts.push(message.subarray(end));
  return concatBytes(...parts);
}
