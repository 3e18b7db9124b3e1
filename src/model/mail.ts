/** Mail records shared by the store, the mail services and JMAP. No I/O here. */

/** RFC 8621 §2: a mailbox as stored (per-user state such as isSubscribed lives apart). */
export interface MailboxRecord {
  id: number;
  accountId: number;
  parentId: number | null;
  name: string;
  role: string | null;
  sortOrder: number;
  createdAt: number;
  updatedAt: number;
}

/**
 * RFC 8621 §2 (MailboxRights): the nine rights, and RFC 9670's `mayShare`, in the order of their
 * bits in the acl bitmask.
 */
export const MAILBOX_RIGHTS = [
  "mayReadItems",
  "mayAddItems",
  "mayRemoveItems",
  "maySetSeen",
  "maySetKeywords",
  "mayCreateChild",
  "mayRename",
  "mayDelete",
  "maySubmit",
  "mayShare",
] as const;

/** One of the nine rights. */
export type MailboxRight = typeof MAILBOX_RIGHTS[number];

/** Every right at once (an owner's). */
export const ALL_RIGHTS = (1 << MAILBOX_RIGHTS.length) - 1;

/** The bit of a right. */
export function rightBit(right: MailboxRight): number {
  return 1 << MAILBOX_RIGHTS.indexOf(right);
}

/** A bitmask as the wire's MailboxRights object (one frozen object per bitmask, built once). */
export function rightsObject(bits: number): Readonly<Record<MailboxRight, boolean>> {
  let object = RIGHTS_OBJECTS.get(bits);
  if (!object) {
    object = Object.freeze(
      Object.fromEntries(MAILBOX_RIGHTS.map((r, i) => [r, (bits & (1 << i)) !== 0])) as Record<
        MailboxRight,
        boolean
      >,
    );
    RIGHTS_OBJECTS.set(bits, object);
  }
  return object;
}

const RIGHTS_OBJECTS = new Map<number, Readonly<Record<MailboxRight, boolean>>>();

/** Rights that let a holder change something (the rest only read). */
export const WRITE_RIGHTS = ALL_RIGHTS & ~rightBit("mayReadItems");

/** The mailboxes every new user gets, with their RFC 8621 / RFC 6154 roles. */
export const DEFAULT_MAILBOXES: readonly { name: string; role: string; sortOrder: number }[] = [
  { name: "Inbox", role: "inbox", sortOrder: 1 },
  { name: "Drafts", role: "drafts", sortOrder: 2 },
  { name: "Sent", role: "sent", sortOrder: 3 },
  { name: "Archive", role: "archive", sortOrder: 4 },
  { name: "Junk", role: "junk", sortOrder: 5 },
  { name: "Trash", role: "trash", sortOrder: 6 },
];

/** Roles a mailbox may have (IANA "IMAP Mailbox Name Attributes" registry, as RFC 8621 §2 says). */
export const MAILBOX_ROLES = [
  "all",
  "archive",
  "drafts",
  "flagged",
  "important",
  "inbox",
  "junk",
  "sent",
  "subscribed",
  "trash",
  "snoozed",
  "scheduled",
  "memos",
] as const;

/** A mailbox grant: who holds which rights on which mailbox. */
export interface MailboxGrant {
  mailboxId: number;
  ownerId: number;
  granteeId: number;
  rights: number;
}

/** A mailbox grant as stored: its acl row id too (never reused, so it names one grant for good). */
export interface StoredMailboxGrant extends MailboxGrant {
  id: number;
}
