// Parses messages off the main thread (see parse_pool.ts and facts_pool.ts): MIME parsing is linear,
// but a 50 MB message still costs seconds of CPU, which would stall every request sharing the event
// loop, and the facts of an Email/import batch of small messages cost the event loop as much as the
// rest of the import. The worker answers with plain data; structured cloning keeps the body lists
// pointing into the same part tree.

import { emailBody } from "./mime/mod.ts";
import { type BatchFacts, batchFacts, factsOf, type MessageFacts } from "./message_facts.ts";
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

/** A batch for the long-lived worker of facts_pool.ts: the facts of each message, answered under `id`. */
export interface FactsBatchRequest {
  id: number;
  batch: Uint8Array[];
}

/** The answer to a {@link FactsBatchRequest}, in the order of its messages. */
export interface FactsBatchResponse {
  id: number;
  results: BatchFacts[];
}

// Cast instead of `/// <reference lib="deno.worker" />`, which clashes with deno.window when the whole tree
// is type-checked in one program.
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<ParseRequest | FactsBatchRequest>) => void) | null;
  postMessage(message: ParseResponse | FactsBatchResponse): void;
};

scope.onmessage = (event) => {
  const request = event.data;
  if ("batch" in request) {
    scope.postMessage({ id: request.id, results: request.batch.map(batchFacts) });
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
