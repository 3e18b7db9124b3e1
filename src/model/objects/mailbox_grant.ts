/**
 * `MailboxGrant`: one account's rights on another's mailbox (RFC 8621 §2 MailboxRights, RFC 9670
 * sharing), as administrators see and revoke it. Grants are made by the owner (or a holder of
 * mayShare) through Mailbox/set `shareWith`; destroying one is that owner taking the grantee out.
 */
import { serverSetField } from "./mod_internal.ts";
import type { ObjectSpec } from "./spec.ts";

const read = serverSetField;

/** The MailboxGrant declaration. */
export const MAILBOX_GRANT: ObjectSpec = {
  name: "MailboxGrant",
  description:
    "Rights of an account or group on another account's mailbox; made through Mailbox/set shareWith, destroy to revoke",
  readOnly: true,
  fields: {
    id: read("Id", "Object id", true),
    ownerId: read("Id<Account>", "The account whose mailbox is shared", true),
    ownerName: read("String", "That account's name"),
    mailboxId: read("Id<Mailbox>", "The shared mailbox", true),
    mailboxName: read("String", "Its path in the owner's tree, parents first (Projects/2026)"),
    granteeId: read("Id<Account>", "The account or group given the rights", true),
    granteeName: read("String", "Its name"),
    granteeType: read("String", "User, or Group (whose members all hold the rights)"),
    rights: read("List<MailboxRight>", "The rights granted: mayReadItems, mayAddItems, … mayShare", true),
  },
};
