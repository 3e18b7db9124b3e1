/**
 * Mailbox names as IMAP shows them (RFC 9051 §5.1, §6.3.9 LIST; RFC 2342 NAMESPACE; RFC 6154
 * SPECIAL-USE): the viewer's own mailboxes by their path from the top, "/" between levels, the
 * Inbox (role inbox) as "INBOX"; the mailboxes other accounts share with it under
 * "Other Users/<owner's login>/…" (the names the session's LIST shows), by the grants that exist now (the JMAP Mailbox code paths, so a
 * revoked grant or a deleted sharer is gone from the list at once).
 */
import type { AccountService } from "../directory/mod.ts";
import type { MailboxRecord } from "./deps.ts";
import type { MailboxService, MailboxView } from "./mailboxes.ts";

/** The hierarchy delimiter (RFC 9051 §6.3.9). */
export const IMAP_DELIMITER = "/";

/** The prefix of the other users' namespace (RFC 2342 §5), delimiter included. */
export const OTHER_USERS_PREFIX = "Other Users/";

/** A mailbox of an account, as the IMAP services take it once a name was resolved. */
export interface ImapMailboxRef {
  accountId: number;
  mailboxId: number;
}

/** One mailbox as LIST shows it to a viewer. */
export interface ImapListEntry extends ImapMailboxRef {
  /** Its full name (UTF-8; the session encodes it in modified UTF-7 for a client that needs it). */
  name: string;
  /** RFC 6154 attribute of its JMAP role (`\Sent`…), or null. */
  specialUse: string | null;
  /** Subscribed by the viewer (RFC 9051 §6.3.7; the JMAP isSubscribed of the viewer). */
  subscribed: boolean;
  /** Whether another listed mailbox is below it (`\HasChildren`, RFC 9051 §7.3.1). */
  hasChildren: boolean;
  /** The viewer's JMAP rights bitmask on it (every right for the owner). */
  rights: number;
  /** In another account (the "Other Users" namespace). */
  shared: boolean;
}

/** RFC 6154 §2 attributes of the JMAP roles (RFC 8621 §2 takes its roles from the same registry). */
const SPECIAL_USE: Record<string, string> = {
  all: "\\All",
  archive: "\\Archive",
  drafts: "\\Drafts",
  flagged: "\\Flagged",
  important: "\\Important",
  junk: "\\Junk",
  sent: "\\Sent",
  trash: "\\Trash",
};

/** The RFC 6154 attribute of a JMAP role, or null. */
export function specialUseOf(role: string | null): string | null {
  return role === null ? null : SPECIAL_USE[role] ?? null;
}

/**
 * Every mailbox the viewer can see, own first, then each sharer's (in login order), each tree in
 * path order. A sharer whose account no longer resolves is left out (MailboxService.sharedAccounts).
 */
export async function listImapMailboxes(
  viewerId: number,
  services: { mailboxes: MailboxService; accounts: AccountService },
): Promise<ImapListEntry[]> {
  const own = await services.mailboxes.list(viewerId, viewerId);
  const out = entries(own, viewerId, "", false);
  const sharers: { login: string; id: number }[] = [];
  for (const ownerId of (await services.mailboxes.sharedAccounts(viewerId)).keys()) {
    const owner = await services.accounts.get(ownerId);
    if (owner) sharers.push({ login: owner.name, id: ownerId });
  }
  sharers.sort((a, b) => a.login < b.login ? -1 : a.login > b.login ? 1 : 0);
  for (const sharer of sharers) {
    const views = await services.mailboxes.list(viewerId, sharer.id);
    out.push(...entries(views, sharer.id, `${OTHER_USERS_PREFIX}${sharer.login}${IMAP_DELIMITER}`, true));
  }
  return out;
}

/** Whether two IMAP names are the same mailbox ("INBOX" in any case is the Inbox, RFC 9051 §5.1). */
export function sameImapName(a: string, b: string): boolean {
  const norm = (name: string) => /^inbox(\/|$)/i.test(name) ? "INBOX" + name.slice(5) : name;
  return norm(a) === norm(b);
}

function entries(views: MailboxView[], accountId: number, prefix: string, shared: boolean): ImapListEntry[] {
  const byId = new Map(views.map((m) => [m.id, m]));
  const parents = new Set(views.map((m) => m.parentId).filter((id) => id !== null));
  const names = new Map<number, string>();
  const nameOf = (m: MailboxRecord): string => {
    let name = names.get(m.id);
    if (name === undefined) {
      // The owner's Inbox is INBOX; a sharer's keeps its own name under the sharer's prefix.
      const own = !shared && m.role === "inbox" && m.parentId === null ? "INBOX" : m.name;
      const parent = m.parentId === null ? undefined : byId.get(m.parentId);
      name = parent ? `${nameOf(parent)}${IMAP_DELIMITER}${own}` : own;
      names.set(m.id, name);
    }
    return name;
  };
  return views
    .map((m): ImapListEntry => ({
      accountId,
      mailboxId: m.id,
      name: prefix + nameOf(m),
      specialUse: specialUseOf(m.role),
      subscribed: m.isSubscribed,
      hasChildren: parents.has(m.id),
      rights: m.rights,
      shared,
    }))
    .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}
