/**
 * How many read workers `postern serve` runs in each serving process (--read-workers,
 * POSTERN_READ_WORKERS): threads with read-only connections of their own that run Email/query
 * (src/store/read_pool.ts), so that a full-text search uses another core and no longer holds the
 * thread that answers every other request.
 */
import { wholeNumber } from "./whole_number.ts";

/** What `auto` never goes beyond: more readers than cores only contend. */
export const MAX_AUTO_READ_WORKERS = 4;
/** The largest --read-workers accepted. */
export const MAX_READ_WORKERS = 32;

/** The environment variable of --read-workers. */
export const READ_WORKERS_ENVIRONMENT = {
  POSTERN_READ_WORKERS:
    `read workers per serving process, 0 to ${MAX_READ_WORKERS} or auto: the process's share of the cores, 1 to ${MAX_AUTO_READ_WORKERS} (default auto; 0: queries on the main thread)`,
} as const;

/**
 * `text` as a number of read workers per serving process: a whole number from 0 to MAX_READ_WORKERS,
 * or `auto`: the process's share of the cores (at least 1, at most MAX_AUTO_READ_WORKERS).
 *
 * A share, not one per core in each process: with 2 processes on 2 cores, 2 workers each (4 workers and
 * 2 main threads on 2 cores) cost 3,019–3,095 µs of server CPU per full-text request against
 * 2,092–2,174 µs with 1 each (interleaved A/B, 5 rounds each way, load 7–12), and 1 each cost less than
 * none (1,927 against 2,206 µs).
 */
export function resolveReadWorkers(
  text: string,
  options: { cores?: number; processes?: number } = {},
): number {
  const cores = options.cores ?? (navigator.hardwareConcurrency || 1);
  const share = Math.floor(cores / Math.max(1, options.processes ?? 1));
  if (text.trim().toLowerCase() === "auto") return Math.max(1, Math.min(share, MAX_AUTO_READ_WORKERS));
  return wholeNumber(text, "number of read workers (--read-workers)", 0, MAX_READ_WORKERS);
}
