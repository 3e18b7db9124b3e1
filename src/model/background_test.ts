import assert from "node:assert/strict";
import { backgroundTask, type TaskLog } from "./background.ts";
import { UnavailableError } from "./errors.ts";

function recordingLog() {
  const lines: string[] = [];
  const text = (properties: Record<string, unknown>) =>
    JSON.stringify(properties, (_, v) => v instanceof Error ? String(v) : v);
  const log: TaskLog = {
    info: (message, properties) => lines.push(`info ${message} ${text(properties)}`),
    warn: (message, properties) => lines.push(`warn ${message} ${text(properties)}`),
  };
  return { lines, log };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

Deno.test("a task the busy database refuses (a synchronous throw) never rejects, logs once, and retries until it succeeds", async () => {
  const { lines, log } = recordingLog();
  let calls = 0;
  const task = backgroundTask("Refreshing the row", () => {
    calls++;
    if (calls <= 3) throw new UnavailableError("The database is busy");
    return Promise.resolve();
  }, { log, firstRetryMs: 1, maxRetryMs: 4 });
  await task.run();
  // A tick while a retry is pending does not start a second run beside it.
  await task.run();
  await until(() => calls === 4, "the fourth try");
  await until(() => lines.length === 2, "the recovery line");
  assert.equal(lines.filter((l) => l.startsWith("warn")).length, 1, lines.join("\n"));
  assert.match(lines[0], /^warn \{task\} waits/);
  assert.match(lines[1], /^info .*"attempts":4/);
  task.stop();
});

Deno.test("a task failing for another reason is logged and left to its next tick, not retried", async () => {
  const { lines, log } = recordingLog();
  let calls = 0;
  const task = backgroundTask("Collecting", () => {
    calls++;
    return Promise.reject(new Error("disk on fire"));
  }, { log, firstRetryMs: 1 });
  await task.run();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(calls, 1);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /disk on fire/);
  await task.run();
  assert.equal(calls, 2);
});

Deno.test("a stopped task cancels its pending retry and runs no more", async () => {
  const { log } = recordingLog();
  let calls = 0;
  const task = backgroundTask("Pruning", () => {
    calls++;
    throw new UnavailableError("busy");
  }, { log, firstRetryMs: 1 });
  await task.run();
  task.stop();
  await new Promise((resolve) => setTimeout(resolve, 20));
  await task.run();
  assert.equal(calls, 1);
});
