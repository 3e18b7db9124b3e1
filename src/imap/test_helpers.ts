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
