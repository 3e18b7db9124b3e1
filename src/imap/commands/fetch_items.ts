/**
 * What one FETCH asks, planned once per command (RFC 9051 §6.4.5, §7.5.2): the items in the order
 * they are written, whether the stored message must be opened at all (FLAGS, UID, INTERNALDATE,
 * RFC822.SIZE, MODSEQ, EMAILID and THREADID come from the store's facts, so `FETCH 1:* (FLAGS UID)`
 * reads no message), and whether the fetch sets \Seen (a non-PEEK BODY[…], BINARY[…], RFC822 or
 * RFC822.TEXT). Then one message's response items from its facts and, when needed, its rendering.
 */
import type { FetchItem, ResponseValue } from "../command.ts";
import type { ImapMessageFacts } from "../../mail/mod.ts";
import { encodeId } from "../../model/ids.ts";
import { ImapNo } from "../errors.ts";
import { type ImapMessage, renderFetchItem } from "../render/mod.ts";
import { atom, itemName } from "../response.ts";

/** Items answered from the store's facts, never from the message. */
const FACT_ITEMS = new Set(["FLAGS", "UID", "INTERNALDATE", "RFC822.SIZE", "MODSEQ", "EMAILID", "THREADID"]);

/** One FETCH's plan. */
export interface FetchPlan {
  /** The items to write, UID first for UID FETCH, each once. */
  items: FetchItem[];
  /** Some item needs the message's octets. */
  needsMessage: boolean;
  /** Some item sets \Seen (RFC 9051 §6.4.5). */
  setsSeen: boolean;
}

/** Plans the items of a FETCH: UID added for UID FETCH (RFC 9051 §6.4.8), MODSEQ with CONDSTORE's CHANGEDSINCE. */
export function planFetch(
  items: readonly FetchItem[],
  options: { uid: boolean; modseq: boolean },
): FetchPlan {
  const out: FetchItem[] = [];
  const seen = new Set<string>();
  const add = (item: FetchItem) => {
    const key = item.kind === "BODY[]" || item.kind === "BINARY[]" || item.kind === "BINARY.SIZE"
      ? JSON.stringify({ ...item, peek: undefined })
      : item.kind;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(item);
  };
  if (options.uid) add({ kind: "UID" });
  for (const item of items) add(item);
  // RFC 7162 §3.1.4.1: with CHANGEDSINCE every FETCH response carries MODSEQ.
  if (options.modseq) add({ kind: "MODSEQ" });
  return {
    items: out,
    needsMessage: out.some((item) => !FACT_ITEMS.has(item.kind)),
    setsSeen: out.some((item) =>
      ((item.kind === "BODY[]" || item.kind === "BINARY[]") && !item.peek) ||
      item.kind === "RFC822" || item.kind === "RFC822.TEXT"
    ),
  };
}

/**
 * The response items of one message: its facts, and its rendering from `message` (opened by the
 * caller only when the plan needs it). `extra` are FLAGS (and MODSEQ) a \Seen set by this FETCH
 * adds when they were not asked. A BINARY of an unknown encoding ends the command with
 * NO [UNKNOWN-CTE] (RFC 3516 §4.3).
 */
export function messageItems(
  plan: FetchPlan,
  facts: ImapMessageFacts,
  message: ImapMessage | undefined,
  extra: readonly FetchItem[] = [],
): ResponseValue[] {
  const out: ResponseValue[] = [];
  for (const item of [...plan.items, ...extra]) {
    switch (item.kind) {
      case "FLAGS":
        out.push(atom("FLAGS"), facts.flags.map(atom));
        continue;
      case "UID":
        out.push(atom("UID"), facts.uid);
        continue;
      case "INTERNALDATE":
        out.push(atom("INTERNALDATE"), imapDateTime(facts.internalDate));
        continue;
      case "RFC822.SIZE":
        // The size of the octets served when they are at hand (bare LFs served as CRLF).
        out.push(atom("RFC822.SIZE"), message?.size ?? facts.size);
        continue;
      case "MODSEQ":
        out.push(atom("MODSEQ"), [BigInt(facts.modseq)]);
        continue;
      case "EMAILID":
        // RFC 8474 §5.1: the same id as the JMAP Email's.
        out.push(atom("EMAILID"), [atom(encodeId(facts.emailId))]);
        continue;
      case "THREADID":
        out.push(atom("THREADID"), [atom(encodeId(facts.threadId))]);
        continue;
    }
    if (!message) throw new Error(`FETCH ${item.kind} without the message`);
    const rendered = renderFetchItem(message, item);
    if (!rendered) throw new Error(`FETCH ${item.kind} did not render`);
    if (!rendered.ok) throw new ImapNo(rendered.code.name, rendered.text);
    out.push(itemName(rendered.name), rendered.value);
  }
  return out;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** An internal date as RFC 9051 §9 `date-time` (`"07-Dec-2026 03:56:45 +0000"`), in UTC. */
export function imapDateTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}
