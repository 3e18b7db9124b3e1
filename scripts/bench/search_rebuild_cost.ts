/**
 * What rebuilding the full-text index costs (migration 049, src/mail/search_rebuild.ts): opens a data
 * directory as the server would (migrating it), then runs the rebuild's batches to the end in-process
 * and prints CPU time and wall time per message. Used on a copy of a bench corpus made before 049.
 *
 *   deno run -A scripts/bench/search_rebuild_cost.ts --data DIR [--batch 100]
 */
import { parseArgs } from "node:util";
import { cpuUsage } from "node:process";
import { withServices } from "./email_store.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { data: { type: "string" }, batch: { type: "string", default: "100" } },
});
if (!values.data) throw new Error("--data DIR is required");
const opened = performance.now();
await withServices(values.data, async (services) => {
  console.log(
    `opened (migrations) in ${((performance.now() - opened) / 1000).toFixed(1)} s`,
  );
  const started = performance.now();
  const cpu0 = cpuUsage();
  let batches = 0;
  while (await services.searchRebuild.pending()) {
    await services.searchRebuild.runBatch(Date.now(), Number(values.batch));
    if (++batches % 100 === 0) console.log(`  ${batches} batches`);
  }
  const cpu = cpuUsage(cpu0);
  const emails = batches * Number(values.batch);
  console.log(
    `rebuilt in ${batches} batches, ${((performance.now() - started) / 1000).toFixed(1)} s wall, ${
      ((cpu.user + cpu.system) / 1e6).toFixed(1)
    } s CPU (~${((cpu.user + cpu.system) / emails).toFixed(0)} µs CPU per email); load ${
      Deno.loadavg().map((l) => l.toFixed(1)).join(" ")
    }`,
  );
});
