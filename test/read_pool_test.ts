import assert from "node:assert/strict";
import { UnavailableError } from "../src/model/errors.ts";
import { ReadPool } from "../src/store/read_pool.ts";
import type { ReadOperation } from "../src/store/read_worker.ts";

const FAKE = new URL("./read_pool_fake_worker.ts", import.meta.url);

/** A pool of the fake worker; `body` gets it and a runner that takes the fake's instructions. */
async function withFakePool(
  options: { size: number; timeoutMs?: number; startTimeoutMs?: number },
  body: (
    pool: ReadPool,
    run: (op: string, args: unknown, account?: number) => Promise<unknown>,
  ) => Promise<void>,
  path = "/nonexistent.db",
): Promise<void> {
  const pool = new ReadPool(path, { ...options, module: FAKE });
  try {
    await body(pool, (op, args, account = 1) => pool.run(op as ReadOperation, args, account));
  } finally {
    pool.close();
  }
}

Deno.test("a read worker that crashes is replaced and its job fails with UnavailableError", () =>
  withFakePool({ size: 1 }, async (pool, run) => {
    await assert.rejects(run("crash", null), UnavailableError);
    assert.equal(pool.stats.replaced, 1);
    assert.deepEqual(await run("echo", [1, 2]), [1, 2]);
  }));

Deno.test("a read worker that hangs past the timeout is replaced; the jobs behind it still run", () =>
  withFakePool({ size: 1, timeoutMs: 200 }, async (pool, run) => {
    const hung = run("hang", null);
    const behind = run("echo", "after");
    await assert.rejects(
      hung,
      (error: Error) => error instanceof UnavailableError && /200 ms/.test(error.message),
    );
    assert.equal(await behind, "after");
    assert.equal(pool.stats.replaced, 1);
  }));

Deno.test("a read worker that exits without answering is replaced once its job times out", () =>
  withFakePool({ size: 2, timeoutMs: 200 }, async (pool, run) => {
    await assert.rejects(run("exit", null), UnavailableError);
    assert.deepEqual(await Promise.all([run("echo", 1), run("echo", 2)]), [1, 2]);
    assert.equal(pool.stats.replaced, 1);
  }));

Deno.test("a failed read is an error naming the operation; a busy database is UnavailableError", () =>
  withFakePool({ size: 1 }, async (pool, run) => {
    await assert.rejects(
      run("fail", null),
      (error: Error) =>
        !(error instanceof UnavailableError) &&
        /fail failed in a read worker: no such table/.test(error.message),
    );
    await assert.rejects(run("busy", null), UnavailableError);
    // An answered error is not a failed worker.
    assert.equal(pool.stats.replaced, 0);
  }));

Deno.test("read jobs are taken round-robin across accounts: one account's backlog does not delay another's", () =>
  withFakePool({ size: 1 }, async (_pool, run) => {
    await run("echo", "started"); // the worker is ready: the first job below runs at once
    const finished: string[] = [];
    const job = (account: number, n: number) =>
      run("slow", `${account}.${n}`, account).then((v) => finished.push(String(v)));
    const all = [1, 2, 3, 4].map((n) => job(1, n));
    all.push(job(2, 1));
    await Promise.all(all);
    // 1.1 was running at once; then one turn each: account 1 (queued first), account 2, then 1's backlog.
    assert.deepEqual(finished, ["1.1", "1.2", "2.1", "1.3", "1.4"]);
  }));

Deno.test("a closed pool refuses new jobs and fails waiting ones with UnavailableError", async () => {
  const pool = new ReadPool("/nonexistent.db", { size: 1, module: FAKE });
  const running = pool.run("hang" as ReadOperation, null, 1);
  const waiting = pool.run("echo" as ReadOperation, null, 1);
  pool.close();
  await assert.rejects(running, UnavailableError);
  await assert.rejects(waiting, UnavailableError);
  await assert.rejects(pool.run("echo" as ReadOperation, null, 1), UnavailableError);
});

Deno.test("a worker that never says it is ready is replaced, and the jobs waiting for it fail instead of hanging", () =>
  withFakePool({ size: 1, startTimeoutMs: 300 }, async (pool, run) => {
    // The fake stays silent on a start message whose path says so.
    await assert.rejects(
      run("echo", 1),
      (error: Error) => error instanceof UnavailableError && /start/.test(error.message),
    );
    assert.ok(pool.stats.replaced >= 1);
  }, "/silent.db"));
