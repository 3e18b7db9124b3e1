import assert from "node:assert/strict";
import { ConfigError } from "./errors.ts";
import { MAX_AUTO_READ_WORKERS, MAX_READ_WORKERS, resolveReadWorkers } from "./read_workers_config.ts";

Deno.test("read workers: auto is one per core beside the main thread's, up to the cap; a number is taken as it is, 0 included", () => {
  assert.equal(resolveReadWorkers("auto", { cores: 2 }), 1);
  assert.equal(resolveReadWorkers("auto", { cores: 4 }), 3);
  assert.equal(resolveReadWorkers(" AUTO ", { cores: 1 }), 0);
  assert.equal(resolveReadWorkers("auto", { cores: 64 }), MAX_AUTO_READ_WORKERS);
  assert.equal(resolveReadWorkers("0", { cores: 2 }), 0);
  assert.equal(resolveReadWorkers(String(MAX_READ_WORKERS), { cores: 2 }), MAX_READ_WORKERS);
});

Deno.test("read workers: with several processes auto is each one's share of the cores their main threads leave", () => {
  assert.equal(resolveReadWorkers("auto", { cores: 2, processes: 2 }), 0);
  assert.equal(resolveReadWorkers("auto", { cores: 8, processes: 2 }), 3);
  assert.equal(resolveReadWorkers("auto", { cores: 6, processes: 4 }), 0);
  assert.equal(resolveReadWorkers("auto", { cores: 12, processes: 4 }), 2);
  assert.equal(resolveReadWorkers("auto", { cores: 2, processes: 4 }), 0);
  assert.equal(resolveReadWorkers("auto", { cores: 64, processes: 2 }), MAX_AUTO_READ_WORKERS);
  // A number is per process whatever the processes.
  assert.equal(resolveReadWorkers("2", { cores: 2, processes: 2 }), 2);
});

Deno.test("read workers: a negative, fractional, too large or non-numeric count is a ConfigError naming the flag", () => {
  for (const bad of ["-1", "1.5", String(MAX_READ_WORKERS + 1), "many", ""]) {
    assert.throws(
      () => resolveReadWorkers(bad, { cores: 2 }),
      (error: Error) => error instanceof ConfigError && /--read-workers/.test(error.message),
      bad,
    );
  }
});
