import assert from "node:assert/strict";
import { openStore } from "./mod.ts";
import { READ_WORKER_NICE } from "./read_worker.ts";

/** The nice value of each thread of this process, by thread id (Linux: /proc/self/task/N/stat). */
function threadNices(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of Deno.readDirSync("/proc/self/task")) {
    let stat: string;
    try {
      stat = Deno.readTextFileSync(`/proc/self/task/${entry.name}/stat`);
    } catch (error) {
      // A thread that ended between the listing and the read (another thread pool's, under load).
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    // The fields after the command name, which is in parentheses and may hold spaces: nice is field 19.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    out.set(Number(entry.name), Number(fields[16]));
  }
  return out;
}

Deno.test({
  name:
    "read workers' threads give way to the main thread: each runs at a higher nice value, the main thread at its own",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const dir = await Deno.makeTempDir();
    const before = threadNices();
    const store = openStore(`${dir}/postern.db`, { readWorkers: 2 });
    const lowered = () =>
      [...threadNices()].filter(([tid, nice]) => !before.has(tid) && nice === READ_WORKER_NICE);
    try {
      // Each worker lowers its own priority as it starts (a hang guard, not a timing assertion).
      const deadline = Date.now() + 60_000;
      while (lowered().length < 2) {
        if (Date.now() > deadline) {
          throw new Error(`Two threads at nice ${READ_WORKER_NICE}: ${lowered().length}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(lowered().length, 2);
      assert.equal(threadNices().get(Deno.pid), 0, "the main thread keeps its priority");
    } finally {
      store.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
