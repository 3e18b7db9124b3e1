/**
 * How many serving processes `postern serve` runs (--processes, POSTERN_PROCESSES), and what each of
 * them enforces so that N processes hold what one would.
 *
 * Several processes share every listening address through SO_REUSEPORT: the kernel spreads the
 * connections. Deno 2.9.6 sets it for `Deno.listen({ reusePort: true })` (and `Deno.serve`) only with
 * the unstable `net` feature (its op exits the process otherwise, so it is checked here first: the
 * feature's other API, `Deno.listenDatagram`, exists exactly when it is on), and node:net's
 * `server.listen({ reusePort: true })` (SMTP, IMAP) sets it on Linux without a flag. The socket option
 * spreads connections on Linux only: elsewhere a second bind would fail, so one process serves there.
 */
import { ConfigError } from "./errors.ts";
import { wholeNumber } from "./whole_number.ts";

/** What `auto` never goes beyond: SQLite writes take turns, so more processes only add contention. */
export const MAX_AUTO_PROCESSES = 8;
/** The largest --processes accepted. */
export const MAX_PROCESSES = 64;

/** The environment variable of --processes. */
export const PROCESSES_ENVIRONMENT = {
  POSTERN_PROCESSES:
    `serving processes sharing the listeners, 1 to ${MAX_PROCESSES} or auto: one per core up to ${MAX_AUTO_PROCESSES} (default 1; auto: Linux only, elsewhere 1)`,
} as const;

/** What the machine and the runtime allow. */
export interface ProcessSupport {
  cores: number;
  /** Whether listeners can share an address (Linux, and Deno's unstable net feature on). */
  reusePort: boolean;
  /** Why not, when reusePort is false. */
  reason?: string;
}

/** What this runtime allows, detected. */
export function processSupport(): ProcessSupport {
  const cores = Math.max(1, navigator.hardwareConcurrency || 1);
  if (Deno.build.os !== "linux") {
    return { cores, reusePort: false, reason: `the kernel of ${Deno.build.os} does not spread connections` };
  }
  if (typeof (Deno as unknown as Record<string, unknown>).listenDatagram !== "function") {
    return {
      cores,
      reusePort: false,
      reason: "Deno's SO_REUSEPORT needs the unstable net feature: run with --unstable-net " +
        "(deno.json sets it for `deno task` and `deno compile`)",
    };
  }
  return { cores, reusePort: true };
}

/**
 * The number of serving processes: `text` is a whole number from 1 to MAX_PROCESSES or `auto` (one per
 * core, at most MAX_AUTO_PROCESSES). Where listeners cannot share an address, `auto` is 1 and a number
 * above 1 is a ConfigError that says why.
 */
export function resolveProcesses(text: string, support: ProcessSupport = processSupport()): number {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === "auto") return support.reusePort ? Math.min(support.cores, MAX_AUTO_PROCESSES) : 1;
  const count = wholeNumber(text, "number of processes (--processes)", 1, MAX_PROCESSES);
  if (count > 1 && !support.reusePort) {
    throw new ConfigError(`Cannot run ${count} processes (--processes): ${support.reason}`);
  }
  return count;
}

/**
 * One process's share of a cap on what one client address holds at once: each process counts its own
 * connections and the kernel spreads a client's connections over them, so N processes each allowing the
 * whole cap would let one address hold N times it. The kernel spreads by a hash of each connection's
 * ports, not evenly, so each share has half as much again of slack (one address may hold up to 1.5×
 * the cap in all): a client within the cap is not refused because more of its connections than the
 * average reached one process (64 connections over 2 processes: 48 or more on one has odds of about
 * 1 in 50,000). Never more than the cap, never below one.
 */
export function shareOf(cap: number, processes: number): number {
  return Math.max(1, Math.min(cap, Math.ceil((cap * 1.5) / processes)));
}
