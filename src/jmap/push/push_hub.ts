/**
 * Push (RFC 8620 §7): who listens for state changes, and telling them. The change log is the source:
 * every write of every process appends to it, so one cursor over it sees the CLI's and the TUI's
 * writes as well as this server's. While anyone listens the hub looks every 25 ms (one indexed read);
 * each listener gets, per account it can see and type it asked for, the newest state.
 */
import type { ChangeService } from "../../directory/mod.ts";
import type { MailboxService } from "../../mail/mod.ts";
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

/** How often the hub looks at the change log while someone listens. */
export const PUSH_INTERVAL_MS = 25;
const BATCH = 5000;

/** The listeners of this server and the cursor over the change log. */
export class PushHub {
  readonly #listeners = new Set<Listener>();
  #cursor: number | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #looking = false;

  constructor(private readonly deps: { changes: ChangeService; mailboxes: MailboxService }) {}

  /** Adds a listener; returns how to remove it. */
  async listen(listener: Listener): Promise<() => void> {
    if (this.#cursor === undefined) this.#cursor = await this.deps.changes.lastId();
    this.#listeners.add(listener);
    if (this.#timer === undefined) {
      const timer = setInterval(() => void this.look(), PUSH_INTERVAL_MS);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0 && this.#timer !== undefined) {
        clearInterval(this.#timer);
        this.#timer = undefined;
        this.#cursor = undefined;
      }
    };
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
      for (const row of rows) {
        const type = PUSHED_TYPES[row.type];
        if (!type) continue;
        let byType = states.get(row.accountId);
        if (!byType) states.set(row.accountId, byType = new Map());
        byType.set(type, String(row.id));
      }
      if (states.size === 0) return;
      // Who else sees each changed account: the grantees of its mailboxes (accounts or groups), read
      // once per look; a listener sees an account it owns or holds a grant on, itself or through a group.
      const grantees = new Map<number, Set<number>>();
      for (const accountId of states.keys()) {
        const holders = await this.deps.mailboxes.granteesOf(accountId);
        if (holders.size) grantees.set(accountId, holders);
      }
      const viewerIds = new Map<number, number[]>();
      for (const listener of [...this.#listeners]) {
        const changed: Changed = {};
        for (const [accountId, byType] of states) {
          if (accountId !== listener.accountId) {
            const holders = grantees.get(accountId);
            if (!holders) continue;
            let ids = viewerIds.get(listener.accountId);
            if (!ids) {
              viewerIds.set(
                listener.accountId,
                ids = await this.deps.mailboxes.granteeIds(listener.accountId),
              );
            }
            if (!ids.some((id) => holders.has(id))) continue;
          }
          const wanted = [...byType].filter(([type]) => !listener.types || listener.types.has(type));
          if (wanted.length) changed[encodeId(accountId)] = Object.fromEntries(wanted);
        }
        if (Object.keys(changed).length) listener.notify(changed);
      }
    } finally {
      this.#looking = false;
    }
  }
}
