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
    `read workers per serving process, 0 to ${MAX_READ_WORKERS} or auto: one per core up to ${MAX_AUTO_READ_WORKERS} (default auto; 0: queries on the main thread)`,
} as const;

/** `text` as a number of read workers: a whole number from 0 to MAX_READ_WORKERS, or `auto`. */
export function resolveReadWorkers(text: string, cores = navigator.hardwareConcurrency || 1): number {
  if (text.trim().toLowerCase() === "auto") return Math.max(1, Math.min(cores, MAX_AUTO_READ_WORKERS));
  return wholeNumber(text, "number of read workers (--read-workers)", 0, MAX_READ_WORKERS);
}
