/**
 * Entering and leaving the selected state, and removing messages: SELECT and EXAMINE (RFC 9051
 * §6.3.2, §6.3.3) with CONDSTORE and QRESYNC parameters (RFC 7162 §3.1.8, §3.2.5), CLOSE (§6.4.1),
 * UNSELECT (§6.4.2), EXPUNGE (§6.4.3) and UID EXPUNGE (RFC 4315 §2.1). What other sessions change is
 * told by the sync after each command (session_sync.ts), not here.
 *
 * SELECT answers as Dovecot does: FLAGS, PERMANENTFLAGS, EXISTS, (IMAP4rev1: RECENT 0 and the
 * first UNSEEN), UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ once CONDSTORE is in use, (IMAP4rev2: the
 * mailbox's LIST), then
 * `OK [READ-WRITE]` or `[READ-ONLY]`. A SELECT while a mailbox is selected closes it first
 * (`* OK [CLOSED]`), so a failed one leaves the session authenticated (RFC 9051 §6.3.2).
 */
import type { CommandBody, ImapCommand, QresyncParameters, SequenceSet } from "../command.ts";
import { ImapBad, ImapNo } from "../errors.ts";
import { type ImapSelection, toRanges } from "../../mail/mod.ts";
import { atom } from "../response.ts";
import { SelectedMailbox } from "../selected.ts";
import type { ImapSession, Outcome } from "../session.ts";
import { fetchFlags, rangeSet, uidSet } from "../session_sync.ts";
import { namedMailbox } from "./mailbox_names.ts";
import { wireName } from "./mailboxes.ts";

type Body<N extends CommandBody["name"]> = CommandBody & { name: N };

/** SELECT and EXAMINE. */
export async function select(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const body = command.body as Body<"SELECT" | "EXAMINE">;
  if (body.qresync && !session.enabled.has("QRESYNC")) {
    // RFC 7162 §3.2.5: the parameter is only valid once the client has enabled QRESYNC.
    throw new ImapBad("QRESYNC must be enabled first (ENABLE QRESYNC)");
  }
  if (session.selected) {
    deselect(session);
    session.status({ status: "OK", code: { name: "CLOSED" }, text: "Previous mailbox closed." });
  }
  const viewer = session.principal!.accountId;
  const named = await namedMailbox(session.deps.mailboxes, viewer, body.mailbox);
  if (!named) throw new ImapNo("NONEXISTENT", `Mailbox doesn't exist: ${body.mailbox}`);
  const selection = await session.deps.messages.selectMailbox(
    viewer,
    { accountId: named.mailbox.accountId, mailboxId: named.mailbox.id, name: named.path },
    { examine: body.name === "EXAMINE" },
  );
  if (body.condstore) session.enabled.add("CONDSTORE");
  announce(session, selection, named.path);
  const selected = new SelectedMailbox(selection);
  if (body.qresync) await resync(session, selected, body.qresync);
  session.selected = selected;
  session.state = "selected";
  const readOnly = selected.readOnly;
  return {
    tag: command.tag,
    status: "OK",
    code: { name: readOnly ? "READ-ONLY" : "READ-WRITE" },
    text: `${body.name === "EXAMINE" ? "Examine" : "Select"} completed`,
  };
}

/** The untagged part of SELECT's answer, in Dovecot's order. */
function announce(session: ImapSession, selection: ImapSelection, path: string): void {
  const rev2 = session.enabled.has("IMAP4REV2");
  session.untagged([atom("FLAGS"), selection.flags.map(atom)]);
  session.status({
    status: "OK",
    code: { name: "PERMANENTFLAGS", values: [selection.permanentFlags.map(atom)] },
    text: selection.permanentFlags.length ? "Flags permitted." : "Read-only mailbox.",
  });
  session.untagged([selection.exists ?? selection.messages.length, atom("EXISTS")]);
  if (!rev2) {
    session.untagged([0, atom("RECENT")]);
    if (selection.firstUnseen !== null) {
      session.status({
        status: "OK",
        code: { name: "UNSEEN", values: [selection.firstUnseen] },
        text: "First unseen.",
      });
    }
  }
  session.status({
    status: "OK",
    code: { name: "UIDVALIDITY", values: [selection.uidValidity] },
    text: "UIDs valid",
  });
  session.status({
    status: "OK",
    code: { name: "UIDNEXT", values: [selection.uidNext] },
    text: "Predicted next UID",
  });
  if (session.enabled.has("CONDSTORE")) {
    // As Dovecot: once the client uses CONDSTORE (RFC 7162 §3.1.2.1; §3.1.8 SELECT (CONDSTORE)).
    session.status({
      status: "OK",
      code: { name: "HIGHESTMODSEQ", values: [selection.highestModseq] },
      text: "Highest",
    });
  }
  if (rev2) session.untagged([atom("LIST"), [], "/", wireName(session, path)]);
}

/**
 * QRESYNC (RFC 7162 §3.2.5.1): with the UIDVALIDITY the client remembers, what was expunged since
 * its MODSEQ (`* VANISHED (EARLIER)`, limited to the UIDs it says it knows) and the messages that
 * changed (`* n FETCH (UID FLAGS MODSEQ)`). Another UIDVALIDITY, or a MODSEQ not below ours: nothing.
 */
async function resync(
  session: ImapSession,
  selected: SelectedMailbox,
  q: QresyncParameters,
): Promise<void> {
  if (q.uidValidity !== selected.uidValidity) return;
  if (q.modseq >= BigInt(selected.modseq)) return;
  const since = Number(q.modseq);
  const changes = await session.deps.messages.changes(session.principal!.accountId, selected.ref, since);
  const known = q.knownUids === undefined ? undefined : new Set(expand(q.knownUids, selected.uidNext));
  const vanished = known
    ? changes.vanished.flatMap(([low, high]) => [...range(low, high)].filter((uid) => known.has(uid)))
    : undefined;
  const text = vanished ? uidSet(vanished) : rangeSet(changes.vanished);
  if (text) session.untagged([atom("VANISHED"), [atom("EARLIER")], atom(text)]);
  for (const m of changes.changed) {
    const seq = selected.seqOf(m.uid);
    if (seq === undefined || m.modseq <= since) continue;
    session.untagged([seq, atom("FETCH"), fetchFlags(m, { withUid: true, condstore: true })]);
  }
}

/** CLOSE: the \Deleted messages are expunged without a word when read-write, then nothing is selected. */
export async function close(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const selected = session.selected!;
  deselect(session);
  if (!selected.readOnly) {
    await session.deps.messages.expunge(session.principal!.accountId, selected.ref).catch((error) => {
      // RFC 9051 §6.4.1: CLOSE always leaves the selected state; a mailbox gone has nothing to expunge.
      session.deps.log.info("CLOSE could not expunge: {error}", { error });
    });
  }
  return { tag: command.tag, status: "OK", text: "CLOSE completed" };
}

/** UNSELECT (RFC 3691, RFC 9051 §6.4.2): nothing selected, nothing expunged. */
export function unselect(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  deselect(session);
  return Promise.resolve({ tag: command.tag, status: "OK", text: "UNSELECT completed" });
}

/**
 * EXPUNGE (the \Deleted messages) and UID EXPUNGE (those of the set that are \Deleted). The sync
 * after the command reports them (EXPUNGE or VANISHED), with whatever else was expunged meanwhile.
 */
export async function expunge(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const { uids } = command.body as Body<"EXPUNGE">;
  const selected = session.selected!;
  if (selected.readOnly) throw new ImapNo("READ-ONLY", "Mailbox is read-only");
  const viewer = session.principal!.accountId;
  if (uids === undefined) {
    await session.deps.messages.expunge(viewer, selected.ref);
  } else {
    // Only the UIDs the client knows: `1:4294967295` walks the view, never every number.
    const wanted = selected.resolve(uids, true);
    if (wanted.length) await session.deps.messages.expunge(viewer, selected.ref, toRanges(wanted));
  }
  return { tag: command.tag, status: "OK", text: `${command.uid ? "UID EXPUNGE" : "EXPUNGE"} completed` };
}

/** Leaves the selected state. */
function deselect(session: ImapSession): void {
  session.selected = undefined;
  session.state = "authenticated";
}

/** The UIDs of a set the client sent (known-uids), capped at UIDNEXT so `1:*` stays small. */
function expand(set: SequenceSet, uidNext: number): number[] {
  if (set === "$") return [];
  const out: number[] = [];
  for (const { start, end } of set) {
    const a = start === "*" ? uidNext - 1 : Math.min(start, uidNext - 1);
    const b = end === "*" ? uidNext - 1 : Math.min(end, uidNext - 1);
    for (const uid of range(Math.min(a, b), Math.max(a, b))) out.push(uid);
  }
  return out;
}

function* range(low: number, high: number): Generator<number> {
  for (let uid = low; uid <= high; uid++) yield uid;
}
