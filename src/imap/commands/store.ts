/**
 * STORE and UID STORE (RFC 9051 §6.4.6, §6.4.8; CONDSTORE's UNCHANGEDSINCE, RFC 7162 §3.1.3), through
 * the IMAP mail service's storeFlags (one transaction; JMAP keywords, states and push follow).
 * Read in order:
 *
 * 1. refusals first: a read-only mailbox (EXAMINE, or no right to change anything) is
 *    NO [READ-ONLY]; more flags than MAX_FLAGS is NO [LIMIT]; a flag that cannot be stored
 *    (\Recent, an unknown system flag, a malformed keyword) is BAD, as Dovecot answers it.
 * 2. the set is resolved in the client's view; UNCHANGEDSINCE turns CONDSTORE on.
 * 3. the write: a right missing on any mailbox of a message (maySetSeen for \Seen, mayRemoveItems
 *    for \Deleted, maySetKeywords for the rest) refuses the whole STORE with NO [NOPERM].
 * 4. one FETCH per stored message: FLAGS (UID for UID STORE, MODSEQ with CONDSTORE), none for
 *    .SILENT; with UNCHANGEDSINCE a .SILENT STORE still reports MODSEQ (RFC 7162 §3.1.3's example).
 *    What was told (or, for .SILENT, what the client set itself) is recorded so the sync does not
 *    repeat it. Messages that failed UNCHANGEDSINCE are listed in OK [MODIFIED set].
 */
import type { CommandBody, ImapCommand, ResponseValue } from "../command.ts";
import { InvalidInputError } from "../../model/errors.ts";
import { toRanges } from "../../mail/mod.ts";
import { ImapBad, ImapNo } from "../errors.ts";
import { atom } from "../response.ts";
import type { ImapSession, Outcome } from "../session.ts";
import { formatRanges, selectedOf } from "./fetch.ts";
import { ResponseChunks } from "./response_chunks.ts";

type Body<N extends CommandBody["name"]> = CommandBody & { name: N };

/** Most flags one STORE may name (Dovecot has no lower limit; this bounds one command's work). */
export const MAX_FLAGS = 100;

/** STORE / UID STORE. */
export async function store(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const body = command.body as Body<"STORE">;
  const selected = selectedOf(session);
  if (selected.readOnly) {
    throw new ImapNo("READ-ONLY", "The mailbox is read-only (EXAMINE, or no right to change it)");
  }
  if (new Set(body.flags.map((f) => f.toLowerCase())).size > MAX_FLAGS) {
    throw new ImapNo("LIMIT", `At most ${MAX_FLAGS} flags can be stored at once`);
  }
  const unchangedSince = body.unchangedSince === undefined ? undefined : Number(body.unchangedSince);
  if (unchangedSince !== undefined) session.enabled.add("CONDSTORE");
  const uids = selected.resolve(body.set, command.uid);
  let result;
  try {
    result = await session.deps.messages.storeFlags(
      session.principal!.accountId,
      selected.ref,
      toRanges(uids),
      { operation: body.operation, flags: body.flags, unchangedSince },
    );
  } catch (error) {
    if (error instanceof InvalidInputError) throw new ImapBad(error.message);
    throw error;
  }
  const condstore = session.enabled.has("CONDSTORE");
  const report = !body.silent || unchangedSince !== undefined;
  const out = new ResponseChunks(session);
  for (const m of result.messages) {
    const seq = selected.seqOf(m.uid);
    if (seq === undefined) continue;
    selected.update(m);
    if (!report) continue;
    const items: ResponseValue[] = [];
    if (!body.silent) items.push(atom("FLAGS"), m.flags.map(atom));
    if (command.uid) items.push(atom("UID"), m.uid);
    if (condstore) items.push(atom("MODSEQ"), [BigInt(m.modseq)]);
    if (items.length) await out.add(session.writer.untagged([seq, atom("FETCH"), items]));
  }
  await out.flush();
  const name = command.uid ? "UID STORE" : "STORE";
  if (result.modified.length) {
    const modified = command.uid
      ? result.modified
      : result.modified.map((uid) => selected.seqOf(uid)).filter((s): s is number => s !== undefined);
    return {
      tag: command.tag,
      status: "OK",
      code: { name: "MODIFIED", values: [atom(formatRanges(toRanges(modified.sort((a, b) => a - b))))] },
      text: "Conditional STORE failed for some messages",
    };
  }
  return { tag: command.tag, status: "OK", text: `${name} completed` };
}
