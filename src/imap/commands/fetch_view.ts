/**
 * FETCH of UID, FLAGS and MODSEQ alone (what a client sends to sync a mailbox: `FETCH 1:* (FLAGS
 * UID)`), answered from the IMAP mail service's shared view of the mailbox (src/mail/imap_view.ts):
 * no row is read, the view being brought up to date by one state lookup when nothing changed.
 *
 * Where the time went at 100,000 messages: the facts query (a row and a keyword subquery per
 * message) and then the generic response writer (an array of values per message). Here each
 * response is one template string, the flag list of each distinct flag set encoded once by the
 * writer (so escaping is still the writer's), and the text is turned into bytes about 64 KiB at a
 * time (response_chunks.ts waits for the socket between them).
 *
 * A message the client knows that the view no longer holds was expunged meanwhile: it is skipped and
 * counted, for OK [EXPUNGEISSUED] (as fetch.ts does). What FLAGS told is recorded in the session's
 * view only where it differs from what the client knew (for a session sharing the same view, never).
 */
import type { FetchItem } from "../command.ts";
import { atom } from "../response.ts";
import type { SelectedMailbox } from "../selected.ts";
import type { ImapSession } from "../session.ts";
import type { FetchPlan } from "./fetch_items.ts";
import { ResponseChunks } from "./response_chunks.ts";

const VIEW_ITEMS = new Set<FetchItem["kind"]>(["UID", "FLAGS", "MODSEQ"]);
const CHUNK = 64 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Whether a FETCH plan can be answered from the view (UID, FLAGS and MODSEQ only, no \Seen set). */
export function answeredFromView(plan: FetchPlan): boolean {
  return !plan.needsMessage && !plan.setsSeen && plan.items.every((item) => VIEW_ITEMS.has(item.kind));
}

/**
 * Writes the FETCH responses of `uids` (ascending, all known to the client) from the mailbox's
 * view; returns how many were expunged meanwhile. `changedSince` keeps those with a higher MODSEQ.
 * Both views are sought, not walked, to each UID: `UID FETCH <last>` costs no pass over the mailbox.
 */
export async function fetchFromView(
  session: ImapSession,
  selected: SelectedMailbox,
  options: { uids: readonly number[]; plan: FetchPlan; changedSince?: number },
): Promise<number> {
  const view = await session.deps.messages.view(session.principal!.accountId, selected.ref);
  const { uids, plan, changedSince } = options;
  const kinds = plan.items.map((item) => item.kind);
  const wantsFlags = kinds.includes("FLAGS");
  const sharing = selected.shared === view;
  const known = selected.uids;
  const flagText = new Map<readonly string[], string>();
  const out = new ResponseChunks(session);
  let text = "";
  let expunged = 0;
  let k = 0; // walks the client's view (sequence numbers)
  let v = 0; // walks the shared view
  try {
    for (const uid of uids) {
      k = seekAtLeast(known, k, uid);
      v = seekAtLeast(view.uids, v, uid);
      if (known[k] !== uid) continue;
      if (view.uids[v] !== uid) {
        expunged++;
        continue;
      }
      const modseq = view.modseqs[v];
      if (changedSince !== undefined && modseq <= changedSince) continue;
      const flags = view.flags[v];
      let line = `* ${k + 1} FETCH (`;
      for (let i = 0; i < kinds.length; i++) {
        if (i) line += " ";
        const kind = kinds[i];
        if (kind === "UID") line += `UID ${uid}`;
        else if (kind === "MODSEQ") line += `MODSEQ (${modseq})`;
        else {
          let listed = flagText.get(flags);
          if (listed === undefined) {
            listed = decoder.decode(session.writer.value(flags.map(atom)));
            flagText.set(flags, listed);
          }
          line += `FLAGS ${listed}`;
        }
      }
      text += line + ")\r\n";
      if (text.length >= CHUNK) {
        await out.add(encoder.encode(text));
        text = "";
      }
      if (wantsFlags && !sharing && selected.modseqAt(k + 1) !== modseq) {
        selected.update({ uid, modseq, flags: [...flags] });
      }
    }
    if (text) await out.add(encoder.encode(text));
  } finally {
    await out.flush();
  }
  return expunged;
}

/**
 * The first index at or after `from` of ascending `values` whose value is at least `target`
 * (`values.length` when none): galloping, so the next of consecutive UIDs costs a look or two, as a
 * walk would, and the last UID of 100,000 about 34 instead of a walk over all of them.
 */
export function seekAtLeast(values: readonly number[], from: number, target: number): number {
  if (from >= values.length || values[from] >= target) return from;
  // values[low] < target; values[high] >= target, or high is the end.
  let low = from;
  let step = 1;
  let high = from + 1;
  while (high < values.length && values[high] < target) {
    low = high;
    step *= 2;
    high = low + step;
  }
  if (high > values.length) high = values.length;
  while (low + 1 < high) {
    const middle = (low + high) >>> 1;
    if (values[middle] < target) low = middle;
    else high = middle;
  }
  return high;
}
