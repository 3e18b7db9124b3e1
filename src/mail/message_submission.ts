/**
 * A message submitted whole over SMTP (RFC 6409) by an authenticated account enters the path of
 * EmailSubmission/set: it is checked with the same rules (the envelope sender and the From and Sender
 * fields are addresses the account may send as), kept in the account's Sent mailbox as a client
 * would with onSuccessUpdateEmail, and recorded as an EmailSubmission that is then sent as JMAP sends
 * (local recipients' Inboxes, the smarthost for the rest). Read in order: maySendAs (MAIL FROM),
 * submit (after DATA).
 */
import type { SubmissionRecord } from "../store/mod.ts";
import type { BlobService } from "./blobs.ts";
import { QuotaError, RuleError, type Store } from "./deps.ts";
import type { EmailService } from "./emails.ts";
import type { IdentityService } from "./identities.ts";
import { messageHeaders } from "./mime/mod.ts";
import { checkAuthors, type SubmissionService } from "./submissions.ts";

/** What an SMTP transaction hands over after DATA. */
export interface SubmittedMessage {
  mailFrom: string;
  rcptTo: string[];
  message: Uint8Array;
}

/** Messages of SMTP submission into the EmailSubmission path. */
export class MessageSubmission {
  constructor(
    private readonly store: Store,
    private readonly deps: {
      identities: IdentityService;
      emails: EmailService;
      blobs: BlobService;
      submissions: SubmissionService;
    },
  ) {}

  /** Whether the account may use `address` as its envelope sender (EmailSubmission's own rule). */
  async maySendAs(accountId: number, address: string): Promise<boolean> {
    return (await this.deps.identities.addresses(accountId)).includes(address.toLowerCase());
  }

  /**
   * Checks, stores in Sent and records the submission; the send then runs, handed to `detach`. A
   * refusal is a RuleError (forbiddenMailFrom, forbiddenFrom, noSentMailbox) or a QuotaError.
   */
  async submit(
    accountId: number,
    input: SubmittedMessage,
    detach: (sending: Promise<void>) => void,
  ): Promise<SubmissionRecord> {
    if (!await this.maySendAs(accountId, input.mailFrom)) {
      throw new RuleError("forbiddenMailFrom", `"${input.mailFrom}" is not an address of this account`);
    }
    checkAuthors(messageHeaders(input.message), await this.deps.identities.addresses(accountId));
    const sent = (await this.store.mailboxes.list(accountId)).find((m) => m.role === "sent");
    if (!sent) throw new RuleError("forbidden", "The account has no Sent mailbox to keep the message in");
    const upload = await this.deps.blobs.upload(accountId, accountId, {
      data: input.message,
      type: "message/rfc822",
    });
    const [stored] = await this.deps.emails.import(accountId, accountId, [{
      blobId: upload.blobId,
      mailboxIds: [sent.id],
      keywords: ["$seen"],
    }]);
    let emailId: number;
    if (!("type" in stored)) emailId = stored.id;
    else if (stored.type === "alreadyExists" && stored.existingId !== undefined) emailId = stored.existingId;
    else if (stored.type === "overQuota") throw new QuotaError(stored.description);
    else throw new RuleError("forbidden", stored.description);
    const from = input.mailFrom.toLowerCase();
    const identity = (await this.deps.identities.list(accountId, accountId)).find((i) => i.email === from);
    if (!identity) {
      throw new RuleError("forbiddenMailFrom", `"${input.mailFrom}" has no identity in this account`);
    }
    return await this.deps.submissions.create(accountId, accountId, {
      identityId: identity.id,
      emailId,
      envelope: {
        mailFrom: { email: input.mailFrom, parameters: null },
        rcptTo: input.rcptTo.map((email) => ({ email, parameters: null })),
      },
    }, { detach });
  }
}
