import assert from "node:assert/strict";
import { ConfigError, resolveConfig } from "./config.ts";
import { MAX_AUTO_PROCESSES, resolveProcesses, shareOf } from "./processes_config.ts";

const LINUX = { cores: 2, reusePort: true };
const ELSEWHERE = { cores: 4, reusePort: false, reason: "the kernel of darwin does not spread connections" };

Deno.test("auto is one process per core, at most eight, and one where listeners cannot share an address", () => {
  assert.equal(resolveProcesses("auto", LINUX), 2);
  assert.equal(resolveProcesses("AUTO", { cores: 64, reusePort: true }), MAX_AUTO_PROCESSES);
  assert.equal(resolveProcesses("auto", ELSEWHERE), 1);
  assert.equal(resolveProcesses("3", LINUX), 3);
  assert.equal(resolveProcesses("1", ELSEWHERE), 1);
});

Deno.test("a number of processes that is not a whole number from 1 to 64 is refused, quoting it", () => {
  for (const bad of ["0", "-1", "abc", "1.5", "65", "", " "]) {
    assert.throws(() => resolveProcesses(bad, LINUX), (error: Error) => {
      assert.ok(error instanceof ConfigError, bad);
      assert.match(
        error.message,
        /^Invalid number of processes \(--processes\) ".*": a whole number from 1 to 64$/,
      );
      return true;
    });
  }
  // The flag and the variable alike (an empty variable means unset: auto).
  assert.throws(() => resolveConfig({ processes: "0" }, {}), ConfigError);
  assert.throws(() => resolveConfig({}, { POSTERN_PROCESSES: "abc" }), ConfigError);
});

Deno.test("more than one process where listeners cannot share an address is refused with the reason", () => {
  assert.throws(
    () => resolveProcesses("2", ELSEWHERE),
    /Cannot run 2 processes \(--processes\): the kernel of darwin does not spread connections$/,
  );
});

Deno.test("each process enforces its share of a per-address cap with slack, at most the cap, never less than one", () => {
  assert.equal(shareOf(64, 1), 64);
  assert.equal(shareOf(64, 2), 48);
  assert.equal(shareOf(20, 3), 10);
  assert.equal(shareOf(2, 2), 2);
  assert.equal(shareOf(1, 8), 1);
});
