import { timingSafeEqual } from "node:crypto";
import { ARGON2_LIMITS } from "../model/argon2_limits.ts";
import { workerUrl } from "../model/worker_url.ts";
import type { DeriveRequest, DeriveResponse } from "./hash_worker.ts";

/** Argon2id parameters (OWASP defaults: memoryKiB 19456, iterations 2, parallelism 1). */
export interface Argon2Parameters {
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

/** OWASP's recommended Argon2id parameters: 19 MiB and tens of milliseconds per hash (src/auth/hasher_trial.ts measures it). */
export const DEFAULT_ARGON2: Argon2Parameters = Object.freeze({
  memoryKiB: 19456,
  iterations: 2,
  parallelism: 1,
});

/** Hasher settings; `workers` defaults to the number of cores, capped at 4. */
export interface PasswordHasherOptions extends Partial<Argon2Parameters> {
  workers?: number;
}

/**
 * Name of the `Symbol.for` key on `globalThis` where scripts/bundle.ts stores the bundled worker source,
 * because a single-file bundle has no hash_worker.ts next to it to load.
 */
export const EMBEDDED_HASH_WORKER_KEY = "postern.hashWorkerSource";

const SALT_BYTES = 16;
const HASH_BYTES = 32;
const MAX_DEFAULT_WORKERS = 4;

// Bounds on this hasher's parameters and on those of a stored or imported hash (verifying must not let
// one row make the server allocate gigabytes or spin for minutes): the settings' schema checks new
// parameters against the same ARGON2_LIMITS, so a value it accepts is one the hasher can use.
const LIMITS = {
  memoryKiB: ARGON2_LIMITS.memoryKiB.max,
  iterations: ARGON2_LIMITS.iterations.max,
  parallelism: ARGON2_LIMITS.parallelism.max,
  saltBytes: [8, 64],
  hashBytes: [4, 64],
} as const;

const PHC_PATTERN =
  /^\$argon2id\$v=19\$m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,10})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

interface ParsedPhc {
  parameters: Argon2Parameters;
  salt: Uint8Array;
  hash: Uint8Array;
}

interface Job {
  request: DeriveRequest;
  resolve(hash: Uint8Array): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

/** Hashes and verifies passwords with Argon2id in a lazily started pool of module workers. */
export class PasswordHasher {
  readonly #parameters: Argon2Parameters;
  readonly #maxWorkers: number;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  #closed = false;
  #closeWhenIdle = false;
  #spawnCooldown: ReturnType<typeof setTimeout> | undefined;

  /** Validates the parameters now, so a bad configuration fails at boot rather than at first login. */
  constructor(options: PasswordHasherOptions = {}) {
    const parameters = {
      memoryKiB: options.memoryKiB ?? DEFAULT_ARGON2.memoryKiB,
      iterations: options.iterations ?? DEFAULT_ARGON2.iterations,
      parallelism: options.parallelism ?? DEFAULT_ARGON2.parallelism,
    };
    const problem = parameterProblem(parameters);
    if (problem) throw new RangeError(`Cannot create password hasher: ${problem}`);
    const workers = options.workers ?? defaultWorkerCount();
    if (!Number.isInteger(workers) || workers < 1) {
      throw new RangeError(`Cannot create password hasher: workers ${workers} is not a positive integer`);
    }
    this.#parameters = parameters;
    this.#maxWorkers = workers;
  }

  /** The parameters of the hashes this hasher makes. */
  get parameters(): Readonly<Argon2Parameters> {
    return this.#parameters;
  }

  /** How many workers this hasher runs at most (one hash at a time each). */
  get maxWorkers(): number {
    return this.#maxWorkers;
  }

  /** Hashes a password with a fresh 16-byte salt and returns its PHC string. */
  async hash(password: string): Promise<string> {
    // hash-wasm refuses empty input; say so here instead of surfacing its message from the worker.
    if (password === "") throw new RangeError("Cannot hash an empty password");
    const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
    const hash = await this.#derive({ password, salt, ...this.#parameters, hashLength: HASH_BYTES });
    return encodePhc(this.#parameters, salt, hash);
  }

  /** Checks a password against an Argon2id PHC string using that string's own parameters. */
  async verify(phc: string, password: string): Promise<boolean> {
    const parsed = parsePhc(phc);
    if (!parsed || typeof password !== "string" || password === "") return false;
    const derived = await this.#derive({
      password,
      salt: parsed.salt,
      ...parsed.parameters,
      hashLength: parsed.hash.length,
    });
    return timingSafeEqual(derived, parsed.hash);
  }

  /**
   * Starts every worker now, one per event-loop turn, so the first burst of logins does not pay for
   * worker start-up (each blocks the event loop while its isolate boots).
   */
  prestart(): void {
    if (this.#closed || this.#slots.length >= this.#maxWorkers) return;
    this.#spawn();
    setTimeout(() => this.prestart(), 0);
  }

  /** Terminates the workers and rejects every pending call; the hasher cannot be used afterwards. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#spawnCooldown);
    const error = new Error("Password hasher is closed");
    for (const slot of this.#slots.splice(0)) {
      slot.worker.terminate();
      slot.job?.reject(error);
    }
    for (const job of this.#queue.splice(0)) job.reject(error);
  }

  /**
   * Closes once the work already given has finished (a replaced hasher: its callers' verifications
   * complete instead of failing).
   */
  closeWhenIdle(): void {
    this.#closeWhenIdle = true;
    this.#closeIfIdle();
  }

  #closeIfIdle(): void {
    if (this.#closeWhenIdle && this.#queue.length === 0 && this.#slots.every((s) => s.job === null)) {
      this.close();
    }
  }

  /** Lets callers write `using hasher = new PasswordHasher()`, since live workers keep the process alive. */
  [Symbol.dispose](): void {
    this.close();
  }

  #derive(request: DeriveRequest): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new Error("Password hasher is closed"));
    return new Promise((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) return;
      if (slot.job === null) this.#assign(slot, this.#queue.shift()!);
    }
    if (this.#queue.length === 0 || this.#slots.length >= this.#maxWorkers) return;
    if (this.#spawnCooldown !== undefined) return;
    // `new Worker` blocks this thread while the worker's isolate boots, so start at most one
    // per macrotask: timers and requests run between starts instead of stalling behind all of them.
    this.#assign(this.#spawn(), this.#queue.shift()!);
    this.#spawnCooldown = setTimeout(() => {
      this.#spawnCooldown = undefined;
      this.#pump();
    }, 0);
  }

  #assign(slot: Slot, job: Job): void {
    slot.job = job;
    slot.worker.postMessage(job.request);
  }

  #spawn(): Slot {
    const slot: Slot = { worker: new Worker(hashWorkerUrl(), { type: "module" }), job: null };
    slot.worker.onmessage = (event: MessageEvent<DeriveResponse>) => {
      const job = slot.job;
      slot.job = null;
      if ("error" in event.data) job?.reject(new Error(`Argon2id failed: ${event.data.error}`));
      else job?.resolve(event.data.hash);
      this.#pump();
      this.#closeIfIdle();
    };
    slot.worker.onerror = (event: ErrorEvent) => {
      // Without preventDefault an uncaught worker error is rethrown in the main thread and ends the process.
      event.preventDefault();
      this.#discard(slot, new Error(`Password hash worker failed: ${event.message}`));
    };
    slot.worker.onmessageerror = () => {
      this.#discard(slot, new Error("Password hash worker sent an unreadable message"));
    };
    this.#slots.push(slot);
    return slot;
  }

  #discard(slot: Slot, error: Error): void {
    slot.worker.terminate();
    const index = this.#slots.indexOf(slot);
    if (index >= 0) this.#slots.splice(index, 1);
    slot.job?.reject(error);
    slot.job = null;
    if (!this.#closed) this.#pump();
    this.#closeIfIdle();
  }
}

/** Tells whether text is a well-formed Argon2id PHC string this hasher can verify, without hashing. */
export function isArgon2idPhc(text: string): boolean {
  return parsePhc(text) !== undefined;
}

/**
 * One core is left to the event loop: on 2 cores, a second worker made 20 concurrent logins finish
 * later (1.5 s against 0.93 s) and tripled /healthz p99 during them (figure 3 of
 * `deno task bench --only logins`, run with this function returning 1, then 2).
 */
export function defaultWorkerCount(): number {
  return Math.min(MAX_DEFAULT_WORKERS, Math.max(1, (navigator.hardwareConcurrency || 1) - 1));
}

function parameterProblem({ memoryKiB, iterations, parallelism }: Argon2Parameters): string | undefined {
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > LIMITS.parallelism) {
    return `parallelism ${parallelism} is not an integer from 1 to ${LIMITS.parallelism}`;
  }
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > LIMITS.iterations) {
    return `iterations ${iterations} is not an integer from 1 to ${LIMITS.iterations}`;
  }
  if (!Number.isInteger(memoryKiB) || memoryKiB < 8 * parallelism || memoryKiB > LIMITS.memoryKiB) {
    return `memoryKiB ${memoryKiB} is not an integer from ${
      8 * parallelism
    } (8 × parallelism) to ${LIMITS.memoryKiB}`;
  }
  return undefined;
}

function parsePhc(text: string): ParsedPhc | undefined {
  if (typeof text !== "string") return undefined;
  const match = PHC_PATTERN.exec(text);
  if (!match) return undefined;
  const parameters = {
    memoryKiB: Number(match[1]),
    iterations: Number(match[2]),
    parallelism: Number(match[3]),
  };
  if (parameterProblem(parameters)) return undefined;
  const salt = decodeBase64(match[4]);
  const hash = decodeBase64(match[5]);
  if (!salt || salt.length < LIMITS.saltBytes[0] || salt.length > LIMITS.saltBytes[1]) return undefined;
  if (!hash || hash.length < LIMITS.hashBytes[0] || hash.length > LIMITS.hashBytes[1]) return undefined;
  return { parameters, salt, hash };
}

function encodePhc(parameters: Argon2Parameters, salt: Uint8Array, hash: Uint8Array): string {
  const { memoryKiB, iterations, parallelism } = parameters;
  return `$argon2id$v=19$m=${memoryKiB},t=${iterations},p=${parallelism}$${encodeBase64(salt)}$${
    encodeBase64(hash)
  }`;
}

// PHC strings use the standard alphabet without padding.
function encodeBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/=+$/, "");
}

function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 === 1) return undefined;
  try {
    return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  } catch {
    return undefined;
  }
}

function hashWorkerUrl(): string | URL {
  return workerUrl(EMBEDDED_HASH_WORKER_KEY, new URL("./hash_worker.ts", import.meta.url));
}
