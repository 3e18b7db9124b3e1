/**
 * SEARCH and UID SEARCH (RFC 9051 §6.4.4) with ESEARCH's result options (RFC 4731), SAVE and `$`
 * (RFC 5182) and MODSEQ (RFC 7162 §3.1.5); SORT (RFC 5256 §3, RFC 5957) and THREAD (RFC 5256 §4).
 * The mail service runs the search through Email/query's planner and index (src/mail/imap_search.ts);
 * here the client's sets are resolved, the answer is written in the form the client asked for, and
 * numbers are sequence numbers, or UIDs under `UID`.
 *
 * Read in order: search (charset, SAVE reset, the search, the answer), then sort and thread.
 */
import type { CommandBody, ImapCommand, ResponseValue, SearchKey, SearchReturn } from "../command.ts";
import type { ThreadNode } from "../../mail/mod.ts";
import { ImapBad } from "../errors.ts";
import { atom } from "../response.ts";
import type { ImapSession, Outcome } from "../session.ts";
import { charsetRefusal, knownIn, sequenceSet, serviceKey } from "./search_keys.ts";

type Body<N extends CommandBody["name"]> = CommandBody & { name: N };

const encoder = new TextEncoder();

/** SEARCH / UID SEARCH. */
export async function search(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const body = command.body as Body<"SEARCH">;
  const selected = session.selected!;
  const save = body.returns.includes("SAVE");
  // RFC 5182 §2.1: a SAVE whose search fails leaves `$` empty, so empty it before the search runs
  // (once its own `$` is resolved).
  const refused = charsetRefusal(command.tag, body.charset);
  if (refused) {
    if (save) selected.saved = [];
    return refused;
  }
  condstoreBy(session, body.criteria);
  let key;
  try {
    key = serviceKey(body.criteria, selected);
  } finally {
    if (save) selected.saved = [];
  }
  const result = await session.deps.messages.search(
    session.principal!.accountId,
    selected.ref,
    key,
    knownIn(selected),
  );
  const uids = result.uids;
  // RFC 9051 §6.4.4: a client that enabled IMAP4rev2 gets ESEARCH even without RETURN.
  const esearch = body.esearch || session.enabled.has("IMAP4REV2");
  const returns: SearchReturn[] = body.esearch ? body.returns : esearch ? ["ALL"] : [];
  if (save) selected.saved = savedPart(uids, returns);
  const numbers = command.uid ? uids : uids.map((uid) => selected.seqOf(uid)!);
  if (!esearch) {
    const modseq = result.highestModseq !== undefined && numbers.length
      ? [[atom("MODSEQ"), result.highestModseq]]
      : [];
    session.untagged([atom("SEARCH"), ...numbers, ...modseq]);
  } else if (!(returns.length === 1 && returns[0] === "SAVE")) {
    // RFC 5182 §2.4: SAVE alone answers no ESEARCH.
    session.untagged(esearchData(command, returns, numbers, result.highestModseq));
  }
  return { tag: command.tag, status: "OK", text: `${command.uid ? "UID " : ""}SEARCH completed` };
}

/**
 * RFC 7162 §3.1: a search with MODSEQ turns CONDSTORE on for the session (later FETCH responses
 * carry MODSEQ), announced with the mailbox's HIGHESTMODSEQ as known to the client.
 */
function condstoreBy(session: ImapSession, key: SearchKey): void {
  if (session.enabled.has("CONDSTORE") || !hasModseq(key)) return;
  session.enabled.add("CONDSTORE");
  session.status({
    status: "OK",
    code: { name: "HIGHESTMODSEQ", values: [session.selected!.modseq] },
    text: "Highest",
  });
}

function hasModseq(key: SearchKey): boolean {
  switch (key.op) {
    case "modseq":
      return true;
    case "and":
      return key.keys.some(hasModseq);
    case "or":
      return hasModseq(key.left) || hasModseq(key.right);
    case "not":
      return hasModseq(key.key);
    default:
      return false;
  }
}

/** RFC 5182 §2.1: with MIN and/or MAX (and neither ALL nor COUNT) only those are saved. */
function savedPart(uids: number[], returns: SearchReturn[]): number[] {
  if (returns.includes("ALL") || returns.includes("COUNT") || uids.length === 0) return uids;
  const out: number[] = [];
  if (returns.includes("MIN")) out.push(uids[0]);
  if (returns.includes("MAX") && uids.length > 1) out.push(uids[uids.length - 1]);
  return out.length ? out : uids;
}

/** `ESEARCH (TAG "t") [UID] MIN … MAX … ALL … COUNT … MODSEQ …` (RFC 4731 §3.1, RFC 7162 §3.1.5). */
function esearchData(
  command: ImapCommand,
  returns: SearchReturn[],
  numbers: number[],
  modseq: number | undefined,
): ResponseValue[] {
  const out: ResponseValue[] = [atom("ESEARCH"), [atom("TAG"), command.tag]];
  if (command.uid) out.push(atom("UID"));
  const any = numbers.length > 0;
  if (any && returns.includes("MIN")) out.push(atom("MIN"), numbers[0]);
  if (any && returns.includes("MAX")) out.push(atom("MAX"), numbers[numbers.length - 1]);
  if (any && returns.includes("ALL")) out.push(atom("ALL"), atom(sequenceSet(numbers)));
  if (returns.includes("COUNT")) out.push(atom("COUNT"), numbers.length);
  if (any && modseq !== undefined) out.push(atom("MODSEQ"), modseq);
  return out;
}

/** SORT / UID SORT (RFC 5256 §3). */
export async function sort(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const body = command.body as Body<"SORT">;
  const refused = charsetRefusal(command.tag, body.charset);
  if (refused) return refused;
  if (body.returns.length) throw new ImapBad("SORT RETURN (ESORT, RFC 5267) is not offered");
  const selected = session.selected!;
  const uids = await session.deps.messages.sort(
    session.principal!.accountId,
    selected.ref,
    serviceKey(body.search, selected),
    body.criteria,
    knownIn(selected),
  );
  session.untagged([atom("SORT"), ...(command.uid ? uids : uids.map((uid) => selected.seqOf(uid)!))]);
  return { tag: command.tag, status: "OK", text: `${command.uid ? "UID " : ""}SORT completed` };
}

/** THREAD / UID THREAD (RFC 5256 §4): `* THREAD (1 2 (3)(4))(5)`. */
export async function thread(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const body = command.body as Body<"THREAD">;
  const refused = charsetRefusal(command.tag, body.charset);
  if (refused) return refused;
  const selected = session.selected!;
  const threads = await session.deps.messages.thread(
    session.principal!.accountId,
    selected.ref,
    serviceKey(body.search, selected),
    body.algorithm,
    knownIn(selected),
  );
  const text = threadText(threads, command.uid ? (uid) => uid : (uid) => selected.seqOf(uid)!);
  // Thread lists follow one another without a space (RFC 5256 §5 `thread-data`), which the value
  // writer's lists cannot express; the line holds only numbers, spaces and parentheses.
  session.io.write(encoder.encode(`* THREAD${text ? ` ${text}` : ""}\r\n`));
  return { tag: command.tag, status: "OK", text: `${command.uid ? "UID " : ""}THREAD completed` };
}

/** The `thread-list`s of the trees: a message with one child continues the chain, more nest. */
export function threadText(threads: readonly ThreadNode[], numberOf: (uid: number) => number): string {
  const members = (node: ThreadNode): string => {
    const parts: string[] = node.uid !== undefined ? [String(numberOf(node.uid))] : [];
    if (node.children.length === 1 && node.uid !== undefined) parts.push(members(node.children[0]));
    else if (node.children.length) parts.push(node.children.map((c) => `(${members(c)})`).join(""));
    return parts.join(" ");
  };
  return threads.map((t) => `(${members(t)})`).join("");
}
