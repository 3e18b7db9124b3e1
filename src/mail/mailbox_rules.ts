/**
 * The rules a mailbox's name and place must keep (RFC 8621 §2, §2.5): a name that is not empty, at
 * most maxSizeMailboxName octets of UTF-8, without control characters; a known role held by one
 * mailbox; a parent that exists; no cycle; at most maxMailboxDepth deep; no sibling of the same name.
 */
import { ConflictError, InvalidInputError, MAILBOX_ROLES, type MailboxRecord } from "./deps.ts";

/** Limits of the mail capability that mailboxes obey (RFC 8621 §1.3.1). */
export const MAILBOX_LIMITS = { maxMailboxDepth: 10, maxSizeMailboxName: 255 } as const;

/** Role, sibling name, parent, depth and cycle rules for a mailbox at its (new) place. */
export function checkPlacement(
  all: MailboxRecord[],
  m: Pick<MailboxRecord, "id" | "parentId" | "name" | "role" | "accountId">,
): void {
  if (m.role !== null) {
    if (!(MAILBOX_ROLES as readonly string[]).includes(m.role)) {
      throw new InvalidInputError(`Unknown mailbox role "${m.role}"`, [
        { property: "role", message: `must be one of ${MAILBOX_ROLES.join(", ")}` },
      ]);
    }
    const holder = all.find((o) => o.role === m.role && o.id !== m.id);
    if (holder) {
      throw new InvalidInputError(`The role "${m.role}" already belongs to the mailbox "${holder.name}"`, [
        { property: "role", message: "another mailbox of this account has that role" },
      ]);
    }
  }
  if (m.parentId !== null) {
    const byId = new Map(all.map((o) => [o.id, o]));
    if (!byId.has(m.parentId)) {
      throw new InvalidInputError("The parent mailbox does not exist", [
        { property: "parentId", message: "no such mailbox in this account" },
      ]);
    }
    // The deepest descendant of the mailbox ends up this much below it.
    const below = (id: number): number =>
      Math.max(0, ...all.filter((o) => o.parentId === id).map((o) => 1 + below(o.id)));
    let depth = 1 + (m.id === 0 ? 0 : below(m.id));
    for (let p: number | null = m.parentId; p !== null; p = byId.get(p)?.parentId ?? null) {
      if (p === m.id) {
        throw new InvalidInputError("A mailbox cannot be moved inside itself or its children", [
          { property: "parentId", message: "would make a cycle" },
        ]);
      }
      if (++depth > MAILBOX_LIMITS.maxMailboxDepth) {
        throw new InvalidInputError(`Mailboxes nest at most ${MAILBOX_LIMITS.maxMailboxDepth} deep`, [
          { property: "parentId", message: "too deep" },
        ]);
      }
    }
  }
  const sibling = all.find((o) => o.id !== m.id && o.parentId === m.parentId && o.name === m.name);
  if (sibling) {
    // alreadyExists with the sibling's id, as Stalwart answers: the client can use the mailbox that is
    // there (RFC 8621 §2 only says names are unique among siblings; RFC 8620 §5.4 defines the error).
    throw new ConflictError(
      `A mailbox named "${m.name}" already exists there`,
      "alreadyExists",
      [],
      sibling.id,
    );
  }
}

/** The name checked and in NFC. */
export function checkName(name: string | undefined): string {
  if (name === undefined || name.trim() === "") {
    throw new InvalidInputError("A mailbox needs a name", [{
      property: "name",
      message: "must not be empty",
    }]);
  }
  // RFC 8621 §1.3.1: maxSizeMailboxName counts octets of UTF-8, not characters.
  if (new TextEncoder().encode(name.normalize("NFC")).length > MAILBOX_LIMITS.maxSizeMailboxName) {
    throw new InvalidInputError(
      `The name is longer than ${MAILBOX_LIMITS.maxSizeMailboxName} bytes of UTF-8`,
      [
        { property: "name", message: `at most ${MAILBOX_LIMITS.maxSizeMailboxName} bytes of UTF-8` },
      ],
    );
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw new InvalidInputError("A mailbox name cannot contain control characters", [
      { property: "name", message: "control characters are not allowed" },
    ]);
  }
  return name.normalize("NFC");
}
