/**
 * What SEARCH, SORT and THREAD share: the CHARSET check (RFC 9051 §6.4.4), the key tree with the
 * client's message sets resolved against its view of the mailbox (sequence numbers, UIDs, `$` of
 * RFC 5182) for the mail service, and the sequence-set form of a result (RFC 4731 `ALL`).
 */
import type { SearchKey, SequenceRange, StatusResponse } from "../command.ts";
import type { ImapSearchKey } from "../../mail/mod.ts";
import { decodeId } from "../../model/ids.ts";
import { atom } from "../response.ts";
import type { SelectedMailbox } from "../selected.ts";

/** The charsets searches accept (the only ones BADCHARSET lists). */
const CHARSETS = ["UTF-8", "US-ASCII"];

/** NO [BADCHARSET (UTF-8 US-ASCII)] for a charset other than those, else undefined. */
export function charsetRefusal(tag: string, charset: string | undefined): StatusResponse | undefined {
  if (charset === undefined || CHARSETS.includes(charset.toUpperCase())) return undefined;
  return {
    tag,
    status: "NO",
    code: { name: "BADCHARSET", values: [CHARSETS.map(atom)] },
    text: `Charset ${charset.slice(0, 40)} is not supported`,
  };
}

/** The key tree for the mail service, its message sets resolved in the client's view. */
export function serviceKey(key: SearchKey, selected: SelectedMailbox): ImapSearchKey {
  return resolveKey(key, selected);
}

/** Whether the client knows a UID (arrivals since its last EXISTS are not searched, RFC 9051 §7.4.1). */
export function knownIn(selected: SelectedMailbox): (uid: number) => boolean {
  return (uid) => selected.seqOf(uid) !== undefined;
}

function resolveKey(key: SearchKey, selected: SelectedMailbox): ImapSearchKey {
  const emailsOf = (uids: number[]): ImapSearchKey => ({
    op: "emails",
    emailIds: uids.map((uid) => selected.message(uid)!.emailId),
  });
  switch (key.op) {
    case "and":
      return { op: "and", keys: key.keys.map((k) => resolveKey(k, selected)) };
    case "or":
      return { op: "or", left: resolveKey(key.left, selected), right: resolveKey(key.right, selected) };
    case "not":
      return { op: "not", key: resolveKey(key.key, selected) };
    case "seq":
      return emailsOf(key.set === "$" ? selected.resolve(key.set, false) : bySequence(key.set, selected));
    case "uid":
      return emailsOf(selected.resolve(key.set, true));
    case "modseq":
      return { op: "modseq", modseq: Number(key.modseq) };
    case "emailid":
      return { op: "emailid", emailId: decodeId(key.id) };
    case "threadid":
      return { op: "threadid", threadId: decodeId(key.id) };
    default:
      return key;
  }
}

/**
 * The UIDs of a sequence-number set in a search key. Unlike FETCH or STORE, a number past the last
 * message is no error here: it matches nothing, as in Dovecot (`SEARCH 1:*` in an empty mailbox is
 * an empty answer, not BAD).
 */
function bySequence(set: readonly SequenceRange[], selected: SelectedMailbox): number[] {
  const last = selected.exists;
  const uids = new Set<number>();
  for (const range of set) {
    const a = range.start === "*" ? last : range.start;
    const b = range.end === "*" ? last : range.end;
    for (let seq = Math.max(1, Math.min(a, b)); seq <= Math.min(last, Math.max(a, b)); seq++) {
      uids.add(selected.uidAt(seq)!);
    }
  }
  return [...uids];
}

/** Ascending numbers as a sequence set (`1:3,7,9:10`). */
export function sequenceSet(numbers: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < numbers.length;) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j] + 1) j++;
    parts.push(i === j ? `${numbers[i]}` : `${numbers[i]}:${numbers[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}
