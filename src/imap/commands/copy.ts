/**
 * COPY, MOVE and their UID forms (RFC 9051 §6.4.7, RFC 6851, RFC 4315 COPYUID), on the IMAP mail
 * service's copy and move (an email in several mailboxes is one email with a UID in each). Read in
 * order:
 *
 * 1. MOVE needs a read-write selection (NO [READ-ONLY]); the set is resolved in the client's view
 *    (a sequence number past the end is BAD); the target by the names LIST shows (target.ts), a name
 *    that does not resolve is NO [TRYCREATE].
 * 2. the service copies or moves in one transaction and answers the target's UIDVALIDITY and the
 *    source → target UIDs; rights and quota refusals are its domain errors (NO [NOPERM],
 *    [OVERQUOTA]). Into another account (a shared mailbox) it appends every message in one
 *    transaction (all or none); the target's quota is checked for all of them first.
 * 3. COPY answers `OK [COPYUID …]`. MOVE writes `* OK [COPYUID …]` first, then the expunges of the
 *    moved messages (RFC 6851 §4.3): `* n EXPUNGE` from the highest, or one `* VANISHED` once QRESYNC
 *    is on (RFC 7162 §3.2.10), recorded in the client's view so the sync does not repeat them.
 */
import type { CommandBody, ImapCommand, ResponseCode } from "../command.ts";
import { toRanges } from "../../mail/mod.ts";
import { ImapNo } from "../errors.ts";
import { atom } from "../response.ts";
import type { ImapSession, Outcome } from "../session.ts";
import { targetMailbox, uidSetText } from "./target.ts";

type Body = CommandBody & { name: "COPY" | "MOVE" };

/** COPY, UID COPY, MOVE and UID MOVE. */
export async function copyOrMove(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const { name, set, mailbox } = command.body as Body;
  const selected = session.selected!;
  if (name === "MOVE" && selected.readOnly) {
    throw new ImapNo("READ-ONLY", "The mailbox is selected read-only; MOVE would expunge from it");
  }
  const uids = selected.resolve(set, command.uid);
  const target = await targetMailbox(session, mailbox);
  if (target.accountId === selected.accountId && target.mailboxId === selected.mailboxId) {
    // One email is in a mailbox once (JMAP mailboxIds): a copy onto itself would be no copy at all.
    throw new ImapNo("CANNOT", `The messages are already in "${mailbox}"`);
  }
  if (uids.length === 0) {
    return { tag: command.tag, status: "OK", text: `No messages to ${name.toLowerCase()}` };
  }
  const viewer = session.principal!.accountId;
  const ranges = toRanges(uids);
  if (target.accountId !== selected.accountId) await checkRoom(session, target.accountId, ranges);
  const result = name === "MOVE"
    ? await session.deps.messages.move(viewer, selected.ref, ranges, target)
    : await session.deps.messages.copy(viewer, selected.ref, ranges, target);
  const code: ResponseCode | undefined = result.pairs.length
    ? {
      name: "COPYUID",
      values: [
        result.uidValidity,
        atom(uidSetText(result.pairs.map(([from]) => from))),
        atom(uidSetText(result.pairs.map(([, to]) => to))),
      ],
    }
    : undefined;
  if (name === "COPY") return { tag: command.tag, status: "OK", code, text: "COPY completed" };
  if (code) session.status({ status: "OK", code, text: "Moved" });
  reportExpunged(session, result.pairs.map(([from]) => from));
  return { tag: command.tag, status: "OK", text: "MOVE completed" };
}

/**
 * Into another account what the target's storage quota cannot hold is refused before anything is read
 * or written (the service's one transaction would refuse it too, after reading every message).
 */
async function checkRoom(session: ImapSession, accountId: number, ranges: [number, number][]): Promise<void> {
  const storage = (await session.deps.mailboxes.quota(accountId)).storage;
  if (!storage) return;
  const selected = session.selected!;
  const facts = await session.deps.messages.facts(session.principal!.accountId, selected.ref, ranges);
  const size = facts.reduce((total, message) => total + message.size, 0);
  if (storage.used + size > storage.limit) {
    throw new ImapNo("OVERQUOTA", `The messages (${size} octets) do not fit in the target's quota`);
  }
}

/** Tells the client the moved messages left the selected mailbox, and records it in its view. */
function reportExpunged(session: ImapSession, uids: number[]): void {
  const selected = session.selected!;
  const known = uids.filter((uid) => selected.seqOf(uid) !== undefined).sort((a, b) => a - b);
  if (session.enabled.has("QRESYNC")) {
    selected.remove(known);
    if (known.length) session.untagged([atom("VANISHED"), atom(uidSetText(known))]);
    return;
  }
  for (const seq of selected.remove(known)) session.untagged([seq, atom("EXPUNGE")]);
}
