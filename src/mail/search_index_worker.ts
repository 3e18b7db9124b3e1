// The full-text indexer's thread (search_indexer.ts starts it): its own connection to the database file,
// the messages read and parsed here, each batch written in one short transaction (search_index.ts). The
// main thread wakes it after its commits that stored emails ("soon": the batch waits a little, so one
// commit here covers many of the main thread's, since each commit here costs the main connection its
// page cache) and when a query waits for the index ("now"). A poll notices other processes' commits
// and a lapsed lease.
import { openSearchIndex } from "../store/mod.ts";
import {
  INDEX_DELAY_MS,
  INDEX_POLL_MS,
  indexBatch,
  type IndexerReport,
  type IndexerRequest,
  type IndexLease,
} from "./search_index.ts";

// Cast instead of `/// <reference lib="deno.worker" />`, which clashes with deno.window when the whole tree
// is type-checked in one program.
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<IndexerRequest>) => void) | null;
  postMessage(message: IndexerReport): void;
};

let index: ReturnType<typeof openSearchIndex> | undefined;
const lease: IndexLease = { until: 0 };
let running = false;
let stopping = false;
/** Whether a caller waits: then every step is reported. */
let asked = false;
/** A drain asked for while one runs: after it, with this delay. */
let pending: number | undefined;
let timer: { at: number; id: ReturnType<typeof setTimeout> } | undefined;
let poll: ReturnType<typeof setInterval> | undefined;

function schedule(delayMs: number): void {
  if (running) {
    pending = Math.min(pending ?? delayMs, delayMs);
    return;
  }
  const at = Date.now() + delayMs;
  if (timer && timer.at <= at) return;
  if (timer) clearTimeout(timer.id);
  timer = { at, id: setTimeout(() => void drain(), delayMs) };
}

/** Batches until the index has caught up with what was there when each batch read. */
async function drain(): Promise<void> {
  timer = undefined;
  if (!index || stopping) return;
  running = true;
  // A "now" that comes while this drain runs gets the next one's steps.
  const report = asked;
  asked = false;
  try {
    for (;;) {
      const step = await indexBatch(index.searchIndex, lease, { inline: true });
      if (report) scope.postMessage(step);
      if (step.kind !== "indexed" || step.through >= step.latest || stopping) break;
    }
  } catch (error) {
    // Busy past the timeout, most likely: the next wake-up or poll tries again.
    scope.postMessage({ error: error instanceof Error ? error.message : String(error) });
  } finally {
    running = false;
  }
  if (stopping) return await finish();
  if (pending !== undefined) {
    const delay = pending;
    pending = undefined;
    schedule(delay);
  }
}

/** Stops: the lease given up, so the next process's indexer need not wait for it to lapse. */
async function finish(): Promise<void> {
  clearInterval(poll);
  if (timer) clearTimeout(timer.id);
  try {
    if (index && lease.until > Date.now()) await index.searchIndex.release(lease.until);
  } catch {
    // Busy: the lease lapses by itself.
  }
  index?.close();
  index = undefined;
  scope.postMessage({ stopped: true });
}

scope.onmessage = (event) => {
  const message = event.data;
  if ("start" in message) {
    const { path, writersLock, threadLock, busyTimeoutMs, synchronous } = message.start;
    index = openSearchIndex(path, { writersLock, threadLock, busyTimeoutMs, synchronous });
    poll = setInterval(() => {
      if (!running && !timer) schedule(0);
    }, INDEX_POLL_MS);
    schedule(0);
  } else if ("wake" in message) {
    if (message.wake === "now") asked = true;
    schedule(message.wake === "now" ? 0 : INDEX_DELAY_MS);
  } else {
    stopping = true;
    if (!running) void finish();
  }
};
