/**
 * RFC 4314 rights ↔ the JMAP sharing rights (RFC 8621 §2 MailboxRights, RFC 9670 mayShare), both
 * ways. The table (README "IMAP"):
 *
 * | IMAP | meaning (RFC 4314 §2.1)                 | JMAP right       |
 * |------|------------------------------------------|------------------|
 * | l, r | lookup, read (SELECT, FETCH, SEARCH)     | mayReadItems     |
 * | s    | keep seen/unseen                         | maySetSeen       |
 * | w    | write flags other than \Seen, \Deleted   | maySetKeywords   |
 * | i    | insert (APPEND, COPY into)               | mayAddItems      |
 * | p    | post (submit to the mailbox)             | maySubmit        |
 * | k    | create child mailboxes                   | mayCreateChild   |
 * | x    | delete or rename the mailbox             | mayDelete, mayRename |
 * | t, e | set \Deleted, EXPUNGE                    | mayRemoveItems   |
 * | a    | administer (SETACL, GETACL)              | mayShare         |
 *
 * l and r, and t and e, are tied (LISTRIGHTS names them together); the obsolete c and d of RFC 2086
 * are read as k and x+t+e (RFC 4314 §2.1.1).
 */
import { type MailboxRight, rightBit } from "../model/mail.ts";

const TO_JMAP: Record<string, MailboxRight[]> = {
  l: ["mayReadItems"],
  r: ["mayReadItems"],
  s: ["maySetSeen"],
  w: ["maySetKeywords"],
  i: ["mayAddItems"],
  p: ["maySubmit"],
  k: ["mayCreateChild"],
  x: ["mayDelete", "mayRename"],
  t: ["mayRemoveItems"],
  e: ["mayRemoveItems"],
  a: ["mayShare"],
  c: ["mayCreateChild"],
  d: ["mayDelete", "mayRename", "mayRemoveItems"],
};

/** The IMAP rights in RFC 4314's order, each with the JMAP rights it stands for. */
const TO_IMAP: Array<[string, MailboxRight[]]> = [
  ["lr", ["mayReadItems"]],
  ["s", ["maySetSeen"]],
  ["w", ["maySetKeywords"]],
  ["i", ["mayAddItems"]],
  ["p", ["maySubmit"]],
  ["k", ["mayCreateChild"]],
  ["x", ["mayDelete"]],
  ["te", ["mayRemoveItems"]],
  ["a", ["mayShare"]],
];

/** The rights LISTRIGHTS offers, as its groups (tied rights together). */
export const RIGHT_GROUPS = TO_IMAP.map(([letters]) => letters);

/** Every right at once ("lrswipkxtea"). */
export const ALL_IMAP_RIGHTS = RIGHT_GROUPS.join("");

/** The IMAP rights string of a JMAP rights bitmask. */
export function imapRights(bits: number): string {
  return TO_IMAP.filter(([, rights]) => rights.every((r) => (bits & rightBit(r)) !== 0))
    .map(([letters]) => letters).join("");
}

/** The JMAP bitmask of an IMAP rights string; undefined if it holds a letter that is no right. */
export function jmapRights(letters: string): number | undefined {
  let bits = 0;
  for (const letter of letters) {
    const rights = TO_JMAP[letter];
    if (!rights) return undefined;
    for (const right of rights) bits |= rightBit(right);
  }
  return bits;
}
