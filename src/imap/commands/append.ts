/**
 * APPEND (RFC 9051 §6.3.12) in the authenticated and selected states, with APPENDUID (RFC 4315 §3)
 * and literal8 content (RFC 3516 §4.4). Read in order:
 *
 * 1. the flags are checked first (\Recent or an unknown system flag is BAD, RFC 9051 §2.3.2), an
 *    empty message is refused;
 * 2. the target by the names LIST shows (target.ts): one that does not resolve is NO [TRYCREATE];
 * 3. each message goes through the IMAP mail service's append, an Email/import (threads, search
 *    index, quota, push), with its flags and internal date; OK is written only once that import's
 *    transaction committed, so an acknowledged APPEND survives a crash. Refusals are its domain
 *    errors: NO [NOPERM] without the insert right, NO [OVERQUOTA] over quota. (A literal over the
 *    size limit never reaches here: the decoder answers NO [TOOBIG].)
 *
 * 4. MULTIAPPEND (RFC 3502): several messages in one command are all appended or none: the service
 *    imports them in one transaction, so a refused one (or a crash) leaves the mailbox as it was.
 *
 * Appending to the selected mailbox writes nothing untagged here: the sync after the command reports
 * the new message with EXISTS, as for any other writer.
 */
import type { CommandBody, ImapCommand } from "../command.ts";
import { keywordOfFlag } from "../../mail/mod.ts";
import { ImapBad, ImapNo } from "../errors.ts";
import { atom } from "../response.ts";
import type { ImapSession, Outcome } from "../session.ts";
import { targetMailbox, uidSetText } from "./target.ts";

type Body = CommandBody & { name: "APPEND" };

/** APPEND mailbox [flags] [date-time] literal, repeated for MULTIAPPEND. */
export async function append(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const { mailbox, messages } = command.body as Body;
  for (const message of messages) {
    for (const flag of message.flags) checkFlag(flag);
    if (message.message.length === 0) throw new ImapNo("CANNOT", "An empty message cannot be appended");
  }
  const target = await targetMailbox(session, mailbox);
  const viewer = session.principal!.accountId;
  const { uidValidity, uids } = await session.deps.messages.appendAll(
    viewer,
    target,
    messages.map((message) => ({
      message: message.message,
      flags: message.flags,
      internalDate: message.date?.getTime(),
    })),
  );
  return {
    tag: command.tag,
    status: "OK",
    code: { name: "APPENDUID", values: [uidValidity, atom(uidSetText(uids))] },
    text: "APPEND completed",
  };
}

/** A flag APPEND may set; \Recent (only the server sets it) and unknown system flags are BAD. */
function checkFlag(flag: string): void {
  try {
    keywordOfFlag(flag);
  } catch (error) {
    throw new ImapBad(error instanceof Error ? error.message : `Invalid flag ${flag}`);
  }
}
