import assert from "node:assert/strict";
import { ConfigError } from "./errors.ts";
import { MAX_AUTO_READ_WORKERS, MAX_READ_WORKERS, resolveReadWorkers } from "./read_workers_config.ts";

Deno.test("read workers: auto is one per core up to the cap; a number is taken as it is, 0 included", () => {
  assert.equal(resolveReadWorkers("auto", 2), 2);
  assert.equal(resolveReadWorkers(" AUTO ", 1), 1);
  assert.equal(resolveReadWorkers("auto", 64), MAX_AUTO_READ_WORKERS);
  assert.equal(resolveReadWorkers("0", 2), 0);
  assert.equal(resolveReadWorkers(String(MAX_READ_WORKERS), 2), MAX_READ_WORKERS);
});

Deno.test("read workers: a negative, fractional, too large or non-numeric count is a ConfigError naming the flag", () => {
  for (const bad of ["-1", "1.5", String(MAX_READ_WORKERS + 1), "many", ""]) {
    assert.throws(
      () => resolveReadWorkers(bad, 2),
      (error: Error) => error instanceof ConfigError && /--read-workers/.test(error.message),
      bad,
    );
  }
});
