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
    `read workers per serving process, 0 to ${MAX_READ_WORKERS} or auto: the process's share of the cores left by the serving processes, 0 to ${MAX_AUTO_READ_WORKERS} (default auto; 0: queries on the main thread)`,
} as const;

/**
 * `text` as a number of read workers per serving process: a whole number from 0 to MAX_READ_WORKERS,
 * or `auto`: the process's share of the cores that no serving process's main thread takes (none when
 * there are as many processes as cores, at most MAX_AUTO_READ_WORKERS).
 *
 * Measured on 2 cores (`scripts/bench/cores.ts`, 5 interleaved rounds, nothing else running,
 * 2026-12-07): 2 processes without read workers against 2 with 1 each — full-text mix 959 against 755
 * req/s, mailbox listing 1,903 against 1,458, `/healthz` p99 during the full-text load 2.1 against 4.7 ms,
 * Mailbox/get and the session alike. A worker beside a main thread on every core only takes turns with
 * it, and each query pays the hop to the worker (posting the call, copying the answer, waking the main
 * thread). With 2 workers each (one per core in every process) it cost 3,019–3,095 µs of server CPU
 * per full-text request against 2,092–2,174 µs with 1 each.
 */
export function resolveReadWorkers(
  text: string,
  options: { cores?: number; processes?: number } = {},
): number {
  const cores = options.cores ?? (navigator.hardwareConcurrency || 1);
  const processes = Math.max(1, options.processes ?? 1);
  if (text.trim().toLowerCase() === "auto") {
    return Math.max(0, Math.min(Math.floor((cores - processes) / processes), MAX_AUTO_READ_WORKERS));
  }
  return wholeNumber(text, "number of read workers (--read-workers)", 0, MAX_READ_WORKERS);
}
