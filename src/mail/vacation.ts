/**
 * Vacation responses (RFC 8621 §8) and their effect: while one is enabled and inside its dates, a
 * message delivered to the account gets an automatic reply, once per sender per period (the period
 * starts again whenever the response is changed). The rules of RFC 3834 and RFC 5230 §4.5 keep it
 * from answering what must not be answered: other automatic mail, mailing lists, null senders,
 * daemons, the account itself, and mail where none of the account's addresses is a direct recipient.
 */
import type { AccountService } from "../directory/mod.ts";
import type { VacationRecord } from "../store/mod.ts";
import { composeMessage } from "./compose.ts";
import { ForbiddenError, InvalidInputError, type LoggedWrite, type Store } from "./deps.ts";
import { asAddresses, asMessageIds, asText, htmlToText, lastHeader, messageHeaders } from "./mime/mod.ts";

/** The writable properties of a vacation response (dates in ms since the epoch). */
export type VacationInput = Partial<Omit<VacationRecord, "accountId" | "period">>;

/** An automatic reply to send: to whom, and the message. */
export interface VacationReply {
  to: string;
  message: Uint8Array;
}

const DISABLED: Omit<VacationRecord, "accountId"> = {
  isEnabled: false,
  fromDate: null,
  toDate: null,
  subject: null,
  textBody: null,
  htmlBody: null,
  period: 0,
};

/** Local parts that are programs, not people (RFC 5230 §4.5). */
const DAEMON =
  /^(mailer-daemon|postmaster|listserv|majordomo|owner-.*|.*-request|.*-owner|no-?reply|bounces?)$/i;

/** Vacation responses of an account by its owner, and the replies they make. */
export class VacationService {
  constructor(
    private readonly store: Store,
    private readonly accounts: AccountService,
    private readonly write: LoggedWrite,
  ) {}

  /** The account's response (disabled and empty until first set). */
  async get(viewerId: number, accountId: number): Promise<VacationRecord> {
    this.requireOwner(viewerId, accountId);
    return await this.store.vacation.get(accountId) ?? { ...DISABLED, accountId };
  }

  /** Changes the response; the once-per-sender period starts again. */
  async update(viewerId: number, accountId: number, input: VacationInput): Promise<VacationRecord> {
    const current = await this.get(viewerId, accountId);
    const next: VacationRecord = { ...current, ...input, accountId, period: Date.now() };
    if (next.fromDate !== null && next.toDate !== null && next.toDate < next.fromDate) {
      const message = "must not be before fromDate";
      throw new InvalidInputError(`Invalid "toDate": ${message}`, [{ property: "toDate", message }]);
    }
    return await this.write(async () => {
      await this.store.vacation.put(next);
      return {
        result: next,
        events: [],
        changes: [{ type: "VacationResponse", objectId: accountId, kind: "updated", accountId }],
      };
    });
  }

  /**
   * The automatic reply `accountId` makes to `message` from envelope sender `mailFrom`, if it makes
   * one now; the sender counts as answered for the period.
   */
  async replyFor(accountId: number, message: Uint8Array, mailFrom: string, now = Date.now()): Promise<
    VacationReply | null
  > {
    const vacation = await this.store.vacation.get(accountId);
    if (!vacation?.isEnabled) return null;
    if (vacation.fromDate !== null && now < vacation.fromDate) return null;
    if (vacation.toDate !== null && now >= vacation.toDate) return null;
    const sender = mailFrom.trim().toLowerCase();
    if (!sender.includes("@") || DAEMON.test(sender.split("@")[0])) return null;
    const account = await this.accounts.get(accountId);
    if (!account) return null;
    const groups = await Promise.all(account.memberGroupIds.map((id) => this.accounts.get(id)));
    const own = new Set(
      [
        account.primaryAddress,
        ...account.aliases,
        ...groups.flatMap((g) => g ? [g.primaryAddress, ...g.aliases] : []),
      ]
        .map((a) => a.toLowerCase()),
    );
    if (own.has(sender)) return null;
    const headers = messageHeaders(message);
    const header = (name: string) => lastHeader(headers, name);
    const autoSubmitted = header("auto-submitted")?.trim().toLowerCase();
    if (autoSubmitted && !autoSubmitted.startsWith("no")) return null;
    if (/^\s*(bulk|list|junk)\b/i.test(header("precedence") ?? "")) return null;
    if (header("list-id") !== undefined || header("list-unsubscribe") !== undefined) return null;
    const direct = headers
      .filter((h) => /^(to|cc|resent-to|resent-cc)$/i.test(h.name))
      .flatMap((h) => asAddresses(h.value))
      .some((a) => own.has(a.email.toLowerCase()));
    if (!direct) return null;
    if (!(await this.store.vacation.markReplied(accountId, sender, vacation.period, now))) return null;

    const originalSubject = asText(header("subject") ?? "");
    const messageId = asMessageIds(header("message-id") ?? "") ?? [];
    const references = [...(asMessageIds(header("references") ?? "") ?? []), ...messageId];
    const html = vacation.htmlBody ?? undefined;
    const text = vacation.textBody ?? (html !== undefined ? htmlToText(html) : "");
    const reply = await composeMessage({
      from: [{ name: account.description ?? null, email: account.primaryAddress }],
      to: [{ name: null, email: sender }],
      subject: vacation.subject ?? `Auto: ${originalSubject}`.trim(),
      inReplyTo: messageId,
      references,
      headers: [{ name: "Auto-Submitted", value: "auto-replied" }],
      text,
      html,
      attachments: [],
    }, { hostname: account.primaryAddress.split("@")[1] ?? "localhost" });
    return { to: sender, message: reply };
  }

  private requireOwner(viewerId: number, accountId: number): void {
    if (viewerId !== accountId) {
      throw new ForbiddenError("A vacation response is its account's own: a shared account's is not yours");
    }
  }
}
