/**
 * Builds a password hasher for new Argon2 parameters and proves it on this machine before the
 * parameters are stored: the hash workers together must fit in the machine's memory, and a trial
 * hash must finish in bounded time. The caller swaps it in once the write has committed.
 */
import { type Argon2Parameters, defaultWorkerCount, PasswordHasher } from "./password_hasher.ts";

/**
 * Share of the machine's memory that the hash workers may take together, all hashing at once: with
 * more, a burst of logins could push the server (and the machine) into swap or the OOM killer.
 */
export const ARGON2_MEMORY_SHARE = 0.5;

/**
 * A hash slower than this on this machine is logged as a warning: every password login waits that
 * long (OWASP's m=19456, t=2, p=1 takes tens of milliseconds on a small machine; this module's
 * trial measures it on the machine at hand).
 */
export const ARGON2_SLOW_HASH_MS = 1000;

/**
 * A trial hash still running after this long refuses the parameters: logins would take longer than
 * clients wait for an answer, and each one would hold a hash worker as long.
 */
export const ARGON2_MAX_HASH_MS = 10_000;

/** Parameters this machine cannot apply: too much memory, or a hash that takes too long. */
export class Argon2CostError extends Error {
  override name = "Argon2CostError";
  constructor(message: string, readonly cost: "memory" | "time") {
    super(message);
  }
}

/** Options of {@link tryHasher}; the machine's figures can be given (tests). */
export interface HasherTrialOptions {
  /** Workers of the new hasher (default: cores, at most 4). */
  workers?: number;
  /** The machine's memory in bytes (default: what the system reports). */
  totalMemoryBytes?: number;
  /** Default {@link ARGON2_MAX_HASH_MS}. */
  maxHashMs?: number;
}

/** A hasher that hashed once with its parameters, and how long that hash took. */
export interface TriedHasher {
  hasher: PasswordHasher;
  hashMs: number;
}

/**
 * Builds a hasher with `parameters` and times one hash (after a first one that starts the worker).
 * Throws RangeError for parameters outside ARGON2_LIMITS and Argon2CostError for parameters this
 * machine cannot afford; the new hasher is closed then, and nothing else is touched.
 */
export async function tryHasher(
  parameters: Argon2Parameters,
  options: HasherTrialOptions = {},
): Promise<TriedHasher> {
  const hasher = new PasswordHasher({ ...parameters, workers: options.workers });
  try {
    checkMemory(parameters, Math.max(hasher.maxWorkers, defaultWorkerCount()), options.totalMemoryBytes);
    const maxMs = options.maxHashMs ?? ARGON2_MAX_HASH_MS;
    // The first hash also starts the worker, which a loaded machine can make slow: it gets longer.
    await timedHash(hasher, parameters, { maxMs, waitMs: maxMs + WORKER_START_MS });
    return { hasher, hashMs: await timedHash(hasher, parameters, { maxMs, waitMs: maxMs }) };
  } catch (error) {
    hasher.close();
    throw error;
  }
}

/** The PHC form of parameters, as messages quote them. */
export function describeParameters({ memoryKiB, iterations, parallelism }: Argon2Parameters): string {
  return `m=${memoryKiB},t=${iterations},p=${parallelism}`;
}

/**
 * Why `workers` hash workers with `parameters` take more of this machine's memory than
 * {@link ARGON2_MEMORY_SHARE}, or undefined when they fit.
 */
export function argon2MemoryProblem(
  parameters: Argon2Parameters,
  workers: number,
  totalBytes = Deno.systemMemoryInfo().total,
): string | undefined {
  const needed = parameters.memoryKiB * 1024 * workers;
  if (needed <= totalBytes * ARGON2_MEMORY_SHARE) return undefined;
  const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);
  return `memoryKiB ${parameters.memoryKiB} is more than this machine can give: ${workers} hash workers ` +
    `hashing at once would take ${mib(needed)} MiB, more than ${ARGON2_MEMORY_SHARE * 100}% of its ` +
    `${mib(totalBytes)} MiB (at most ${
      Math.floor(totalBytes * ARGON2_MEMORY_SHARE / workers / 1024)
    } KiB here)`;
}

// The server's worker count decides, not this process's: the CLI hashes with one worker, but the
// parameters it stores are the server's too.
function checkMemory(parameters: Argon2Parameters, workers: number, totalBytes?: number): void {
  const problem = argon2MemoryProblem(parameters, workers, totalBytes);
  if (problem) throw new Argon2CostError(problem, "memory");
}

/** How long one hash takes on `hasher` (after a first one that starts a worker), in whole ms. */
export async function measureHash(hasher: PasswordHasher): Promise<number> {
  await hasher.hash("postern trial password");
  const started = performance.now();
  await hasher.hash("postern trial password");
  return Math.round(performance.now() - started);
}

/** Time allowed for starting a hash worker, on top of the first hash. */
const WORKER_START_MS = 30_000;

async function timedHash(
  hasher: PasswordHasher,
  parameters: Argon2Parameters,
  { maxMs, waitMs }: { maxMs: number; waitMs: number },
) {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tooSlow = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new Argon2CostError(
          `one hash with ${describeParameters(parameters)} takes more than ${maxMs} ms on this machine; ` +
            "every login would wait that long (lower the memory or the iterations)",
          "time",
        ),
      );
    }, waitMs);
  });
  try {
    await Promise.race([hasher.hash("postern trial password"), tooSlow]);
  } finally {
    clearTimeout(timer);
  }
  return Math.round(performance.now() - started);
}
