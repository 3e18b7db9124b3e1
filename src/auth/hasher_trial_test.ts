import assert from "node:assert/strict";
import { ARGON2_MEMORY_SHARE, Argon2CostError, tryHasher } from "./hasher_trial.ts";

const MIB = 1024 * 1024;

Deno.test("parameters whose workers together would take more than the machine's share of memory are refused before any hash", async () => {
  // A machine of 64 MiB: two workers of 32 MiB each would take all of it.
  const error = await tryHasher(
    { memoryKiB: 32 * 1024, iterations: 1, parallelism: 1 },
    { workers: 2, totalMemoryBytes: 64 * MIB },
  ).then(() => undefined, (e) => e);
  assert.ok(error instanceof Argon2CostError, String(error));
  assert.equal(error.cost, "memory");
  assert.match(error.message, /memoryKiB 32768/);
  assert.match(error.message, new RegExp(`${ARGON2_MEMORY_SHARE * 100}% of its 64 MiB`));
});

Deno.test("parameters within the machine's memory give a working hasher and the measured time of one hash", async () => {
  const { hasher, hashMs } = await tryHasher(
    { memoryKiB: 1024, iterations: 1, parallelism: 1 },
    { workers: 1, totalMemoryBytes: 64 * MIB },
  );
  using _ = hasher;
  assert.ok(Number.isInteger(hashMs) && hashMs >= 0);
  const phc = await hasher.hash("password");
  assert.match(phc, /^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
  assert.equal(await hasher.verify(phc, "password"), true);
});

Deno.test("a trial hash that outlasts the bound refuses the parameters", async () => {
  // 64 MiB over 4 passes cannot be hashed within 1 ms on any machine.
  const error = await tryHasher(
    { memoryKiB: 64 * 1024, iterations: 4, parallelism: 1 },
    { workers: 1, maxHashMs: 1 },
  ).then(() => undefined, (e) => e);
  assert.ok(error instanceof Argon2CostError, String(error));
  assert.equal(error.cost, "time");
  assert.match(error.message, /m=65536,t=4,p=1 takes more than 1 ms/);
});
