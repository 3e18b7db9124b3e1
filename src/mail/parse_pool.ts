/**
 * Message parsing that never holds the event loop for long: a message up to PARSE_LIMITS.inlineBytes is
 * parsed in place (measured on the 2-core dev machine: 25–230 ms per MB depending on its shape, so a
 * 512 KiB message costs at most about 100 ms); a larger one is parsed in a worker started for it, at
 * most PARSE_LIMITS.workers at a time, the others waiting in line. Every path that parses user MIME
 * (Email/import, delivery, Email/set create, Email/parse, Email/get bodies, SearchSnippet/get, blob
 * downloads of parts) goes through `parseBody` or `parseFacts`.
 */
import { type EmailBody, emailBody } from "./mime/mod.ts";
import { factsOf, type MessageFacts } from "./message_facts.ts";
import type { ParseRequest, ParseResponse } from "./parse_worker.ts";
import { workerUrl } from "../model/worker_url.ts";

/** Bounds of the parse pool. */
export const PARSE_LIMITS = {
  /** Messages of at most this many bytes are parsed on the calling thread. */
  inlineBytes: 512 * 1024,
  /** Workers parsing at once; one core is left to the event loop. */
  workers: Math.min(2, Math.max(1, (navigator.hardwareConcurrency || 1) - 1)),
} as const;

/**
 * Name of the `Symbol.for` key on `globalThis` where scripts/bundle.ts stores the bundled parse worker's
 * source, because a single-file bundle has no parse_worker.ts next to it to load.
 */
export const EMBEDDED_PARSE_WORKER_KEY = "postern.parseWorkerSource";

/** The message's body (RFC 8621 §4.1.4 lists), parsed off the main thread when it is large. */
export async function parseBody(message: Uint8Array): Promise<EmailBody> {
  if (message.length <= PARSE_LIMITS.inlineBytes) return emailBody(message);
  const answer = await inWorker({ message, facts: false });
  return { message, ...answer.body };
}

/**
 * The message's body and its facts (header properties, preview, the text search reads), both made off
 * the main thread when it is large: decoding a long text part costs as much as parsing it.
 */
export async function parseMessage(message: Uint8Array): Promise<{ body: EmailBody; facts: MessageFacts }> {
  if (message.length <= PARSE_LIMITS.inlineBytes) {
    const body = emailBody(message);
    return { body, facts: factsOf(body) };
  }
  const answer = await inWorker({ message, facts: true });
  return { body: { message, ...answer.body }, facts: answer.facts! };
}

let running = 0;
const waiting: (() => void)[] = [];

async function inWorker(request: ParseRequest): Promise<Extract<ParseResponse, { body: unknown }>> {
  // A finished parse hands its slot straight to the next in line, so `running` never passes the bound.
  if (running >= PARSE_LIMITS.workers) await new Promise<void>((resolve) => waiting.push(resolve));
  else running++;
  // A worker per large message: starting one (10–20 ms) is small beside the parse it takes over, and a
  // worker that is gone when idle cannot keep the process alive or outlive a shutdown.
  const worker = new Worker(parseWorkerUrl(), { type: "module" });
  try {
    return await new Promise((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<ParseResponse>) => {
        if ("error" in event.data) reject(new Error(`Cannot parse the message: ${event.data.error}`));
        else resolve(event.data);
      };
      worker.onerror = (event: ErrorEvent) => {
        // Without preventDefault an uncaught worker error is rethrown in the main thread and ends the process.
        event.preventDefault();
        reject(new Error(`The message parse worker failed: ${event.message}`));
      };
      worker.onmessageerror = () => reject(new Error("The message parse worker sent an unreadable message"));
      worker.postMessage(request);
    });
  } finally {
    worker.terminate();
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

/** Where the parse worker (parse_worker.ts) is loaded from; facts_pool.ts starts it too. */
export function parseWorkerUrl(): string | URL {
  return workerUrl(EMBEDDED_PARSE_WORKER_KEY, new URL("./parse_worker.ts", import.meta.url));
}
