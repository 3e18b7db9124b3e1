/**
 * SORT (RFC 5256 §3, DISPLAYFROM/DISPLAYTO of RFC 5957) over the stored columns of the messages a
 * search found, and the base subject of RFC 5256 §2.1 that SORT SUBJECT and THREAD use. Pure.
 *
 * What the store keeps against what RFC 5256 asks:
 * - ARRIVAL is the received date, SIZE the size, DATE the stored sent instant, which is already the
 *   Date header with the received date in its place when there is none that reads (§2.2): the
 *   Email/query sort columns, used as they are.
 * - Email/query's from/to sort columns hold the display name (else the address) folded to lower
 *   case and its base subject strips more prefixes than §2.1 (Aw:, Sv:, list tags…); IMAP's FROM,
 *   TO and CC sort by the first address's local part, DISPLAYFROM/DISPLAYTO by the display name
 *   else the address, SUBJECT by the §2.1 base subject, all under i;ascii-casemap. Those are
 *   computed here from the header properties kept at import (never from the message).
 */

/** A SORT key (RFC 5256 §3, RFC 5957). */
export interface ImapSortCriterion {
  key: "ARRIVAL" | "CC" | "DATE" | "FROM" | "SIZE" | "SUBJECT" | "TO" | "DISPLAYFROM" | "DISPLAYTO";
  reverse: boolean;
}

/** What sorting and threading read of one message (store/imap.ts sortRows). */
export interface SortFacts {
  uid: number;
  size: number;
  receivedAt: number;
  sentMs: number;
  subject: string;
  /** The header properties kept at import (JSON). */
  headers: string;
}

interface Address {
  name?: string | null;
  email?: string | null;
}

interface Headers {
  from?: Address[] | null;
  to?: Address[] | null;
  cc?: Address[] | null;
  messageId?: string[] | null;
  inReplyTo?: string[] | null;
  references?: string[] | null;
}

/** The header properties of a row (an unreadable value is no header). */
export function headersOf(row: SortFacts): Headers {
  try {
    return JSON.parse(row.headers) ?? {};
  } catch {
    return {};
  }
}

/** i;ascii-casemap (RFC 4790 §9.2): ASCII letters upper-cased, then octet order. */
export function asciiCasemap(text: string): string {
  return text.replace(/[a-z]+/g, (s) => s.toUpperCase());
}

/** Octet order of the UTF-8 forms (code point order, which UTF-16 code unit order is not). */
function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

const localPart = (address: Address | undefined): string => {
  const email = address?.email ?? "";
  const at = email.lastIndexOf("@");
  return at < 0 ? email : email.slice(0, at);
};

/** RFC 5957 §3: the display name when there is one, else the address. */
const display = (address: Address | undefined): string =>
  address?.name?.trim() ? address.name.trim() : address?.email ?? "";

/** The sort key of one criterion for one message: a number or an i;ascii-casemap string. */
function keyOf(row: SortFacts, headers: Headers, key: ImapSortCriterion["key"]): number | string {
  switch (key) {
    case "ARRIVAL":
      return row.receivedAt;
    case "DATE":
      return row.sentMs;
    case "SIZE":
      return row.size;
    case "SUBJECT":
      return asciiCasemap(baseSubject(row.subject).base);
    case "FROM":
      return asciiCasemap(localPart(headers.from?.[0]));
    case "TO":
      return asciiCasemap(localPart(headers.to?.[0]));
    case "CC":
      return asciiCasemap(localPart(headers.cc?.[0]));
    case "DISPLAYFROM":
      return asciiCasemap(display(headers.from?.[0]));
    case "DISPLAYTO":
      return asciiCasemap(display(headers.to?.[0]));
  }
}

/**
 * The UIDs of `rows` in SORT order; messages equal under every criterion keep UID order, which is
 * sequence number order (RFC 5256 §3: ties go by sequence number, whatever REVERSE says).
 */
export function sortUids(rows: readonly SortFacts[], criteria: readonly ImapSortCriterion[]): number[] {
  const keyed = rows.map((row) => {
    const headers = headersOf(row);
    return { uid: row.uid, keys: criteria.map((c) => keyOf(row, headers, c.key)) };
  });
  keyed.sort((a, b) => {
    for (let i = 0; i < criteria.length; i++) {
      const x = a.keys[i];
      const y = b.keys[i];
      const d = typeof x === "number" ? x - (y as number) : compareText(x, y as string);
      if (d !== 0) return criteria[i].reverse ? -d : d;
    }
    return a.uid - b.uid;
  });
  return keyed.map((k) => k.uid);
}

const BLOB = /^\[[^[\]]*\][ \t]*/;
const REFWD = /^(re|fwd?)[ \t]*(\[[^[\]]*\][ \t]*)?:/i;

/**
 * The base subject of RFC 5256 §2.1 (the subject is already decoded from encoded words), and
 * whether extracting it removed a reply or forward mark (THREAD=REFERENCES §4 (5)(B) needs to know).
 */
export function baseSubject(subject: string): { base: string; isReply: boolean } {
  // (1) white space runs become one space.
  let text = subject.replace(/[\t\r\n ]+/g, " ");
  let isReply = false;
  for (;;) {
    // (2) trailing "(fwd)" and white space.
    for (;;) {
      const next = text.replace(/[ \t]+$/, "");
      if (/\(fwd\)$/i.test(next)) {
        text = next.slice(0, -5);
        isReply = true;
        continue;
      }
      text = next;
      break;
    }
    // (3) and (4), repeated: leading subj-refwd (with blobs before it), then one blob if text remains.
    for (;;) {
      let changed = false;
      const trimmed = text.replace(/^[ \t]+/, "");
      if (trimmed !== text) [text, changed] = [trimmed, true];
      let rest = text;
      while (BLOB.test(rest)) rest = rest.replace(BLOB, "");
      const refwd = REFWD.exec(rest);
      if (refwd) {
        text = rest.slice(refwd[0].length);
        isReply = true;
        changed = true;
      } else {
        const blob = BLOB.exec(text);
        if (blob && text.length > blob[0].length) {
          text = text.slice(blob[0].length);
          changed = true;
        }
      }
      if (!changed) break;
    }
    // (6) "[fwd: …]" wraps the whole subject.
    if (/^\[fwd:/i.test(text) && text.endsWith("]")) {
      text = text.slice(5, -1);
      isReply = true;
      continue;
    }
    return { base: text.trim(), isReply };
  }
}
