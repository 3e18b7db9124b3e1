/** The mailboxes every new user gets. */
import { type Change, DEFAULT_MAILBOXES, type Store } from "./deps.ts";

/** Creates Inbox, Drafts, Sent, Archive, Junk and Trash, subscribed, inside the caller's transaction. */
export async function createDefaultMailboxes(store: Store, accountId: number): Promise<Change[]> {
  const changes: Change[] = [];
  for (const mailbox of DEFAULT_MAILBOXES) {
    const id = await store.mailboxes.insert({ accountId, parentId: null, ...mailbox });
    await store.mailboxes.setSubscribed(accountId, id, true);
    changes.push({ type: "Mailbox", objectId: id, kind: "created", accountId });
  }
  return changes;
}
