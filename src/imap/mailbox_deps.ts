/**
 * What the IMAP session needs from the mail services to answer the commands of the authenticated
 * state (LIST, STATUS, CREATE, DELETE, RENAME, SUBSCRIBE, quotas, ACL). The composition root
 * (src/imap_listener.ts) builds it from MailboxService and the directory; tests may give their own.
 * The items only the IMAP store knows (UIDNEXT, UIDVALIDITY, HIGHESTMODSEQ, SIZE, DELETED, MAILBOXID)
 * come from `imapStatus` (the IMAP mailbox service of src/mail/); without it STATUS leaves them out.
 *
 * The selected state's operations (SELECT, FETCH, STORE, SEARCH, COPY, MOVE, EXPUNGE, APPEND) are
 * `ImapMessages`: the IMAP mail service of src/mail/imap_mailbox.ts as the session uses it.
 */
import type { ImapMailboxService } from "../mail/mod.ts";

/** The IMAP mail service's operations on messages, as the session uses them (composition root: services.imapMailboxes). */
export type ImapMessages = Pick<
  ImapMailboxService,
  | "select"
  | "selectMailbox"
  | "changes"
  | "facts"
  | "message"
  | "messages"
  | "storeFlags"
  | "copy"
  | "move"
  | "expunge"
  | "append"
  | "appendAll"
  | "resolve"
  | "search"
  | "sort"
  | "thread"
  | "view"
>;

/** A mailbox as one viewer sees it over IMAP. */
export interface ImapMailbox {
  id: number;
  accountId: number;
  name: string;
  parentId: number | null;
  role: string | null;
  subscribed: boolean;
  /** The viewer's JMAP rights bitmask (acl/ rights). */
  rights: number;
  messages: number;
  unseen: number;
  /** Grantee account id → rights bitmask; only for a viewer holding mayShare (RFC 4314 `a`). */
  shareWith: Map<number, number> | null;
}

/** What naming a mailbox needs of it (a cheaper read than {@link ImapMailbox}). */
export type ImapMailboxName = Pick<ImapMailbox, "id" | "accountId" | "name" | "parentId" | "role" | "rights">;

/** An account's limits with what is used (RFC 9208 resources STORAGE in octets, MAILBOX in count). */
export interface ImapQuota {
  storage?: { used: number; limit: number };
  mailboxes?: { used: number; limit: number };
}

/** What a CREATE or RENAME asks; absent fields are unchanged. */
export interface ImapMailboxChange {
  name?: string;
  parentId?: number | null;
  role?: string | null;
  isSubscribed?: boolean;
  /** Replaces every grant of the mailbox (grantee account id → rights; 0 removes). */
  shareWith?: Map<number, number>;
}

/** Per-mailbox figures of the IMAP store (RFC 9051 §6.3.11, RFC 7162, RFC 8474). */
export interface ImapMailboxStatus {
  uidNext: number;
  uidValidity: number;
  highestModseq: bigint;
  /** RFC 8474 MAILBOXID. */
  mailboxId: string;
  size: number;
  deleted: number;
}

/** The mailbox services as the IMAP session uses them. */
export interface ImapMailboxes {
  /** The mailboxes of `accountId` the viewer can see. */
  list(viewerId: number, accountId: number): Promise<ImapMailbox[]>;
  /**
   * The mailboxes of `accountId` the viewer can see, only what naming them needs (SELECT resolves a
   * name from these); without it, {@link list}.
   */
  names?(viewerId: number, accountId: number): Promise<ImapMailboxName[]>;
  /** The other accounts that share mailboxes with the viewer (by its own or its groups' grants), with their login names. */
  sharers(viewerId: number): Promise<Array<{ accountId: number; login: string }>>;
  create(viewerId: number, accountId: number, change: ImapMailboxChange): Promise<number>;
  update(viewerId: number, accountId: number, id: number, change: ImapMailboxChange): Promise<void>;
  /** Destroys a mailbox and the emails only it holds (RFC 9051 §6.3.4: DELETE removes its messages). */
  destroy(viewerId: number, accountId: number, id: number): Promise<void>;
  /** The account a login name (or address) names, for ACL identifiers. */
  accountIdOf(login: string): Promise<number | undefined>;
  /** The login name of an account, if it still exists. */
  loginOf(accountId: number): Promise<string | undefined>;
  /** The account's quotas (RFC 9208 from the JMAP quotas, RFC 9425). */
  quota(accountId: number): Promise<ImapQuota>;
  /** The IMAP store's figures (a test may leave it out). */
  imapStatus?(viewerId: number, accountId: number, id: number): Promise<ImapMailboxStatus>;
}
