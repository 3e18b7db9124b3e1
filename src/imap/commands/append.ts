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
 * 4. MULTIAPPEND (RFC 3502): several messages in one command are all appended or none. Each is its
 *    own import, so when one is refused the ones this command added before it are expunged again
 *    (only UIDs from the mailbox's UIDNEXT before the command: a message the account already held
 *    keeps its place). That undo needs the rights to read and remove in the mailbox, so a command of
 *    several messages without them is refused before anything is written.
 *
 * Appending to the selected mailbox writes nothing untagged here: the sync after the command reports
 * the new message with EXISTS, as for any other writer.
 */
import type { CommandBody, ImapCommand } from "../command.ts";
import { type ImapMailboxRef, keywordOfFlag } from "../../mail/mod.ts";
import { rightBit } from "../../model/mail.ts";
import { ImapBad, ImapNo } from "../errors.ts";
import { atom } from "../response.ts";
import type { ImapSession, Outcome } from "../session.ts";
import { namedMailboxes } from "./mailbox_names.ts";
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
  const firstNew = messages.length > 1 ? await undoableFrom(session, target) : 0;
  let uidValidity = 0;
  const uids: number[] = [];
  try {
    for (const message of messages) {
      const appended = await session.deps.messages.append(viewer, target, {
        message: message.message,
        flags: message.flags,
        internalDate: message.date?.getTime(),
      });
      uidValidity = appended.uidValidity;
      uids.push(appended.uid);
    }
  } catch (error) {
    const added = uids.filter((uid) => uid >= firstNew).map((uid): [number, number] => [uid, uid]);
    if (messages.length > 1 && added.length > 0) {
      // The client hears the refusal that stopped the command, whatever happens to the undo.
      await session.deps.messages.expunge(viewer, target, added, { deletedOnly: false }).catch((undo) =>
        session.deps.log.error("IMAP MULTIAPPEND could not take back UIDs {uids}: {undo}", {
          uids: added,
          undo,
        })
      );
    }
    throw error;
  }
  return {
    tag: command.tag,
    status: "OK",
    code: { name: "APPENDUID", values: [uidValidity, atom(uidSetText(uids))] },
    text: "APPEND completed",
  };
}

/**
 * The mailbox's UIDNEXT before a MULTIAPPEND (the first UID it can add), once the viewer is known to
 * hold the rights its undo needs (read, remove); NO [NOPERM] otherwise.
 */
async function undoableFrom(session: ImapSession, target: ImapMailboxRef): Promise<number> {
  const viewer = session.principal!.accountId;
  const named = (await namedMailboxes(session.deps.mailboxes, viewer)).find((m) =>
    m.mailbox.accountId === target.accountId && m.mailbox.id === target.mailboxId
  );
  const needed = rightBit("mayReadItems") | rightBit("mayRemoveItems");
  if (!named || (named.mailbox.rights & needed) !== needed || !session.deps.mailboxes.imapStatus) {
    throw new ImapNo(
      "NOPERM",
      "Several messages in one APPEND need the rights to read and remove in the mailbox; append them one by one",
    );
  }
  return (await session.deps.mailboxes.imapStatus(viewer, target.accountId, target.mailboxId)).uidNext;
}

/** A flag APPEND may set; \Recent (only the server sets it) and unknown system flags are BAD. */
function checkFlag(flag: string): void {
  try {
    keywordOfFlag(flag);
  } catch (error) {
    throw new ImapBad(error instanceof Error ? error.message : `Invalid flag ${flag}`);
  }
}
