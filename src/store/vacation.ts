/** Persistence of vacation responses and of the senders they have answered. */
import { CommitMemo } from "./commit_memo.ts";
import type { Db, Row } from "./db.ts";

/** An account's vacation response; dates in ms since the epoch. */
export interface VacationRecord {
  accountId: number;
  isEnabled: boolean;
  fromDate: number | null;
  toDate: number | null;
  subject: string | null;
  textBody: string | null;
  htmlBody: string | null;
  /** When the response was last changed: the period its "once per sender" counts in. */
  period: number;
}

/** Persistence of vacation responses. */
export interface VacationRepository {
  get(accountId: number): Promise<VacationRecord | undefined>;
  put(record: VacationRecord): Promise<void>;
  /** Records that `sender` is answered in `period`; false when it already was. */
  markReplied(accountId: number, sender: string, period: number, now: number): Promise<boolean>;
}

const nullableNumber = (value: Row[string]) => value === null ? null : Number(value);
const nullableText = (value: Row[string]) => value === null ? null : String(value);

/** SQLite implementation of {@link VacationRepository}. */
export function sqliteVacation(
  db: Db,
  changeSignal: () => number | undefined = () => undefined,
): VacationRepository {
  // An account's vacation response, read again only after a commit (commit_memo.ts): the MX asks for
  // the recipient's on every message it stores. Each caller gets its own copy.
  const memo = new CommitMemo<number, VacationRecord | undefined>(db, changeSignal);
  const read = (accountId: number): VacationRecord | undefined => {
    const row = db.get("SELECT * FROM vacation_responses WHERE account_id = ?", accountId);
    return row && {
      accountId,
      isEnabled: Number(row.is_enabled) === 1,
      fromDate: nullableNumber(row.from_date),
      toDate: nullableNumber(row.to_date),
      subject: nullableText(row.subject),
      textBody: nullableText(row.text_body),
      htmlBody: nullableText(row.html_body),
      period: Number(row.period),
    };
  };
  return {
    get(accountId) {
      const record = memo.get(accountId, () => read(accountId));
      return Promise.resolve(record && { ...record });
    },
    put(v) {
      db.run(
        `INSERT INTO vacation_responses (account_id, is_enabled, from_date, to_date, subject, text_body, html_body,
           period) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (account_id) DO UPDATE SET is_enabled = excluded.is_enabled, from_date = excluded.from_date,
           to_date = excluded.to_date, subject = excluded.subject, text_body = excluded.text_body,
           html_body = excluded.html_body, period = excluded.period`,
        v.accountId,
        v.isEnabled ? 1 : 0,
        v.fromDate,
        v.toDate,
        v.subject,
        v.textBody,
        v.htmlBody,
        v.period,
      );
      return Promise.resolve();
    },
    markReplied(accountId, sender, period, now) {
      // A row of an earlier period is replaced; one of this period stays and the answer is false.
      const changed = db.run(
        `INSERT INTO vacation_replies (account_id, sender, period, replied_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (account_id, sender) DO UPDATE SET period = excluded.period, replied_at = excluded.replied_at
           WHERE vacation_replies.period <> excluded.period`,
        accountId,
        sender,
        period,
        now,
      ).changes;
      return Promise.resolve(changed > 0);
    },
  };
}
