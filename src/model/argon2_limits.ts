/**
 * Bounds on Argon2id parameters, the one source for every place that checks them: the
 * `Authentication` settings' schema (so a value it accepts is one the hasher can use) and the
 * password hasher (for its own parameters and for the parameters of every stored or imported hash).
 */
export const ARGON2_LIMITS = Object.freeze({
  /**
   * Memory of one hash, in KiB. The least a new setting may take is 1 MiB (weaker parameters are
   * refused as policy; Argon2 itself goes down to 8 KiB per lane, which a stored hash may use); the
   * most is 1 GiB, per hash and per hash worker (each worker runs one hash at a time).
   */
  memoryKiB: Object.freeze({ min: 1024, max: 1024 * 1024 }),
  /** Passes over the memory: past 64, one login costs seconds even with little memory. */
  iterations: Object.freeze({ min: 1, max: 64 }),
  /** Lanes: the hash workers compute them one after the other, so more only costs time. */
  parallelism: Object.freeze({ min: 1, max: 16 }),
});
