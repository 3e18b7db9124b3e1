/**
 * The facts of an Email/import batch (message_facts.ts) made on a long-lived worker thread
 * (parse_worker.ts): parsing a 10 KB message and gathering what lists and search need cost the event
 * loop about as much as storing it, and the worker does it on another core while the event loop
 * serves the uploads and imports of other connections. A message larger than
 * PARSE_LIMITS.inlineBytes keeps its own worker (parse_pool.ts); a single message, or a machine of
 * one core, is parsed on the calling thread, where a round trip to the worker would cost more than it
 * saves.
 *
 * One worker, started at the first batch and ended after IDLE_MS without one (a running worker keeps
 * the process alive). A worker that fails, or cannot start, is not replaced: what it held and every
 * later batch are parsed on the calling thread, so an import never depends on it.
 */
import { bareLineFeeds, type BatchFacts, batchFacts, type MessageFacts } from "./message_facts.ts";
import { EMBEDDED_PARSE_WORKER_KEY, PARSE_LIMITS, parseMessage } from "./parse_pool.ts";
import type { FactsBatchRequest, FactsBatchResponse } from "./parse_worker.ts";
import { workerUrl } from "../model/worker_url.ts";

/** How long the worker waits for the next batch before it is ended. */
const IDLE_MS = 2000;

/** What an import keeps of a parsed message: its facts and its IMAP size (null: its size). */
export interface ImportFacts {
  facts: MessageFacts;
  imapSize: number | null;
}

interface Pending {
  batch: Uint8Array[];
  resolve: (results: BatchFacts[]) => void;
}

/** Parses import batches on a worker; the same facts as parsing them in place. */
export class FactsPool {
  #worker: Worker | undefined;
  #failed = false;
  #closed = false;
  #ids = 0;
  readonly #pending = new Map<number, Pending>();
  #idle: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly options: { cores: number } = { cores: navigator.hardwareConcurrency || 1 },
  ) {}

  /** The facts of each message, in order; a message that cannot be parsed rejects the whole call. */
  async factsOf(messages: readonly Uint8Array[]): Promise<ImportFacts[]> {
    const small = messages.filter((m) => m.length <= PARSE_LIMITS.inlineBytes);
    const parsedSmall = small.length >= 2 ? await this.#batch(small) : small.map(batchFacts);
    let next = 0;
    const out: ImportFacts[] = [];
    for (const message of messages) {
      if (message.length > PARSE_LIMITS.inlineBytes) {
        const { facts } = await parseMessage(message);
        out.push({ facts, imapSize: imapSize(message.length, bareLineFeeds(message)) });
        continue;
      }
      const result = parsedSmall[next++];
      if ("error" in result) throw new Error(`Cannot parse the message: ${result.error}`);
      out.push({ facts: result.facts, imapSize: imapSize(message.length, result.bareLineFeeds) });
    }
    return out;
  }

  /** Ends the worker; later batches are parsed on the calling thread. */
  close(): void {
    this.#closed = true;
    this.#stop();
  }

  #batch(batch: Uint8Array[]): Promise<BatchFacts[]> {
    const worker = this.#failed || this.#closed || this.options.cores < 2 ? undefined : this.#started();
    if (!worker) return Promise.resolve(batch.map(batchFacts));
    clearTimeout(this.#idle);
    const id = ++this.#ids;
    // Copies, moved to the worker rather than cloned: cloning 50 messages of 10 KB held the event loop
    // for 4–10 ms, moving them costs nothing, and the caller keeps its own.
    const copies = batch.map((message) => message.slice());
    return new Promise((resolve) => {
      this.#pending.set(id, { batch, resolve });
      worker.postMessage(
        { id, batch: copies } satisfies FactsBatchRequest,
        copies.map((copy) => copy.buffer),
      );
    });
  }

  #started(): Worker | undefined {
    if (this.#worker) return this.#worker;
    try {
      const url = workerUrl(EMBEDDED_PARSE_WORKER_KEY, new URL("./parse_worker.ts", import.meta.url));
      const worker = new Worker(url, { type: "module" });
      worker.onmessage = (event: MessageEvent<FactsBatchResponse>) => this.#answer(event.data);
      worker.onerror = (event: ErrorEvent) => {
        // Without preventDefault an uncaught worker error is rethrown in the main thread and ends the process.
        event.preventDefault();
        this.#fail();
      };
      worker.onmessageerror = () => this.#fail();
      return this.#worker = worker;
    } catch {
      this.#fail();
      return undefined;
    }
  }

  #answer(answer: FactsBatchResponse): void {
    const pending = this.#pending.get(answer.id);
    if (!pending) return;
    this.#pending.delete(answer.id);
    pending.resolve(answer.results);
    if (this.#pending.size === 0) {
      clearTimeout(this.#idle);
      this.#idle = setTimeout(() => this.#pending.size === 0 && this.#stop(), IDLE_MS);
    }
  }

  /** The worker is gone: what it held is parsed here, and so is everything after. */
  #fail(): void {
    this.#failed = true;
    this.#stop();
  }

  #stop(): void {
    clearTimeout(this.#idle);
    this.#worker?.terminate();
    this.#worker = undefined;
    const held = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of held) p.resolve(p.batch.map(batchFacts));
  }
}

/** The IMAP size of a message of `size` octets with `bare` bare LFs: null when it is the size itself. */
function imapSize(size: number, bare: number): number | null {
  return bare === 0 ? null : size + bare;
}
