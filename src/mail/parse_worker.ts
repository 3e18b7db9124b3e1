// Parses messages off the main thread. One-shot (parse_pool.ts): a large message, whose parse would stall
// every request sharing the event loop (MIME parsing is linear, but a 50 MB message still costs seconds of
// CPU). Long-lived (facts_pool.ts): the small messages of an Email/import, a batch at a time, whose parse
// was a tenth of the main thread's time under the import bench. The worker answers with plain data;
// structured cloning keeps the body lists pointing into the same part tree.

import { emailBody } from "./mime/mod.ts";
import { factsOf, type MessageFacts, type ParsedFacts, parsedFacts } from "./message_facts.ts";
import type { EmailBody } from "./mime/mod.ts";

/** A parse request: the message and whether its facts (import) or only its body (reads) are wanted. */
export interface ParseRequest {
  message: Uint8Array;
  facts: boolean;
}

/** The parsed body without its message (the caller has it), its facts if asked, or the error's message. */
export type ParseResponse =
  | { body: Omit<EmailBody, "message">; facts: MessageFacts | null }
  | { error: string };

/**
 * To the long-lived worker: say when loaded (`hello`), or parse a batch, its messages one after
 * another in `bytes` (shared memory), each ending where `ends` says. The worker and the main thread
 * both take the batch's messages in turn through `claims[0]` (the next index, `Atomics.add`), so
 * each message is parsed once, by whichever gets to it (facts_pool.ts).
 */
export type FactsRequest = { hello: true } | {
  id: number;
  bytes: Uint8Array;
  ends: number[];
  claims: Int32Array;
};

/**
 * From the long-lived worker: loaded; the facts of the messages of a batch it took, by index, once
 * none is left to take; or why it failed (the main thread then parses what is missing).
 */
export type FactsAnswer =
  | { ready: true }
  | { id: number; parsed: [number, ParsedFacts][] }
  | { id: number; error: string };

// Cast instead of `/// <reference lib="deno.worker" />`, which clashes with deno.window when the whole tree
// is type-checked in one program.
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<ParseRequest | FactsRequest>) => void) | null;
  postMessage(message: ParseResponse | FactsAnswer): void;
};

scope.onmessage = (event) => {
  const request = event.data;
  if ("hello" in request) {
    scope.postMessage({ ready: true });
    return;
  }
  if ("ends" in request) {
    try {
      const { bytes, ends, claims } = request;
      const parsed: [number, ParsedFacts][] = [];
      for (let i = Atomics.add(claims, 0, 1); i < ends.length; i = Atomics.add(claims, 0, 1)) {
        // Copied out of the shared buffer (the main thread reuses it once answered; TextDecoder refuses
        // shared memory).
        parsed.push([i, parsedFacts(bytes.slice(i === 0 ? 0 : ends[i - 1], ends[i]))]);
      }
      scope.postMessage({ id: request.id, parsed });
    } catch (error) {
      scope.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) });
    }
    return;
  }
  try {
    const { message, ...body } = emailBody(request.message);
    const facts = request.facts ? factsOf({ message, ...body }) : null;
    scope.postMessage({ body, facts });
  } catch (error) {
    scope.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
};
