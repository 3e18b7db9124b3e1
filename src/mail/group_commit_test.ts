import assert from "node:assert/strict";
import { GroupCommit } from "./group_commit.ts";

Deno.test("jobs submitted together share one run, and each gets its own outcome", async () => {
  const runs: number[][] = [];
  const commits = new GroupCommit<number, string>((jobs) => {
    runs.push(jobs);
    return Promise.resolve(jobs.map((job) => job === 3 ? new Error("refused 3") : `stored ${job}`));
  });
  const outcomes = await Promise.allSettled([1, 2, 3, 4].map((job) => commits.submit(job)));
  assert.deepEqual(runs, [[1, 2, 3, 4]]);
  assert.deepEqual(outcomes.map((o) => o.status === "fulfilled" ? o.value : (o.reason as Error).message), [
    "stored 1",
    "stored 2",
    "refused 3",
    "stored 4",
  ]);
});

Deno.test("a batch whose run throws is written again job by job: only the job that fails alone is rejected", async () => {
  const runs: number[][] = [];
  const commits = new GroupCommit<number, number>((jobs) => {
    runs.push(jobs);
    // Job 2 cannot be written: any transaction holding it rolls back.
    if (jobs.includes(2)) return Promise.reject(new Error(`rolled back ${jobs}`));
    return Promise.resolve(jobs.map((job) => job * 10));
  });
  const outcomes = await Promise.allSettled([1, 2, 3].map((job) => commits.submit(job)));
  assert.deepEqual(outcomes.map((o) => o.status === "fulfilled" ? o.value : (o.reason as Error).message), [
    10,
    "rolled back 2",
    30,
  ]);
  assert.deepEqual(runs, [[1, 2, 3], [1], [2], [3]]);
  assert.equal(await commits.submit(4), 40);
});

Deno.test("a lone job whose run throws is rejected with that error, and the next batch still runs", async () => {
  let calls = 0;
  const commits = new GroupCommit<number, number>((jobs) => {
    calls++;
    if (calls === 1) return Promise.reject(new Error("rolled back"));
    return Promise.resolve(jobs);
  });
  await assert.rejects(commits.submit(1), /rolled back/);
  assert.equal(await commits.submit(3), 3);
  assert.equal(calls, 2);
});

Deno.test("jobs submitted while a batch is being written go into the next batch, at most maxBatch", async () => {
  const runs: number[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const commits = new GroupCommit<number, number>(async (jobs) => {
    runs.push(jobs);
    if (runs.length === 1) await gate;
    return jobs;
  }, { maxBatch: 2 });
  const first = commits.submit(1);
  await new Promise((resolve) => setTimeout(resolve, 10));
  const later = [2, 3, 4].map((job) => commits.submit(job));
  release();
  assert.deepEqual(await Promise.all([first, ...later]), [1, 2, 3, 4]);
  assert.deepEqual(runs, [[1], [2, 3], [4]]);
});

Deno.test("a batch waits for a job announced as coming, and shares its run with it", async () => {
  const runs: number[][] = [];
  const commits = new GroupCommit<number, number>((jobs) => {
    runs.push(jobs);
    return Promise.resolve(jobs);
  }, { maxWaitMs: 60_000 });
  const arrived = commits.expect();
  const first = commits.submit(1);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(runs, [], "the batch waits while a job is expected");
  const second = commits.submit(2);
  arrived();
  arrived(); // a second call changes nothing
  assert.deepEqual(await Promise.all([first, second]), [1, 2]);
  assert.deepEqual(runs, [[1, 2]]);
});

Deno.test("a batch goes without an announced job that is given up, or that takes longer than maxWaitMs", async () => {
  const runs: number[][] = [];
  const commits = new GroupCommit<number, number>((jobs) => {
    runs.push(jobs);
    return Promise.resolve(jobs);
  }, { maxWaitMs: 30 });
  const givenUp = commits.expect();
  const first = commits.submit(1);
  givenUp();
  assert.equal(await first, 1);
  const late = commits.expect();
  const started = performance.now();
  assert.equal(await commits.submit(2), 2);
  assert.ok(performance.now() - started >= 25, "it waited for the late job");
  late();
  assert.deepEqual(runs, [[1], [2]]);
  // Nothing expected: a job goes at once.
  assert.equal(await commits.submit(3), 3);
  assert.deepEqual(runs, [[1], [2], [3]]);
});

Deno.test("a batch that reaches maxBatch goes without waiting for the jobs expected", async () => {
  const runs: number[][] = [];
  const commits = new GroupCommit<number, number>((jobs) => {
    runs.push(jobs);
    return Promise.resolve(jobs);
  }, { maxBatch: 2, maxWaitMs: 60_000 });
  const arrived = commits.expect();
  assert.deepEqual(await Promise.all([commits.submit(1), commits.submit(2)]), [1, 2]);
  assert.deepEqual(runs, [[1, 2]]);
  arrived();
});
