/** /healthz probed while a load runs (scripts/bench/cores.ts), and the main thread's CPU per request. */
import { mainThreadCpuSeconds } from "./cpu.ts";
import type { LoadResult } from "./load.ts";
import type { ProbeResult } from "./login_probe.ts";
import type { ProcessGroup, Server } from "./processes.ts";
import type { LoadRequest, Settings } from "./throughput.ts";
import { runWrk } from "./wrk_load.ts";

/** Requests each connection of the load writes at once (see scripts/bench/cores.ts). */
export const PIPELINE = 4;

/**
 * /healthz latencies (ms) probed every 2 ms while the full-text load runs on `server`, and the CPU its
 * main thread spent per request of the load (µs; with one process only, whose main thread answers all).
 */
export async function healthzUnderLoad(
  group: ProcessGroup,
  server: Server,
  text: LoadRequest,
  settings: Settings,
): Promise<{ samples: number[]; mainUs?: number }> {
  const before = mainThreadCpuSeconds(server.pid);
  const wrk = settings.generator?.kind === "wrk" ? settings.generator : undefined;
  const load = wrk
    ? runWrk(group, {
      url: `${server.url}${text.path}`,
      method: "POST",
      headers: text.headers,
      connectionHeaders: text.connectionHeaders,
      bodyListFile: text.bodyListFile,
      connections: settings.connections,
      durationMs: settings.durationMs,
      pipeline: PIPELINE,
    }, wrk.tmp)
    : group.runJson<LoadResult>("scripts/bench/load.ts", [
      "--url",
      `${server.url}${text.path}`,
      ...Object.entries(text.headers).flatMap(([name, value]) => ["--header", `${name}: ${value}`]),
      ...(text.connectionHeaders ?? []).flatMap((header) => ["--connection-header", header]),
      "--method",
      "POST",
      "--body-list",
      text.bodyListFile!,
      "--connections",
      String(settings.connections),
      "--warmup-ms",
      "500",
      "--duration-ms",
      String(settings.durationMs),
      "--pipeline",
      String(PIPELINE),
    ]);
  // The probe's window sits inside the load's measured one.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const probe = await group.runJson<ProbeResult>("scripts/bench/login_probe.ts", [
    "--url",
    server.url,
    "--window-ms",
    String(Math.max(1000, settings.durationMs - 1500)),
  ]);
  const result = await load;
  const after = mainThreadCpuSeconds(server.pid);
  // The whole run (warm-up included) over every request it sent: a per-request cost, not a rate.
  if (result.failures) console.log(`WARNING: ${result.failures} failures, first: ${result.firstFailure}`);
  const sent = result.requests * (wrk ? 1 : 1 + 500 / settings.durationMs);
  const mainUs = before === undefined || after === undefined ? undefined : ((after - before) / sent) * 1e6;
  return { samples: probe.samples, mainUs };
}
