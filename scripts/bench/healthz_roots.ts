/**
 * /healthz under the full-text load, across builds: one server per checkout (`--roots`, comma-separated
 * directories, e.g. a worktree of main and this one; 1 process, read workers auto unless said) on the
 * same cached corpus (text_corpus.ts), rounds interleaved with the order rotating. Each round loads one server with
 * the full-text mix of text_search.ts (Email/query + Email/get of 50, 4 connections of the bench user,
 * 4 requests pipelined each, as scripts/bench/cores.ts) for 5 s and probes /healthz every 2 ms on its
 * own connection (login_probe.ts) in the middle 3.5 s. Per build: medians of the load's req/s, the
 * probe's p50 and p99, and the main thread's CPU per request (cpu.ts), which a loaded machine inflates
 * less than it does latencies.
 *
 * `--read-workers 2,1,0` sets each server's read workers (in the order of `--roots`; a root may repeat).
 *
 *   deno run -A scripts/bench/healthz_roots.ts --roots /work/old,/work/new [--rounds 4] [--count 10000]
 */
import { parseArgs } from "node:util";
import { ADMIN_PASSWORD, DOMAIN, mailAccount, newestPage, PASSWORD, USER } from "./email_store.ts";
import { mainThreadCpuSeconds } from "./cpu.ts";
import type { LoadResult } from "./load.ts";
import type { ProbeResult } from "./login_probe.ts";
import { ProcessGroup, type Server } from "./processes.ts";
import { median, quantile } from "./report.ts";
import { basic } from "./setup_data.ts";
import { mixFilter } from "./text_search.ts";
import { textCorpus } from "./text_corpus.ts";
const { values } = parseArgs({
  args: Deno.args,
  options: {
    roots: { type: "string" },
    rounds: { type: "string", default: "4" },
    count: { type: "string", default: "10000" },
    "read-workers": { type: "string" },
  },
});
if (!values.roots) throw new Error("healthz_roots.ts needs --roots DIR,DIR");
const roots = values.roots.split(",");
const rounds = Number(values.rounds);
// By root, in the same order: --read-workers 2,1,0 (default auto for each).
const readWorkers = values["read-workers"]?.split(",") ?? roots.map(() => "auto");
const group = new ProcessGroup();
const tmp = await Deno.makeTempDir();
try {
  const dataDir = await textCorpus(Number(values.count), {});
  const servers: Server[] = [];
  for (const [i, root] of roots.entries()) {
    servers.push(
      await group.startPostern(`s${i}`, {
        dataDir,
        logLevel: "warning",
        logPath: `${tmp}/log${i}`,
        env: { POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD, POSTERN_READ_WORKERS: readWorkers[i] ?? "auto" },
        processes: 1,
        root,
      }),
    );
  }
  const authorization = basic(`${USER}@${DOMAIN}`, PASSWORD);
  const { accountId, role } = await mailAccount(servers[0].url, authorization);
  const body = (filter: Record<string, unknown>) => JSON.stringify(newestPage(accountId, filter));
  await Deno.writeTextFile(
    `${tmp}/list`,
    Array.from({ length: 7000 }, (_, i) => body(mixFilter(i, role("inbox"), role("archive")))).join("\n") +
      "\n",
  );
  const stats = roots.map(() => ({
    p99: [] as number[],
    p50: [] as number[],
    us: [] as number[],
    rps: [] as number[],
  }));
  for (let r = 0; r < rounds; r++) {
    const order = servers.map((_, i) => (i + r) % servers.length);
    for (const i of order) {
      const s = servers[i];
      const before = mainThreadCpuSeconds(s.pid)!;
      const load = group.runJson<LoadResult>("scripts/bench/load.ts", [
        "--url",
        `${s.url}/jmap`,
        "--header",
        `authorization: ${authorization}`,
        "--header",
        "content-type: application/json",
        "--method",
        "POST",
        "--body-list",
        `${tmp}/list`,
        "--body-start",
        String(r * 1500),
        "--connections",
        "4",
        "--warmup-ms",
        "500",
        "--duration-ms",
        "5000",
        "--pipeline",
        "4",
      ]);
      await new Promise((res) => setTimeout(res, 1000));
      const probe = await group.runJson<ProbeResult>("scripts/bench/login_probe.ts", [
        "--url",
        s.url,
        "--window-ms",
        "3500",
      ]);
      const result = await load;
      const after = mainThreadCpuSeconds(s.pid)!;
      const us = (after - before) / (result.requests * 1.1) * 1e6;
      stats[i].p99.push(quantile(probe.samples, 0.99));
      stats[i].p50.push(quantile(probe.samples, 0.5));
      stats[i].us.push(us);
      stats[i].rps.push(result.rps);
      console.log(
        `round ${r + 1} ${roots[i]} (read workers ${readWorkers[i] ?? "auto"}): rps ${
          result.rps.toFixed(0)
        } healthz p50 ${quantile(probe.samples, 0.5).toFixed(2)} p99 ${
          quantile(probe.samples, 0.99).toFixed(2)
        } ms main ${us.toFixed(0)} µs/req failures ${result.failures}`,
      );
    }
  }
  for (const [i, root] of roots.entries()) {
    console.log(
      `${root} (read workers ${readWorkers[i] ?? "auto"}): median rps ${
        median(stats[i].rps).toFixed(0)
      } healthz p50 ${median(stats[i].p50).toFixed(2)} p99 ${
        median(stats[i].p99).toFixed(2)
      } ms, main thread ${median(stats[i].us).toFixed(0)} µs/request`,
    );
  }
  console.log(`load average ${Deno.loadavg().map((n) => n.toFixed(1)).join(" ")}`);
} finally {
  await group.stopAll();
  await Deno.remove(tmp, { recursive: true }).catch(() => undefined);
}
