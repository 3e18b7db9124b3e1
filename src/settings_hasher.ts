/**
 * The password hasher under the Authentication settings, which may change while the server runs
 * (src/services.ts): new Argon2 parameters are proved on this machine before they are stored, and the
 * new hasher takes over once the write has committed; parameters another process stored are adopted at
 * its invalidation. Calls under way on the old hasher's workers finish there.
 */
import {
  ARGON2_SLOW_HASH_MS,
  Argon2CostError,
  argon2MemoryProblem,
  type Argon2Parameters,
  describeParameters,
  type HasherTrialOptions,
  isArgon2idPhc,
  measureHash,
  PasswordHasher,
  tryHasher,
} from "./auth/mod.ts";
import type { PasswordHashing } from "./directory/mod.ts";
import { InvalidInputError } from "./model/errors.ts";
import type { AuthenticationSettings } from "./model/objects/mod.ts";

const ARGON2_FIELDS = ["argon2MemoryKiB", "argon2Iterations", "argon2Parallelism"];

/** How a {@link SettingsHasher} hashes and how it tells of a costly choice. */
export interface SettingsHasherOptions {
  /** Hashing worker threads (PasswordHasher's default when absent). */
  workers?: number;
  /** How new parameters are proved, and above which time per hash it warns. */
  trial?: Omit<HasherTrialOptions, "workers"> & { slowHashMs?: number };
  warn: (message: string) => void;
}

/** The current password hasher, replaced when the Authentication settings' Argon2 parameters change. */
export class SettingsHasher {
  #hasher: PasswordHasher;
  readonly #options: SettingsHasherOptions;
  /** What every user of hashing goes through: always the current hasher. */
  readonly hashing: PasswordHashing = {
    hash: (password: string) => this.#hasher.hash(password),
    verify: (phc: string, password: string) => this.#hasher.verify(phc, password),
    isUsableHash: isArgon2idPhc,
  };

  constructor(settings: AuthenticationSettings, options: SettingsHasherOptions) {
    this.#options = options;
    this.#hasher = new PasswordHasher({ ...argon2(settings), workers: options.workers });
  }

  /**
   * Proves the parameters of settings about to be stored (`changed`: the fields the write sets): an
   * InvalidInputError naming the fields when this machine cannot hash with them; a warning when a hash
   * takes long. Undefined when the parameters do not change.
   */
  async prove(
    next: AuthenticationSettings,
    changed: readonly string[],
  ): Promise<{ commit: () => void; abort: () => void } | undefined> {
    const parameters = argon2(next);
    if (sameParameters(parameters, this.#hasher.parameters)) return undefined;
    const tried = await tryHasher(parameters, { ...this.#options.trial, workers: this.#options.workers })
      .catch((error) => {
        if (!(error instanceof Argon2CostError)) throw error;
        const fields = error.cost === "memory"
          ? ["argon2MemoryKiB"]
          : ARGON2_FIELDS.filter((field) => changed.includes(field) || changed.length === 0);
        throw new InvalidInputError(
          `Cannot update Authentication: ${error.message}`,
          fields.map((property) => ({ property, message: error.message })),
        );
      });
    this.#warnIfSlow(parameters, tried.hashMs);
    return { commit: () => this.#replace(tried.hasher), abort: () => tried.hasher.close() };
  }

  /** Settings another process stored (it proved them before storing them): here the hasher is built. */
  adopt(settings: AuthenticationSettings): void {
    const parameters = argon2(settings);
    if (!sameParameters(parameters, this.#hasher.parameters)) {
      this.#replace(new PasswordHasher({ ...parameters, workers: this.#options.workers }));
    }
  }

  /** Starts the hashing workers ahead of the first login. */
  prestart(): void {
    this.#hasher.prestart();
  }

  /** Warns when the parameters need more memory than the workers may take, or a hash takes long. */
  async checkCost(): Promise<void> {
    const hasher = this.#hasher;
    const memory = argon2MemoryProblem(
      hasher.parameters,
      hasher.maxWorkers,
      this.#options.trial?.totalMemoryBytes,
    );
    if (memory) this.#options.warn(`Authentication.argon2MemoryKiB: ${memory}`);
    this.#warnIfSlow(hasher.parameters, await measureHash(hasher));
  }

  close(): void {
    this.#hasher.close();
  }

  #replace(next: PasswordHasher): void {
    const old = this.#hasher;
    this.#hasher = next;
    old.closeWhenIdle();
  }

  #warnIfSlow(parameters: Argon2Parameters, hashMs: number): void {
    if (hashMs > (this.#options.trial?.slowHashMs ?? ARGON2_SLOW_HASH_MS)) {
      this.#options.warn(
        `Argon2 parameters ${describeParameters(parameters)} take ${hashMs} ms per hash on this ` +
          "machine: every password login waits that long",
      );
    }
  }
}

function sameParameters(a: Argon2Parameters, b: Argon2Parameters): boolean {
  return a.memoryKiB === b.memoryKiB && a.iterations === b.iterations && a.parallelism === b.parallelism;
}

function argon2(settings: AuthenticationSettings): Argon2Parameters {
  return {
    memoryKiB: settings.argon2MemoryKiB,
    iterations: settings.argon2Iterations,
    parallelism: settings.argon2Parallelism,
  };
}
