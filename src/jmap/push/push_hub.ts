/**
 * Push (RFC 8620 §7): who listens for state changes, and telling them. The change log is the source:
 * every write of every process appends to it, so one cursor over it sees the CLI's and the TUI's
 * writes as well as this server's. While anyone listens the hub looks as soon as a write of this
 * process that logged changes commits, and every 25 ms for other processes' writes (one indexed read);
 * each listener gets, per account it can see and type it asked for, the newest state. In an account
 * shared with it, a listener hears only of what it may see (GRANTEE_TYPES, and only when a change
 * touched a mailbox, email or thread it sees, or its view of the mailboxes), never of the owner's
 * private mailboxes, submissions, identities or vacation response. An account that shared with it
 * and was deleted (its own log went with it) is told by a SHARER_GONE row in the grantee's account:
 * the listener gets that account's mail types at the row's position, so a JMAP client asks and learns
 * the account is gone (accountNotFound, a new session state) and an idling IMAP session syncs and ends.
 */
// MAILBOX_VIEW: who came to see or lost sight of a mailbox; the grantee is the row's owner.
import { setImmediate } from "node:timers";
import { type ChangeService, MAILBOX_VIEW, SHARER_GONE } from "../../directory/mod.ts";
import type { EmailService, MailboxService } from "../../mail/mod.ts";
import { encodeId } from "../../model/ids.ts";

/** RFC 8620 §7.1 StateChange `changed`: account id → type name → state. */
export type Changed = Record<string, Record<string, string>>;

/** One listener: an EventSource response or a WebSocket with push enabled. */
export interface Listener {
  /** The account that listens (it sees its own and those shared with it). */
  accountId: number;
  /** Type names it wants, or null for all. */
  types: ReadonlySet<string> | null;
  /** Receives the changes; called at most once per look. */
  notify(changed: Changed): void;
}

/** Change-log types that are JMAP data types of mail accounts, by their names on the wire. */
const PUSHED_TYPES: Readonly<Record<string, string>> = {
  Mailbox: "Mailbox",
  Email: "Email",
  Thread: "Thread",
  ShareNotification: "ShareNotification",
  EmailSubmission: "EmailSubmission",
  Identity: "Identity",
  VacationResponse: "VacationResponse",
};

/** What a grantee may read of an account shared with it: its mail, not the owner's other data. */
const GRANTEE_TYPES: ReadonlySet<string> = new Set(["Mailbox", "Email", "Thread"]);

type AccountChange = Awaited<ReturnType<ChangeService["after"]>>[number];

/** How often the hub looks at the change log while someone listens. */
export const PUSH_INTERVAL_MS = 25;
const BATCH = 5000;

/** The listeners of this server and the cursor over the change log. */
export class PushHub {
  readonly #listeners = new Set<Listener>();
  #cursor: number | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #looking = false;
  /** Stops the wake-ups on this process's commits. */
  #unwake: (() => void) | undefined;
  /** Whether a look is due on the next turn (commits that come together share it). */
  #woken = false;
  /** Whether a commit came while a look was running: another look follows it. */
  #again = false;

  constructor(
    private readonly deps: { changes: ChangeService; mailboxes: MailboxService; emails: EmailService },
  ) {}

  /** Adds a listener; returns how to remove it. */
  async listen(listener: Listener): Promise<() => void> {
    if (this.#cursor === undefined) this.#cursor = await this.deps.changes.lastId();
    this.#listeners.add(listener);
    if (this.#timer === undefined) {
      const timer = setInterval(() => void this.look(), PUSH_INTERVAL_MS);
      Deno.unrefTimer(timer);
      this.#timer = timer;
      this.#unwake = this.deps.changes.onAppended(() => this.#wake());
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0 && this.#timer !== undefined) {
        clearInterval(this.#timer);
        this.#timer = undefined;
        this.#unwake?.();
        this.#unwake = undefined;
        this.#cursor = undefined;
      }
    };
  }

  /**
   * Whether changes of a shared account concern a grantee: they touched a mailbox it sees, an email
   * or thread it can read, or its view of the mailboxes (one shared with it or taken away). Then it
   * gets the states of all the mail types that changed, as a destroyed email in its mailbox shows
   * only as that mailbox's change.
   */
  private async touches(
    viewerId: number,
    granteeIds: number[],
    accountId: number,
    rows: AccountChange[],
  ): Promise<boolean> {
    if (rows.some((r) => r.type === MAILBOX_VIEW && r.ownerId !== null && granteeIds.includes(r.ownerId))) {
      return true;
    }
    const rightsOf = await this.deps.mailboxes.rightsIn(viewerId, accountId);
    if (rows.some((r) => r.type === "Mailbox" && rightsOf(r.objectId) !== 0)) return true;
    const of = (type: string) => [...new Set(rows.filter((r) => r.type === type).map((r) => r.objectId))];
    const emails = of("Email");
    if (emails.length && (await this.deps.emails.get(viewerId, accountId, emails)).length) return true;
    const threads = of("Thread");
    return threads.length > 0 && (await this.deps.emails.threads(viewerId, accountId, threads)).size > 0;
  }

  /** A look on the next turn of the event loop, after the replies the commit released. */
  #wake(): void {
    if (this.#looking) {
      this.#again = true;
      return;
    }
    if (this.#woken) return;
    this.#woken = true;
    // An immediate, not setTimeout(0), which Deno fires a millisecond or more later (see
    // mail/group_commit.ts).
    setImmediate(() => {
      this.#woken = false;
      void this.look();
    });
  }

  /** Listeners now (for metrics and tests). */
  get size(): number {
    return this.#listeners.size;
  }

  /** Reads the log past the cursor and tells every listener what concerns it. */
  async look(): Promise<void> {
    if (this.#looking || this.#cursor === undefined) return;
    this.#looking = true;
    try {
      const rows = await this.deps.changes.after(this.#cursor, BATCH);
      if (rows.length === 0) return;
      this.#cursor = rows[rows.length - 1].id;
      // The newest state of each (account, type): a state string is the position of its last change.
      const states = new Map<number, Map<string, string>>();
      const rowsOf = new Map<number, AccountChange[]>();
      const gone: AccountChange[] = [];
      for (const row of rows) {
        if (row.type === SHARER_GONE) {
          gone.push(row);
          continue;
        }
        let ofAccount = rowsOf.get(row.accountId);
        if (!ofAccount) rowsOf.set(row.accountId, ofAccount = []);
        ofAccount.push(row);
        const type = PUSHED_TYPES[row.type];
        if (!type) continue;
        let byType = states.get(row.accountId);
        if (!byType) states.set(row.accountId, byType = new Map());
        byType.set(type, String(row.id));
      }
      if (states.size === 0 && gone.length === 0) return;
      // Who else sees each changed account: the grantees of its mailboxes (accounts or groups), and
      // those that just lost sight of one, read once per look; a listener sees an account it owns or
      // holds a grant on (or just lost one), itself or through a group.
      const grantees = new Map<number, Set<number>>();
      for (const accountId of states.keys()) {
        const holders = await this.deps.mailboxes.granteesOf(accountId);
        for (const row of rowsOf.get(accountId)!) {
          if (row.type === MAILBOX_VIEW && row.ownerId !== null) holders.add(row.ownerId);
        }
        if (holders.size) grantees.set(accountId, holders);
      }
      const viewerIds = new Map<number, number[]>();
      const viewerIdsOf = async (accountId: number) => {
        let ids = viewerIds.get(accountId);
        if (!ids) viewerIds.set(accountId, ids = await this.deps.mailboxes.granteeIds(accountId));
        return ids;
      };
      for (const listener of [...this.#listeners]) {
        const changed: Changed = {};
        for (const [accountId, byType] of states) {
          const own = accountId === listener.accountId;
          if (!own) {
            const holders = grantees.get(accountId);
            if (!holders) continue;
            const ids = await viewerIdsOf(listener.accountId);
            if (!ids.some((id) => holders.has(id))) continue;
            if (!await this.touches(listener.accountId, ids, accountId, rowsOf.get(accountId)!)) continue;
          }
          const wanted = [...byType].filter(([type]) =>
            (own || GRANTEE_TYPES.has(type)) && (!listener.types || listener.types.has(type))
          );
          if (wanted.length) changed[encodeId(accountId)] = Object.fromEntries(wanted);
        }
        for (const row of gone) {
          if (!(await viewerIdsOf(listener.accountId)).includes(row.accountId)) continue;
          const wanted = [...GRANTEE_TYPES].filter((type) => !listener.types || listener.types.has(type));
          const byType = (changed[encodeId(row.objectId)] ??= {});
          for (const type of wanted) byType[type] = String(row.id);
          if (wanted.length === 0) delete changed[encodeId(row.objectId)];
        }
        if (Object.keys(changed).length) listener.notify(changed);
      }
    } finally {
      this.#looking = false;
      if (this.#again) {
        this.#again = false;
        this.#wake();
      }
    }
  }
}
