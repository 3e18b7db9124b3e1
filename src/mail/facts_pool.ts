/**
 * The parse of an Email/import's messages in a long-lived worker thread (parse_worker.ts): under the
 * import bench (scripts/bench/import_rounds.ts) the MIME parse and the facts gathered from it were about
 * a tenth of the main thread's time, while the second core was partly idle. A batch goes to the worker
 * in one message and comes back as plain data (facts and bare LF counts), the same that
 * {@link parsedFacts} makes on the calling thread; meanwhile the main thread answers other requests.
 *
 * - Only while the machine has a core to spare ({@link spareCore}); otherwise on the calling thread.
 * - Never waits for a worker to start: until the worker says it has loaded, batches are parsed on the
 *   calling thread as before. A single message is parsed there too (the round trip would only add to
 *   its wait). A message larger than PARSE_LIMITS.inlineBytes takes the one-shot worker of
 *   parse_pool.ts, as it did.
 * - Ended after 30 s without work (a running worker keeps the process alive) and restarted by
 *   the next batch; {@link close} ends it for good.
 * - A worker that fails (an error thrown while loading, or the bundle without its source) is not
 *   replaced: the batches it held and every later one are parsed on the calling thread, so a batch
 *   whose parse fails in the worker gets the calling thread's answer (the same error, thrown there).
 */
import { PARSE_LIMITS, parseMessage, parseWorkerUrl } from "./parse_pool.ts";
import { bareLineFeeds, type ParsedFacts, parsedFacts } from "./message_facts.ts";
import type { FactsAnswer, FactsRequest } from "./parse_worker.ts";
import { setImmediate } from "node:timers";

/**
 * How long the worker waits for the next batch before it is ended: starting one holds the main thread
 * for 20–60 ms (measured under the import bench), so a client importing in bursts keeps it.
 */
const IDLE_MS = 30_000;

/** Messages of a batch below which the calling thread parses them itself. */
export const MIN_WORKER_BATCH = 2;

/** Shared buffers kept for the next batches, and the largest kept. */
const KEPT_BUFFERS = 4;
const KEPT_BUFFER_BYTES = 4 * 1024 * 1024;

/** `size` rounded up to a power of two, at least 64 KiB, so a buffer fits the next batches too. */
function roundUp(size: number): number {
  let rounded = 64 * 1024;
  while (rounded < size) rounded *= 2;
  return rounded;
}

/**
 * How long a batch is left to the worker alone before the main thread takes messages of it too: the
 * worker parses 50 messages of 10 KB in a few milliseconds, but on a loaded machine it may wait for a
 * core far longer, and the import with it (measured: 0.63× main's import rate at load 12).
 */
export const HELP_AFTER_MS = 5;

/** Each message's facts and bare LF count, parsed on the calling thread (a large one in a worker of its own). */
export function parsedHere(messages: readonly Uint8Array[]): Promise<ParsedFacts[]> {
  return Promise.all(
    messages.map(async (message) =>
      message.length <= PARSE_LIMITS.inlineBytes
        ? parsedFacts(message)
        : { facts: (await parseMessage(message)).facts, bareLineFeeds: bareLineFeeds(message) }
    ),
  );
}

/** How often {@link spareCore} reads the load average again. */
const LOAD_READ_MS = 1000;
let loadRead = { at: -Infinity, spare: true };

/**
 * Whether the machine has a core to spare (its one-minute load average below its cores): a batch
 * goes to the worker only then. On a machine whose cores are all busy the worker thread only queues
 * for one, and measured at load 5–26 on two cores, imports through it were slower than parsed
 * inline (0.63–0.99× main's rate) for 7–24% more CPU in all. Without the permission to read the
 * load, a core counts as spare.
 */
export function spareCore(now = performance.now()): boolean {
  if (now - loadRead.at < LOAD_READ_MS) return loadRead.spare;
  let spare = true;
  try {
    spare = Deno.loadavg()[0] < (navigator.hardwareConcurrency || 1);
  } catch {
    // No --allow-sys: as if a core were spare.
  }
  loadRead = { at: now, spare };
  return spare;
}

interface Pending {
  messages: Uint8Array[];
  /** Where the worker reads the batch. */
  buffer: SharedArrayBuffer;
  /** The next message to take (claims[0]), shared with the worker. */
  claims: Int32Array;
  /** Each message's facts once parsed, here or by the worker. */
  results: (ParsedFacts | undefined)[];
  /** Messages whose facts are still missing. */
  left: number;
  /** The timer of the main thread's turn at the batch (then it takes a message per slice). */
  help: ReturnType<typeof setTimeout> | undefined;
  resolve: (parsed: ParsedFacts[]) => void;
  reject: (error: unknown) => void;
  settled: boolean;
}

/** Parses the messages of imports, in a worker when that helps; same answers as {@link parsedFacts}. */
export class FactsPool {
  #worker: Worker | undefined;
  #ready = false;
  #failed = false;
  #closed = false;
  #ids = 0;
  readonly #pending = new Map<number, Pending>();
  /** Shared buffers no batch is using. */
  readonly #shared: SharedArrayBuffer[] = [];
  #idle: ReturnType<typeof setTimeout> | undefined;
  /** Batches answered by the worker, and by the calling thread, since the start (tests read them). */
  readonly stats = { worker: 0, inline: 0 };
  readonly #module: string | URL;

  readonly #helpAfterMs: number;
  readonly #spareCore: () => boolean;

  /**
   * Test seams: `module`, another worker module speaking parse_worker.ts's batch messages;
   * `helpAfterMs` instead of HELP_AFTER_MS; `spareCore` instead of {@link spareCore}.
   */
  constructor(options: { module?: string | URL; helpAfterMs?: number; spareCore?: () => boolean } = {}) {
    this.#module = options.module ?? parseWorkerUrl();
    this.#helpAfterMs = options.helpAfterMs ?? HELP_AFTER_MS;
    this.#spareCore = options.spareCore ?? spareCore;
  }

  /** Each message's facts and bare LF count, in order. */
  async parse(messages: readonly Uint8Array[]): Promise<ParsedFacts[]> {
    const parsed: ParsedFacts[] = new Array(messages.length);
    const small: number[] = [];
    for (const [i, message] of messages.entries()) {
      if (message.length <= PARSE_LIMITS.inlineBytes) small.push(i);
      else parsed[i] = { facts: (await parseMessage(message)).facts, bareLineFeeds: bareLineFeeds(message) };
    }
    const batch = small.map((i) => messages[i]);
    const worker = small.length >= MIN_WORKER_BATCH && this.#spareCore() ? this.#readyWorker() : undefined;
    let answers: ParsedFacts[];
    if (worker) {
      answers = await this.#inWorker(worker, batch);
      this.stats.worker++;
    } else {
      answers = batch.map(parsedFacts);
      this.stats.inline++;
    }
    small.forEach((i, k) => parsed[i] = answers[k]);
    return parsed;
  }

  /** Ends the worker; later batches are parsed on the calling thread. */
  close(): void {
    this.#closed = true;
    this.#stop();
  }

  /** The worker when it has loaded; otherwise undefined, after starting it if it is not running. */
  #readyWorker(): Worker | undefined {
    if (this.#failed || this.#closed) return undefined;
    if (this.#worker && this.#ready) {
      clearTimeout(this.#idle);
      return this.#worker;
    }
    if (this.#worker) {
      this.#idleLater();
      return undefined;
    }
    try {
      const worker = new Worker(this.#module, { type: "module" });
      worker.onmessage = (event: MessageEvent<FactsAnswer>) => this.#answer(event.data);
      worker.onerror = (event: ErrorEvent) => {
        // Without preventDefault an uncaught worker error is rethrown in the main thread and ends the process.
        event.preventDefault();
        this.#fail();
      };
      worker.onmessageerror = () => this.#fail();
      worker.postMessage({ hello: true } satisfies FactsRequest);
      this.#worker = worker;
      this.#idleLater();
    } catch {
      this.#fail();
    }
    return undefined;
  }

  #inWorker(worker: Worker, messages: Uint8Array[]): Promise<ParsedFacts[]> {
    const id = ++this.#ids;
    // The batch is copied into shared memory the worker reads in place, a buffer reused from batch
    // to batch: cloning each message, or a new buffer per batch handed over, cost the main thread
    // about what parsing them did (the serializer's copies, and the page faults of fresh memory).
    const size = messages.reduce((n, m) => n + m.length, 0);
    const free = this.#shared.findIndex((b) => b.byteLength >= size);
    const buffer = free < 0 ? new SharedArrayBuffer(roundUp(size)) : this.#shared.splice(free, 1)[0];
    const bytes = new Uint8Array(buffer, 0, size);
    const ends: number[] = [];
    let end = 0;
    for (const message of messages) {
      bytes.set(message, end);
      ends.push(end += message.length);
    }
    const claims = new Int32Array(new SharedArrayBuffer(4));
    return new Promise((resolve, reject) => {
      const pending: Pending = {
        messages,
        buffer,
        claims,
        results: new Array(messages.length),
        left: messages.length,
        help: undefined,
        resolve,
        reject,
        settled: false,
      };
      pending.help = setTimeout(() => this.#help(pending), this.#helpAfterMs);
      this.#pending.set(id, pending);
      worker.postMessage({ id, bytes, ends, claims } satisfies FactsRequest);
    });
  }

  /** The main thread takes the batch's next message, parses it, and comes back for another after I/O. */
  #help(pending: Pending): void {
    pending.help = undefined;
    if (pending.settled) return;
    const i = Atomics.add(pending.claims, 0, 1);
    if (i >= pending.messages.length) return;
    try {
      this.#fill(pending, i, parsedFacts(pending.messages[i]));
    } catch (error) {
      this.#settle(pending, error);
      return;
    }
    // A slice that finds the batch answered (by the worker meanwhile) does nothing.
    if (!pending.settled) setImmediate(() => this.#help(pending));
  }

  #fill(pending: Pending, i: number, facts: ParsedFacts): void {
    if (pending.settled || pending.results[i] !== undefined) return;
    pending.results[i] = facts;
    if (--pending.left === 0) this.#settle(pending);
  }

  /** Answers the batch (its facts, or the error), once; the worker's answer may still be on its way. */
  #settle(pending: Pending, error?: unknown): void {
    if (pending.settled) return;
    pending.settled = true;
    clearTimeout(pending.help);
    if (error === undefined) pending.resolve(pending.results as ParsedFacts[]);
    else pending.reject(error);
  }

  #answer(answer: FactsAnswer): void {
    if ("ready" in answer) {
      this.#ready = true;
      return;
    }
    const pending = this.#pending.get(answer.id);
    if (!pending) return;
    this.#pending.delete(answer.id);
    // The worker is done with the batch's buffer (it answers only after reading it): free again.
    if (this.#shared.length < KEPT_BUFFERS && pending.buffer.byteLength <= KEPT_BUFFER_BYTES) {
      this.#shared.push(pending.buffer);
    }
    if ("parsed" in answer) {
      for (const [i, facts] of answer.parsed) this.#fill(pending, i, facts);
    }
    // What the worker could not parse is parsed here: the error (or answer) is the calling thread's.
    this.#inline(pending);
    this.#idleLater();
  }

  /** Ends the worker once nothing has been asked of it for IDLE_MS. */
  #idleLater(): void {
    if (this.#pending.size) return;
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => this.#pending.size === 0 && this.#stop(), IDLE_MS);
  }

  /** Parses here every message of the batch still without facts. */
  #inline(pending: Pending): void {
    if (pending.settled) return;
    try {
      pending.messages.forEach((message, i) => {
        if (pending.results[i] === undefined) this.#fill(pending, i, parsedFacts(message));
      });
    } catch (error) {
      this.#settle(pending, error);
    }
  }

  /** The worker is gone: what it held is parsed here, and so is everything after. */
  #fail(): void {
    this.#failed = true;
    this.#stop();
  }

  #stop(): void {
    clearTimeout(this.#idle);
    this.#idle = undefined;
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#ready = false;
    const held = [...this.#pending.values()];
    this.#pending.clear();
    for (const pending of held) this.#inline(pending);
  }
}
