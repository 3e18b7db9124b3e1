/**
 * What COPY, MOVE and APPEND share: the target mailbox, resolved among the names LIST shows now
 * (mailbox_names.ts, "Other Users/<login>/…" included), and the UID sets of COPYUID and APPENDUID
 * (RFC 4315 §3 `uid-set`).
 */
import type { ImapMailboxRef } from "../../mail/mod.ts";
import { ImapNo } from "../errors.ts";
import type { ImapSession } from "../session.ts";
import { namedMailboxes, sameName } from "./mailbox_names.ts";

/**
 * The mailbox a COPY, MOVE or APPEND writes to. A name the viewer cannot see now (never made, deleted,
 * or a grant taken back) is NO [TRYCREATE] (RFC 9051 §6.3.12, §6.4.7): the client may CREATE it.
 */
export async function targetMailbox(session: ImapSession, name: string): Promise<ImapMailboxRef> {
  const all = await namedMailboxes(session.deps.mailboxes, session.principal!.accountId);
  const found = all.find((m) => sameName(m.path, name));
  if (!found) throw new ImapNo("TRYCREATE", `No mailbox "${name}"`);
  return { accountId: found.mailbox.accountId, mailboxId: found.mailbox.id };
}

/**
 * UIDs in the order given as a `uid-set`: a run is written `a:b` only while it ascends by one, so
 * two sets written from paired lists (COPYUID's source and target) still pair up element by element.
 */
export function uidSetText(uids: readonly number[]): string {
  const parts: string[] = [];
  let start = uids[0];
  let end = start;
  for (let i = 1; i <= uids.length; i++) {
    const uid = uids[i];
    if (uid === end + 1) {
      end = uid;
      continue;
    }
    parts.push(start === end ? `${start}` : `${start}:${end}`);
    start = end = uid;
  }
  return parts.join(",");
}
