/**
 * Mailbox names over IMAP: the JMAP tree of one account as paths with "/" between levels, the
 * mailbox of role inbox as "INBOX" (any case, RFC 9051 §5.1), and each account that shares
 * mailboxes with the viewer under "Other Users/<login>/" (RFC 2342). A name is resolved from the
 * mailboxes the viewer can see now, so a sharer deleted or a grant taken back vanishes at once.
 */
import type { ImapMailbox, ImapMailboxes } from "../mailbox_deps.ts";

/** The prefix of the other users' namespace. */
export const OTHER_USERS = "Other Users";
/** The hierarchy delimiter. */
export const DELIMITER = "/";

/** A visible mailbox with its IMAP name. */
export interface NamedMailbox {
  mailbox: ImapMailbox;
  /** The full IMAP name (UTF-8). */
  path: string;
  /** The account's login, for a shared mailbox. */
  owner?: string;
}

/**
 * Every mailbox the viewer sees, named: its own, then each sharer's under "Other Users/". With
 * `for`, only those that may bear that name: a name outside "Other Users/" is one of the viewer's
 * own, so SELECT INBOX reads no sharer.
 */
export async function namedMailboxes(
  mailboxes: ImapMailboxes,
  viewerId: number,
  options: { for?: string } = {},
): Promise<NamedMailbox[]> {
  const out = paths(await mailboxes.list(viewerId, viewerId), "").map((n) => n);
  if (options.for !== undefined && !options.for.startsWith(`${OTHER_USERS}${DELIMITER}`)) return out;
  for (const sharer of await mailboxes.sharers(viewerId)) {
    if (sharer.login.includes(DELIMITER)) continue;
    const prefix = `${OTHER_USERS}${DELIMITER}${sharer.login}${DELIMITER}`;
    const list = await mailboxes.list(viewerId, sharer.accountId);
    out.push(...paths(list, prefix).map((n) => ({ ...n, owner: sharer.login })));
  }
  return out;
}

/** Names one account's mailboxes under `prefix`; a name holding the delimiter is left out. */
function paths(list: ImapMailbox[], prefix: string): NamedMailbox[] {
  const byId = new Map(list.map((m) => [m.id, m]));
  const cache = new Map<number, string | null>();
  const pathOf = (m: ImapMailbox, depth = 0): string | null => {
    if (cache.has(m.id)) return cache.get(m.id)!;
    let own: string | null = m.role === "inbox" && m.parentId === null && !prefix ? "INBOX" : m.name;
    if (own.includes(DELIMITER) || depth > 64) own = null;
    const parent = m.parentId === null ? undefined : byId.get(m.parentId);
    const parentPath = parent ? pathOf(parent, depth + 1) : "";
    const path = own === null || parentPath === null
      ? null
      : parentPath
      ? `${parentPath}${DELIMITER}${own}`
      : own;
    cache.set(m.id, path);
    return path;
  };
  const out: NamedMailbox[] = [];
  for (const m of list) {
    const path = pathOf(m);
    if (path !== null) out.push({ mailbox: m, path: prefix + path });
  }
  return out;
}

/** Whether two IMAP names are the same mailbox ("INBOX" is case-insensitive, the rest exact). */
export function sameName(a: string, b: string): boolean {
  return normalizeName(a) === normalizeName(b);
}

/** "inbox", "Inbox/x" → "INBOX", "INBOX/x". */
export function normalizeName(name: string): string {
  const head = name.split(DELIMITER, 1)[0];
  return head.toUpperCase() === "INBOX" ? `INBOX${name.slice(head.length)}` : name;
}
