/** Helpers of the IMAP decoder's tests: decode a command written as text and get its AST or refusal. */
import type { CommandBody, DecodeEvent, DecoderLimits, ImapCommand } from "./command.ts";
import { createCommandDecoder } from "./decoder.ts";

/** Limits roomy enough for every example of the tests. */
export const TEST_LIMITS: DecoderLimits = { maxLine: 65536, maxAppendLiteral: 1 << 20, maxLiteral: 65536 };

/** Decodes `input` and a final CRLF, and returns the events other than `continue`. */
export function decodeEvents(input: string | Uint8Array, options: { utf8?: boolean } = {}): DecodeEvent[] {
  const decoder = createCommandDecoder(TEST_LIMITS);
  decoder.utf8(options.utf8 ?? false);
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  return decoder.push(new Uint8Array([...bytes, 0x0d, 0x0a])).filter((event) => event.type !== "continue");
}

/** Decodes one command and returns it; throws with what came instead. */
export function parseOne(input: string | Uint8Array, options: { utf8?: boolean } = {}): ImapCommand {
  const events = decodeEvents(input, options);
  if (events.length !== 1 || events[0].type !== "command") {
    throw new Error(`Expected one command, got ${Deno.inspect(events)}`);
  }
  return events[0].command;
}

/** Decodes one command and returns its body. */
export function bodyOf(input: string | Uint8Array, options: { utf8?: boolean } = {}): CommandBody {
  return parseOne(input, options).body;
}

/** Decodes one command that must be refused and returns the refusal's text. */
export function refusal(input: string | Uint8Array, options: { utf8?: boolean } = {}): string {
  const events = decodeEvents(input, options);
  if (events.length !== 1 || events[0].type !== "bad") {
    throw new Error(`Expected a refusal of ${Deno.inspect(input)}, got ${Deno.inspect(events)}`);
  }
  return events[0].text;
}

/** Valid commands covering the grammar, each a whole command with its CRLF (literals inline). */
export const SAMPLE_COMMANDS: string[] = [
  "a001 LOGIN mrc secret\r\n",
  "A001 LOGIN {11}\r\nFRED FOOBAR {7+}\r\nfat man\r\n",
  "a AUTHENTICATE PLAIN AGZyZWQAc2VjcmV0\r\n",
  "a002 select inbox (QRESYNC (67890007 20050715194045000 41,43:211 (1:3 41:43)))\r\n",
  "a003 fetch 12 full\r\n",
  "a004 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (DATE FROM)]<0.100> BINARY[1.2]) (CHANGEDSINCE 5 VANISHED)\r\n",
  "a005 store 12 +flags.silent (\\deleted $Junk)\r\n",
  "a006 UID STORE 1:4294967295 (UNCHANGEDSINCE 12121230045) FLAGS ()\r\n",
  'A282 SEARCH RETURN (MIN COUNT) CHARSET UTF-8 OR (FLAGGED SINCE 1-Feb-1994) NOT FROM "Smith" TEXT {3}\r\nabc\r\n',
  "A283 UID SORT (SUBJECT REVERSE DATE) UTF-8 MODSEQ 5 UID 1:*\r\n",
  "A284 THREAD REFERENCES UTF-8 SINCE 5-MAR-2000\r\n",
  'A01 LIST (SUBSCRIBED RECURSIVEMATCH) "" ("INBOX" %) RETURN (CHILDREN STATUS (MESSAGES UNSEEN))\r\n',
  "A042 STATUS blurdybloop (UIDNEXT MESSAGES HIGHESTMODSEQ)\r\n",
  'A003 APPEND saved-messages (\\Seen) " 7-Feb-1994 21:52:25 -0800" {12}\r\nSubject: x\r\n\r\n',
  "A004 APPEND INBOX ~{3+}\r\na\0b\r\n",
  'a023 ID ("name" "sodr" "version" NIL)\r\n',
  "t2 ENABLE CONDSTORE QRESYNC\r\n",
  "a COMPRESS DEFLATE\r\n",
  "a IDLE\r\n",
  'S0000 SETQUOTA "" (STORAGE 512)\r\n',
  "A035 SETACL INBOX/Drafts John lrQswicdakxet\r\n",
  "a UID MOVE 42:69 &ZeVnLIqe-\r\n",
  "a UID EXPUNGE 3000:3002\r\n",
  "a RENAME {3}\r\nold {3+}\r\nnew\r\n",
];
