/**
 * FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.8; CONDSTORE's CHANGEDSINCE and QRESYNC's VANISHED,
 * RFC 7162 §3.1.4, §3.2.6; BINARY, RFC 3516). Read in order:
 *
 * 1. the set is resolved in the client's view (a sequence number past the end is BAD); CHANGEDSINCE
 *    turns CONDSTORE on (RFC 7162 §3.1); VANISHED needs UID FETCH and QRESYNC enabled.
 * 2. with VANISHED, the UIDs of the set expunged since CHANGEDSINCE go first, as VANISHED (EARLIER).
 * 3. the messages are read in batches: the store's facts first (a batch is one query per UID
 *    range); a non-PEEK body fetch sets \Seen on a read-write mailbox through STORE's path, and the
 *    new FLAGS are reported in the same response (not when the viewer may not set \Seen).
 * 4. each message's response is made as soon as it is ready, the message opened once and only
 *    when an item needs its octets; responses go out in writes of about 64 KiB (one TLS record for
 *    many small FETCHes), each waiting until the socket took it: `1:*` on a large mailbox never
 *    sits in memory. What FLAGS were told is recorded (selected.update), so the
 *    sync after the command does not repeat it.
 * 5. a message expunged meanwhile by another session is skipped: OK [EXPUNGEISSUED], as Dovecot.
 */
import type { CommandBody, FetchItem, ImapCommand, SequenceSet } from "../command.ts";
import { ForbiddenError } from "../../model/errors.ts";
import { type ImapMessageFacts, toRanges } from "../../mail/mod.ts";
import { ImapBad } from "../errors.ts";
import { ImapMessage } from "../render/mod.ts";
import { atom } from "../response.ts";
import type { SelectedMailbox } from "../selected.ts";
import type { ImapSession, Outcome } from "../session.ts";
import { messageItems, planFetch } from "./fetch_items.ts";
import { ResponseChunks } from "./response_chunks.ts";
import { answeredFromView, fetchFromView } from "./fetch_view.ts";

type Body<N extends CommandBody["name"]> = CommandBody & { name: N };

/** Messages whose facts are read (and \Seen set) at once: bounded memory, few queries. */
const BATCH = 500;
/** Messages whose bytes are read at once when items need them: a few, as each may be megabytes. */
const BODY_BATCH = 16;

const SEEN_EXTRA: FetchItem[] = [{ kind: "FLAGS" }];
const SEEN_EXTRA_MODSEQ: FetchItem[] = [{ kind: "FLAGS" }, { kind: "MODSEQ" }];

/** FETCH / UID FETCH. */
export async function fetch(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const body = command.body as Body<"FETCH">;
  const selected = selectedOf(session);
  const viewer = session.principal!.accountId;
  const messages = session.deps.messages;
  if (body.vanished && !(command.uid && session.enabled.has("QRESYNC"))) {
    throw new ImapBad("VANISHED needs UID FETCH and ENABLE QRESYNC (RFC 7162 §3.2.6)");
  }
  const changedSince = body.changedSince === undefined ? undefined : Number(body.changedSince);
  if (changedSince !== undefined) session.enabled.add("CONDSTORE");
  const uids = selected.resolve(body.set, command.uid);
  const plan = planFetch(body.items, { uid: command.uid, modseq: changedSince !== undefined });
  const condstore = session.enabled.has("CONDSTORE");

  if (body.vanished && changedSince !== undefined) {
    const changes = await messages.changes(viewer, selected.ref, changedSince);
    const vanished = intersect(changes.vanished, requestedRanges(body.set, selected));
    if (vanished.length) {
      session.untagged([atom("VANISHED"), [atom("EARLIER")], atom(formatRanges(vanished))]);
    }
  }

  let mayStoreSeen = plan.setsSeen && !selected.readOnly;
  let expunged = 0;
  // UID, FLAGS and MODSEQ alone come from the mailbox's shared view, no row read (fetch_view.ts).
  const fromView = answeredFromView(plan) && typeof messages.view === "function";
  if (fromView) expunged = await fetchFromView(session, selected, { uids, plan, changedSince });
  const out = new ResponseChunks(session);
  try {
    for (let at = 0; !fromView && at < uids.length; at += BATCH) {
      const batch = uids.slice(at, at + BATCH);
      let facts = await messages.facts(viewer, selected.ref, toRanges(batch));
      expunged += batch.length - facts.length;
      if (changedSince !== undefined) facts = facts.filter((f) => f.modseq > changedSince);
      let seenNow = new Set<number>();
      if (mayStoreSeen) {
        const marked = await markSeen(session, selected, facts);
        if (marked === "forbidden") mayStoreSeen = false;
        else seenNow = marked;
      }
      let bodies = new Map<number, Uint8Array>();
      for (const [i, f] of facts.entries()) {
        let message: ImapMessage | undefined;
        if (plan.needsMessage) {
          // A few messages' bytes per read (one rights check and one query), never a whole batch's.
          if (i % BODY_BATCH === 0) {
            const next = facts.slice(i, i + BODY_BATCH).map((m) => m.uid);
            bodies = await messages.messages(viewer, selected.ref, next);
          }
          const raw = bodies.get(f.uid);
          if (!raw) {
            expunged++;
            continue;
          }
          message = new ImapMessage(raw);
        }
        const seq = selected.seqOf(f.uid);
        if (seq === undefined) continue;
        const extra = seenNow.has(f.uid) && !plan.items.some((i) => i.kind === "FLAGS")
          ? (condstore ? SEEN_EXTRA_MODSEQ : SEEN_EXTRA)
          : [];
        const items = messageItems(plan, f, message, extra);
        await out.add(session.writer.untagged([seq, atom("FETCH"), items]));
        if (extra.length || plan.items.some((i) => i.kind === "FLAGS")) {
          selected.update({ uid: f.uid, modseq: f.modseq, flags: f.flags });
        }
      }
    }
  } finally {
    // What was answered before a NO (UNKNOWN-CTE, a mailbox gone) still goes out before the tagged answer.
    await out.flush();
  }
  if (expunged > 0) {
    return {
      tag: command.tag,
      status: "OK",
      code: { name: "EXPUNGEISSUED" },
      text: "Some messages were already expunged",
    };
  }
  return { tag: command.tag, status: "OK", text: `${command.uid ? "UID FETCH" : "FETCH"} completed` };
}

/** The selected mailbox (the dispatch table lets FETCH and STORE run only in the selected state). */
export function selectedOf(session: ImapSession): SelectedMailbox {
  if (!session.selected) throw new ImapBad("No mailbox selected");
  return session.selected;
}

/**
 * Sets \Seen on the messages of `facts` that lack it (RFC 9051 §6.4.5), updating their flags and
 * MODSEQ in place; returns their UIDs, or "forbidden" when the viewer may not set \Seen here (the
 * fetch goes on without it, as for a read-only mailbox).
 */
async function markSeen(
  session: ImapSession,
  selected: SelectedMailbox,
  facts: ImapMessageFacts[],
): Promise<Set<number> | "forbidden"> {
  const unseen = facts.filter((f) => !f.flags.includes("\\Seen")).map((f) => f.uid);
  if (unseen.length === 0) return new Set();
  let result;
  try {
    result = await session.deps.messages.storeFlags(
      session.principal!.accountId,
      selected.ref,
      toRanges(unseen),
      { operation: "add", flags: ["\\Seen"] },
    );
  } catch (error) {
    if (error instanceof ForbiddenError) return "forbidden";
    throw error;
  }
  const after = new Map(result.messages.map((m) => [m.uid, m]));
  const changed = new Set<number>();
  for (const f of facts) {
    const now = after.get(f.uid);
    if (!now) continue;
    f.flags = now.flags;
    f.modseq = now.modseq;
    changed.add(f.uid);
  }
  return changed;
}

/** The UID ranges a UID FETCH names, `*` being the largest UID handed out (for VANISHED). */
function requestedRanges(set: SequenceSet, selected: SelectedMailbox): [number, number][] {
  if (set === "$") return toRanges(selected.saved);
  const last = selected.uids.length ? selected.uids[selected.uids.length - 1] : 0;
  const largest = Math.max(last, selected.uidNext - 1);
  return set.map(({ start, end }) => {
    const a = start === "*" ? largest : start;
    const b = end === "*" ? largest : end;
    return a <= b ? [a, b] : [b, a];
  });
}

/** The parts of `ranges` (ascending, disjoint) inside any of `within`, ascending and merged. */
export function intersect(
  ranges: readonly (readonly [number, number])[],
  within: readonly (readonly [number, number])[],
): [number, number][] {
  const out: [number, number][] = [];
  for (const [a, b] of ranges) {
    for (const [c, d] of within) {
      const low = Math.max(a, c);
      const high = Math.min(b, d);
      if (low <= high) out.push([low, high]);
    }
  }
  out.sort((x, y) => x[0] - y[0]);
  const merged: [number, number][] = [];
  for (const range of out) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1] + 1) last[1] = Math.max(last[1], range[1]);
    else merged.push([...range]);
  }
  return merged;
}

/** Ranges in the wire form of a sequence set (`1:3,7`). */
export function formatRanges(ranges: readonly (readonly [number, number])[]): string {
  return ranges.map(([a, b]) => a === b ? `${a}` : `${a}:${b}`).join(",");
}
