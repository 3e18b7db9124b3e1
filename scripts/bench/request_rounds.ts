/**
 * Throughput rounds where each subject sends its own request: another path, body or credentials on
 * each side (the refresh_token grant on Postern and on node-oidc-provider; the same JMAP request with
 * a Bearer token and with Basic auth). Same method as `throughputRounds` (throughput.ts): a 1 s
 * warm-up of each subject, then interleaved rounds whose order rotates, and the same table; results
 * land in `subject.results`, so figures.ts reads these subjects like the others.
 */
import type { LoadResult } from "./load.ts";
import type { ProcessGroup } from "./processes.ts";
import { median, micros, ms, printTable, rps } from "./report.ts";
import { cpuPerRequest, type LoadRequest, type Settings, type Subject } from "./throughput.ts";

/** A subject and the request the load generator sends it. */
export interface RequestSubject extends Subject {
  request: Omit<LoadRequest, "title">;
}

/** Warms every subject up with its request, then runs the interleaved rounds. */
export async function requestRounds(
  settings: Settings,
  group: ProcessGroup,
  subjects: RequestSubject[],
  title: string,
): Promise<void> {
  const load = async (subject: RequestSubject, durationMs: number) => {
    await subject.prepare?.();
    const { request } = subject;
    return await group.runJson<LoadResult>("scripts/bench/load.ts", [
      "--url",
      `${subject.server.url}${request.path}`,
      ...Object.entries(request.headers).flatMap(([name, value]) => ["--header", `${name}: ${value}`]),
      ...(request.method ? ["--method", request.method] : []),
      ...(request.bodyFile ? ["--body-file", request.bodyFile] : []),
      "--connections",
      String(settings.connections),
      "--warmup-ms",
      String(settings.warmupMs),
      "--duration-ms",
      String(durationMs),
      "--client",
      settings.client,
      "--server-pid",
      String(subject.server.pid),
    ]);
  };
  console.log(`\n${title} (req/s; server and generator CPU in cores)`);
  for (const subject of subjects) {
    const warmup = await load(subject, 1000);
    if (warmup.failures) {
      console.log(`WARNING: ${subject.key}: ${warmup.failures} failures, first: ${warmup.firstFailure}`);
    }
  }
  for (let round = 0; round < settings.rounds; round++) {
    const order = subjects.map((_, i) => subjects[(i + round) % subjects.length]);
    const line: string[] = [];
    for (const subject of order) {
      const result = await load(subject, settings.durationMs);
      if (result.failures) {
        console.log(`WARNING: ${subject.key}: ${result.failures} failures, first: ${result.firstFailure}`);
      }
      subject.results.push(result);
      const cores = (n?: number) => n?.toFixed(2) ?? "?";
      line.push(
        `${subject.key} ${Math.round(result.rps)} (${cores(result.serverCores)}/${
          cores(result.generatorCores)
        })`,
      );
    }
    console.log(`round ${round + 1}: ${line.join("  ")}`);
  }
  console.log("");
  printTable(
    ["subject", "median", "server CPU/request", "server cores", "generator cores", "latency p50", "p99"],
    subjects.map((s) => [
      s.label,
      rps(median(s.results.map((r) => r.rps))),
      micros(cpuPerRequest(s)),
      median(s.results.map((r) => r.serverCores ?? NaN)).toFixed(2),
      median(s.results.map((r) => r.generatorCores ?? NaN)).toFixed(2),
      ms(median(s.results.map((r) => r.p50Ms))),
      ms(median(s.results.map((r) => r.p99Ms))),
    ]),
  );
}
