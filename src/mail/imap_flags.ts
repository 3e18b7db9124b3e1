/**
 * IMAP flags ↔ JMAP keywords (RFC 8621 §4.1.1, which names the four system flags it maps; RFC 9051
 * §2.3.2 for the flags). The system flags are keywords under their JMAP names; `\Deleted` is the
 * keyword `$deleted` (JMAP has no such flag: a JMAP client sees it as an ordinary keyword, as with
 * Stalwart and Cyrus), so an IMAP client's "marked for deletion" survives until EXPUNGE whatever
 * protocol looks at it. `\Recent` is never stored: it is refused in STORE and APPEND flags (RFC 9051
 * drops it; a rev1 client may not set it, RFC 3501 §2.3.2).
 *
 * Keywords are stored lower case (JMAP's rule); IMAP keywords are case-insensitive, but some clients
 * compare the common ones by their registered spelling, so those are shown that way.
 */
import { InvalidInputError } from "./deps.ts";
import { isKeyword } from "./emails.ts";

const SYSTEM_FLAGS: Record<string, string> = {
  "\\seen": "$seen",
  "\\flagged": "$flagged",
  "\\answered": "$answered",
  "\\draft": "$draft",
  "\\deleted": "$deleted",
};

const FLAG_OF_KEYWORD: Record<string, string> = {
  $seen: "\\Seen",
  $flagged: "\\Flagged",
  $answered: "\\Answered",
  $draft: "\\Draft",
  $deleted: "\\Deleted",
  // Registered keywords (IANA "IMAP and JMAP Keywords") in their registered spelling.
  $forwarded: "$Forwarded",
  $mdnsent: "$MDNSent",
  $junk: "$Junk",
  $notjunk: "$NotJunk",
  $phishing: "$Phishing",
  $submitpending: "$SubmitPending",
  $submitted: "$Submitted",
  $important: "$Important",
  // Not registered, but written this way by the clients that use them (Thunderbird's junk marks,
  // Apple Mail's flag colours), which may compare them by spelling.
  junk: "Junk",
  nonjunk: "NonJunk",
  $mailflagbit0: "$MailFlagBit0",
  $mailflagbit1: "$MailFlagBit1",
  $mailflagbit2: "$MailFlagBit2",
};

/** The keyword an IMAP client's `\Deleted` is stored as. */
export const DELETED_KEYWORD = "$deleted";

/** The flags a client may set permanently (RFC 9051 §7.1 PERMANENTFLAGS): all, and new keywords. */
export const PERMANENT_FLAGS: readonly string[] = [
  "\\Seen",
  "\\Flagged",
  "\\Answered",
  "\\Draft",
  "\\Deleted",
  "\\*",
];

/** The flags FLAGS lists for every mailbox (RFC 9051 §7.3.5); keywords in use are added. */
export const SYSTEM_FLAG_NAMES: readonly string[] = PERMANENT_FLAGS.slice(0, 5);

/** The keyword of an IMAP flag, or an InvalidInputError naming it (\Recent, unknown system flags). */
export function keywordOfFlag(flag: string): string {
  const lower = flag.toLowerCase();
  if (lower.startsWith("\\")) {
    const keyword = SYSTEM_FLAGS[lower];
    if (keyword) return keyword;
    throw new InvalidInputError(
      lower === "\\recent"
        ? "\\Recent is set by the server only and cannot be stored"
        : `"${flag}" is not a system flag (\\Seen, \\Flagged, \\Answered, \\Draft, \\Deleted)`,
      [{ property: "flags", message: "not a settable flag" }],
    );
  }
  if (!isKeyword(flag)) {
    throw new InvalidInputError(`"${flag}" is not a valid keyword`, [
      { property: "flags", message: "invalid keyword" },
    ]);
  }
  return lower;
}

/** The keywords of IMAP flags, deduplicated (see {@link keywordOfFlag}). */
export function keywordsOfFlags(flags: readonly string[]): string[] {
  return [...new Set(flags.map(keywordOfFlag))];
}

/** The IMAP flag of a stored keyword. */
export function flagOfKeyword(keyword: string): string {
  return FLAG_OF_KEYWORD[keyword] ?? keyword;
}

/** Flags of the keyword lists seen lately (a mailbox has few distinct ones): SELECT maps every message. */
const FLAGS_OF_LIST = new Map<string, readonly string[]>();
const FLAGS_OF_LIST_MAX = 1024;

/** The IMAP flags of stored keywords, system flags first (a new array each call). */
export function flagsOfKeywords(keywords: readonly string[]): string[] {
  const key = keywords.join(" ");
  let flags = FLAGS_OF_LIST.get(key);
  if (!flags) {
    flags = keywords.map(flagOfKeyword).sort((a, b) =>
      Number(!a.startsWith("\\")) - Number(!b.startsWith("\\")) || (a < b ? -1 : a > b ? 1 : 0)
    );
    if (FLAGS_OF_LIST.size >= FLAGS_OF_LIST_MAX) FLAGS_OF_LIST.clear();
    FLAGS_OF_LIST.set(key, flags);
  }
  return flags.slice();
}
