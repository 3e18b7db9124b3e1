// Parses a large message off the main thread (see parse_pool.ts): MIME parsing is linear, but a 50 MB
// message still costs seconds of CPU, which would stall every request sharing the event loop. The worker
// answers with plain data; structured cloning keeps the body lists pointing into the same part tree.

import { emailBody } from "./mime/mod.ts";
import { factsOf, type MessageFacts } from "./message_facts.ts";
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

// Cast instead of `/// <reference lib="deno.worker" />`, which clashes with deno.window when the whole tree
// is type-checked in one program.
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<ParseRequest>) => void) | null;
  postMessage(message: ParseResponse): void;
};

scope.onmessage = (event) => {
  try {
    const { message, ...body } = emailBody(event.data.message);
    const facts = event.data.facts ? factsOf({ message, ...body }) : null;
    scope.postMessage({ body, facts });
  } catch (error) {
    scope.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
};
