/**
 * What the IMAP session needs from the mail services to answer the commands of the authenticated
 * state (LIST, STATUS, CREATE, DELETE, RENAME, SUBSCRIBE, quotas, ACL). The composition root
 * (src/imap_listener.ts) builds it from MailboxService and the directory; tests may give their own.
 * The items only the IMAP store knows (UIDNEXT, UIDVALIDITY, HIGHESTMODSEQ, SIZE, DELETED) come from
 * `imapStatus`, which is plugged in when that store exists; until then STATUS leaves them out.
 */

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
}

/** What a CREATE or RENAME asks; absent fields are unchanged. */
export interface ImapMailboxChange {
  name?: string;
  parentId?: number | null;
  role?: string | null;
  isSubscribed?: boolean;
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
  /** The other accounts that share mailboxes with the viewer (by its own or its groups' grants), with their login names. */
  sharers(viewerId: number): Promise<Array<{ accountId: number; login: string }>>;
  create(viewerId: number, accountId: number, change: ImapMailboxChange): Promise<number>;
  update(viewerId: number, accountId: number, id: number, change: ImapMailboxChange): Promise<void>;
  /** Destroys a mailbox and the emails only it holds (RFC 9051 §6.3.4: DELETE removes its messages). */
  destroy(viewerId: number, accountId: number, id: number): Promise<void>;
  /** The IMAP store's figures; absent until the IMAP store is wired. */
  imapStatus?(viewerId: number, accountId: number, id: number): Promise<ImapMailboxStatus>;
}
