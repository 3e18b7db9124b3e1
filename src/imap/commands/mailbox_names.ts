/**
 * Mailbox names over IMAP: the JMAP tree of one account as paths with "/" between levels, the
 * mailbox of role inbox as "INBOX" (any case, RFC 9051 §5.1), and each account that shares
 * mailboxes with the viewer under "Other Users/<login>/" (RFC 2342). A name is resolved from the
 * mailboxes the viewer can see now, so a sharer deleted or a grant taken back vanishes at once.
 */
import type { ImapMailbox, ImapMailboxes, ImapMailboxName } from "../mailbox_deps.ts";

/** The prefix of the other users' namespace. */
export const OTHER_USERS = "Other Users";
/** The hierarchy delimiter. */
export const DELIMITER = "/";

/** A visible mailbox with its IMAP name. */
export interface NamedMailbox<M extends ImapMailboxName = ImapMailbox> {
  mailbox: M;
  /** The full IMAP name (UTF-8). */
  path: string;
  /** The account's login, for a shared mailbox. */
  owner?: string;
}

/** Every mailbox the viewer sees, named: its own, then each sharer's under "Other Users/". */
export async function namedMailboxes(mailboxes: ImapMailboxes, viewerId: number): Promise<NamedMailbox[]> {
  const out = paths(await mailboxes.list(viewerId, viewerId), "");
  for (const sharer of await mailboxes.sharers(viewerId)) {
    if (sharer.login.includes(DELIMITER)) continue;
    const prefix = `${OTHER_USERS}${DELIMITER}${sharer.login}${DELIMITER}`;
    const list = await mailboxes.list(viewerId, sharer.accountId);
    out.push(...paths(list, prefix).map((n) => ({ ...n, owner: sharer.login })));
  }
  return out;
}

/**
 * The mailbox the viewer sees under `name`, or undefined, from what naming needs (SELECT): a name
 * outside "Other Users/" is one of the viewer's own, so SELECT INBOX reads no sharer; a shared one
 * reads the sharers (the grants that exist now) and that one sharer's mailboxes, never the others'.
 */
export async function namedMailbox(
  mailboxes: ImapMailboxes,
  viewerId: number,
  name: string,
): Promise<{ mailbox: ImapMailboxName; path: string } | undefined> {
  const names = (accountId: number) =>
    mailboxes.names ? mailboxes.names(viewerId, accountId) : mailboxes.list(viewerId, accountId);
  // The viewer's own first, as LIST orders them (an own mailbox may be called "Other Users").
  const own = paths(await names(viewerId), "").find((m) => sameName(m.path, name));
  const shared = `${OTHER_USERS}${DELIMITER}`;
  if (own || !name.startsWith(shared)) return own;
  const login = name.slice(shared.length).split(DELIMITER, 1)[0];
  const sharer = (await mailboxes.sharers(viewerId)).find((s) => s.login === login);
  if (!sharer) return undefined;
  const prefix = `${shared}${login}${DELIMITER}`;
  return paths(await names(sharer.accountId), prefix).find((m) => m.path === name);
}

/** Names one account's mailboxes under `prefix`; a name holding the delimiter is left out. */
function paths<M extends ImapMailboxName>(list: M[], prefix: string): NamedMailbox<M>[] {
  const byId = new Map(list.map((m) => [m.id, m]));
  const cache = new Map<number, string | null>();
  const pathOf = (m: M, depth = 0): string | null => {
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
  const out: NamedMailbox<M>[] = [];
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
