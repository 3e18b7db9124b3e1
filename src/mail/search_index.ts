/**
 * One batch of the full-text indexer (store/search_index.ts), the same code on the indexer's worker
 * thread (search_index_worker.ts) and on the main thread when there is no worker (search_indexer.ts):
 * the emails after the watermark with their messages, each one's search text made by the parse the
 * rebuild uses (search_rebuild.ts), then one short write transaction.
 */
import { getLogger } from "@logtape/logtape";
import type { SearchIndexRepository, SearchText, SynchronousMode } from "../store/mod.ts";
import { parseMessage } from "./parse_pool.ts";
import { messageFacts } from "./message_facts.ts";

const log = getLogger(["postern", "mail", "search"]);
const NO_TEXT: SearchText = { subject: "", from: "", to: "", cc: "", bcc: "", body: "", attachments: "" };

/**
 * How long the indexer's lease holds: renewed by each batch, given up when its process stops, so only
 * a crashed indexer's lease stays until it lapses, and another process takes over that long after.
 */
export const INDEX_LEASE_MS = 5_000;

/**
 * A batch's bounds: its write transaction holds the write lock, so every commit of the MX and of
 * imports waits for it. 200 emails of 10 KB index in a few milliseconds; a batch of large messages
 * stops at the bytes.
 */
export const INDEX_BATCH = { emails: 200, bytes: 4 * 1024 * 1024 };

/** The lease this indexer holds (0: none), kept between its batches. */
export interface IndexLease {
  until: number;
}

/** What one batch did, and where the watermark and the newest email stood. */
export interface IndexStep {
  kind: "caught up" | "claimed elsewhere" | "indexed" | "overtaken";
  through: number;
  latest: number;
}

/**
 * Indexes the next batch under `lease` (taking it when it is free or lapsed). `force`: regardless of
 * another indexer's lease, for a caller that waited for it long enough (the watermark's
 * compare-and-set still keeps a batch from being written twice). `inline`: see {@link searchTextOf}.
 */
export async function indexBatch(
  index: SearchIndexRepository,
  lease: IndexLease,
  options: { now?: number; force?: boolean; batch?: typeof INDEX_BATCH; inline?: boolean } = {},
): Promise<IndexStep> {
  const now = options.now ?? Date.now();
  const state = await index.state();
  const at = { through: state.indexedThrough, latest: state.latest };
  if (state.indexedThrough >= state.latest) return { kind: "caught up", ...at };
  const holding = lease.until > now && state.claimedUntil === lease.until;
  if (!options.force && !holding) {
    if (state.claimedUntil > now) return { kind: "claimed elsewhere", ...at };
    const until = now + INDEX_LEASE_MS;
    if (!await index.claim(state.claimedUntil, until)) return { kind: "claimed elsewhere", ...at };
    lease.until = until;
  }
  const emails = await index.next(state.indexedThrough, options.batch ?? INDEX_BATCH);
  if (emails.length === 0) return { kind: "caught up", ...at };
  const entries = [];
  for (const email of emails) {
    entries.push({ id: email.id, search: await searchTextOf(email, { inline: options.inline }) });
  }
  const through = emails.at(-1)!.id;
  const until = now + INDEX_LEASE_MS;
  const written = await index.write(entries, {
    from: state.indexedThrough,
    through,
    claimedUntil: options.force ? undefined : lease.until,
    until,
  });
  if (!written) return { kind: "overtaken", ...at };
  if (!options.force) lease.until = until;
  return { kind: "indexed", through, latest: state.latest };
}

/**
 * The search text of a stored message. It was parsed when it was stored, so a failure now is rare; the
 * email is then indexed without text (and said in the log) rather than holding the index back forever.
 * `inline`: parsed on this thread whatever its size (the indexer's own thread, which may block and
 * has no parse worker of its own to start), else through the parse pool (parse_pool.ts).
 */
export async function searchTextOf(
  email: { id: number; message: Uint8Array | null },
  options: { inline?: boolean } = {},
): Promise<SearchText> {
  try {
    if (email.message === null) throw new Error("its message is gone");
    if (options.inline) return messageFacts(email.message).search;
    return (await parseMessage(email.message)).facts.search;
  } catch (error) {
    log.warn("Cannot read email {id} for the full-text index; it is indexed without text: {error}", {
      id: email.id,
      error: String(error),
    });
    return NO_TEXT;
  }
}

/**
 * How long a batch waits after a "soon" for more emails, so that one commit of the indexer covers
 * many of the store's (each costs the main connection its page cache, and each is an FTS5 segment).
 * 20 ms against 100 made no difference the inbound bench could see, 1 s cost more (README, "The
 * full-text index after the commit"); a search waits for none of it (it asks for "now").
 */
export const INDEX_DELAY_MS = 100;
/** How often the worker looks for emails nobody told it of (another process's, or a lost wake-up). */
export const INDEX_POLL_MS = 250;

/** The start message. */
export interface IndexerStart {
  path: string;
  busyTimeoutMs?: number;
  synchronous?: SynchronousMode;
  /** Whether the store's transactions take the writers' lock (then so do this thread's). */
  writersLock: boolean;
  /** Else the threads' lock the store's transactions take (store/thread_lock.ts). */
  threadLock?: SharedArrayBuffer;
}

/** To the worker: start, index soon or now (then report each step), or stop after the batch under way. */
export type IndexerRequest = { start: IndexerStart } | { wake: "soon" | "now" } | { stop: true };

/** From the worker: a step (only while someone asked "now"), a failed batch, or stopped. */
export type IndexerReport = IndexStep | { error: string } | { stopped: true };
