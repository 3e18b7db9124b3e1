/**
 * Reports from other servers about mail this server sent: a delivery status notification
 * (RFC 3464) delivered to an account here that is about one of that account's own submissions
 * updates the submission's deliveryStatus (RFC 8621 §7) and logs the change, so the sender's
 * client sees it (EmailSubmission/changes, a StateChange). The message is still delivered as mail.
 *
 * A report is matched, in this order:
 * 1. by its Original-Envelope-Id, when it is the ENVID this server sends with a submission
 *    ("postern-<submission number>", see dsn.ts submissionEnvelopeId);
 * 2. else by the Message-ID of the returned message or headers, equal to the submitted email's.
 *
 * Only reports that can be about mail this server sent count: with the null envelope sender (RFC
 * 3464 §2: every DSN is sent so), delivered to the account that owns the submission, and only for
 * recipients of that submission. Anyone can send a report, so what one can change is bounded by
 * what the account's own correspondents could claim anyway.
 */
import { getLogger } from "@logtape/logtape";
import type { DeliveryStatus, SubmissionRecord } from "../store/mod.ts";
import type { Change, LoggedWrite, Store } from "./deps.ts";
import { submissionOfEnvelopeId } from "./dsn.ts";
import { looksLikeDsn, type ParsedDsn, type ParsedDsnRecipient, parseDsn } from "./dsn_parse.ts";

/** Applies inbound delivery reports to the submissions they are about. */
export class DsnReceiver {
  constructor(
    private readonly store: Store,
    /** Logs changes in the write's transaction. */
    private readonly write: LoggedWrite,
  ) {}

  /**
   * Looks at a message just delivered to `accountIds` from envelope sender `mailFrom`: when it is a
   * report about a submission of one of those accounts, that submission's recipients are updated.
   * Returns how many submissions changed. Never throws for what the message holds.
   */
  async received(accountIds: readonly number[], mailFrom: string, message: Uint8Array): Promise<number> {
    if (mailFrom !== "" || !looksLikeDsn(message)) return 0;
    const dsn = parseDsn(message);
    if (!dsn) return 0;
    let changed = 0;
    for (const accountId of new Set(accountIds)) {
      for (const submission of await this.submissionsOf(accountId, dsn)) {
        if (await this.apply(submission.id, accountId, dsn)) changed++;
      }
    }
    return changed;
  }

  /** The account's submissions the report is about (by envelope id, else by Message-ID). */
  private async submissionsOf(accountId: number, dsn: ParsedDsn): Promise<SubmissionRecord[]> {
    const id = submissionOfEnvelopeId(dsn.originalEnvelopeId);
    if (id !== undefined) {
      const submission = await this.store.submissions.get(id);
      return submission?.accountId === accountId ? [submission] : [];
    }
    const messageId = dsn.originalMessageId?.slice(1, -1);
    if (!messageId) return [];
    return await this.store.submissions.byMessageId(accountId, messageId);
  }

  /** Updates the recipients of one submission the report names; whether anything changed. */
  private async apply(id: number, accountId: number, dsn: ParsedDsn): Promise<boolean> {
    return await this.write(async () => {
      // Read again inside the transaction: a worker may have settled it meanwhile.
      const submission = await this.store.submissions.get(id);
      if (!submission || submission.accountId !== accountId) return unchanged();
      const statuses = { ...submission.deliveryStatus };
      const recipients = new Map(submission.envelope.rcptTo.map((r) => [r.email.toLowerCase(), r.email]));
      let changed = false;
      for (const reported of dsn.recipients) {
        const address = recipients.get(reported.finalRecipient.toLowerCase()) ??
          recipients.get(reported.originalRecipient?.toLowerCase() ?? "");
        if (!address) continue;
        const next = nextStatus(statuses[address], reported);
        if (!next) continue;
        statuses[address] = next;
        changed = true;
      }
      if (!changed) return unchanged();
      await this.store.submissions.report(id, statuses);
      log.info("Delivery report for submission {id}: {recipients}", {
        id,
        recipients: dsn.recipients.map((r) => `${r.finalRecipient} ${r.action} ${r.status}`).join(", "),
      });
      const change: Change = { type: "EmailSubmission", objectId: id, kind: "updated", accountId };
      return { result: true, events: [], changes: [change] };
    });
  }
}

const log = getLogger(["postern", "mail", "dsn"]);

const unchanged = () => ({ result: false, events: [], changes: [] });

/**
 * A recipient's status after a report (RFC 8621 §7 deliveryStatus): failed → "no"; delivered →
 * "yes"; delayed keeps "queued" with the report's reason; relayed or expanded to where no report
 * follows → "unknown" unless already final. Undefined when the report changes nothing.
 */
function nextStatus(
  current: DeliveryStatus | undefined,
  reported: ParsedDsnRecipient,
): DeliveryStatus | undefined {
  const displayed = current?.displayed ?? "unknown";
  const smtpReply = replyOf(reported);
  const was = current?.delivered ?? "unknown";
  let delivered: DeliveryStatus["delivered"];
  switch (reported.action) {
    case "failed":
      delivered = "no";
      break;
    case "delivered":
      if (was === "no") return undefined;
      delivered = "yes";
      break;
    case "delayed":
      if (was !== "queued") return undefined;
      delivered = "queued";
      break;
    case "relayed":
    case "expanded":
      if (was !== "queued") return undefined;
      delivered = "unknown";
      break;
    default:
      return undefined;
  }
  if (current?.delivered === delivered && current.smtpReply === smtpReply) return undefined;
  return { delivered, smtpReply, displayed };
}

/**
 * The report as an SMTP reply (RFC 8621 smtpReply): the remote server's own reply when the
 * Diagnostic-Code quotes one, else one made of the Status and what the report says.
 */
function replyOf(reported: ParsedDsnRecipient): string {
  // deno-lint-ignore no-control-regex
  const diagnostic = (reported.diagnosticCode ?? "").replace(/[\x00-\x1f\x7f]+/g, " ").trim();
  if (reported.diagnosticType === "smtp" && /^[245]\d\d[ -]/.test(diagnostic)) {
    return diagnostic.replace(/^(\d\d\d)-/, "$1 ");
  }
  const code = reported.status.startsWith("2") ? "250" : reported.status.startsWith("4") ? "451" : "550";
  const reporter = `(reported by ${reported.remoteMta ?? "the receiving server"})`;
  return `${code} ${reported.status} ${diagnostic || `Delivery ${reported.action}`} ${reporter}`;
}
