/** Throughput rounds: the load generator against each subject, interleaved, the order rotating. */
import type { LoadResult } from "./load.ts";
import type { ProcessGroup, Server } from "./processes.ts";
import { median, micros, ms, printTable, rps } from "./report.ts";
import { runWrk } from "./wrk_load.ts";

/** How long and how hard the rounds run (from the command line). */
export interface Settings {
  rounds: number;
  durationMs: number;
  warmupMs: number;
  connections: number;
  loginRounds: number;
  /** Query + get requests (and as many Core/echo) of the JMAP query figure. */
  queryRequests: number;
  client: "raw" | "fetch";
  /** Requests each connection writes at once (scripts/bench/load.ts `--pipeline`); 1 when absent. */
  pipeline?: number;
  /**
   * Who generates the load: scripts/bench/load.ts (a Deno process; the default) or wrk with a Lua script
   * (scripts/bench/wrk_load.ts; needs `tmp` for its script).
   */
  generator?: { kind: "wrk"; tmp: string };
  /** --quick: fewer rounds, and smaller mail fixtures. */
  quick?: boolean;
}

/** A server under load and what each round measured on it. */
export interface Subject {
  key: string;
  label: string;
  server: Server;
  results: LoadResult[];
  /** Runs before each load on this subject (e.g. switching a variant on a shared server). */
  prepare?: () => Promise<void>;
  /**
   * This subject's own request, when the subjects of one table differ in path, body or credentials
   * (refresh_token on Postern and on node-oidc-provider; Bearer against Basic).
   */
  request?: Omit<LoadRequest, "title">;
}

/** A subject that always sends its own request. */
export type RequestSubject = Subject & { request: Omit<LoadRequest, "title"> };

/** The request every connection of the load generator sends, over and over. */
export interface LoadRequest {
  /** Heading of the printed table, e.g. "GET /api/account throughput". */
  title: string;
  path: string;
  /** GET when absent. */
  method?: string;
  /** A file whose bytes are every request's body (sent with its Content-Length). */
  bodyFile?: string;
  /**
   * A file of bodies, one a line, sent one per request (scripts/bench/load.ts `--body-list`). Each
   * load on a subject goes on from where its previous load stopped, so no body is sent twice unless the
   * list runs out (then a warning says the figure includes repeats).
   */
  bodyListFile?: string;
  headers: Record<string, string>;
  /**
   * Headers that differ by connection ("name: value", connection i sends entry i modulo their number;
   * load.ts `--connection-header`): e.g. the credentials of several users, each within its own
   * per-account limits.
   */
  connectionHeaders?: string[];
}

/**
 * Warms every subject up, then runs the interleaved rounds, the order rotated each round. Each
 * subject sends its own `request` if it has one, else the table's.
 */
export async function throughputRounds(
  settings: Settings,
  group: ProcessGroup,
  subjects: Subject[],
  table: Pick<LoadRequest, "title"> & Partial<LoadRequest>,
): Promise<void> {
  const cursors = new Map<Subject, number>();
  const load = async (subject: Subject, durationMs: number) => {
    await subject.prepare?.();
    const result = await run(subject, durationMs);
    if (result.bodiesSent !== undefined) {
      cursors.set(subject, (cursors.get(subject) ?? 0) + result.bodiesSent);
      if (result.bodiesWrapped) {
        console.log(`WARNING: ${subject.key}: the body list ran out; bodies were sent again`);
      }
    }
    return result;
  };
  const requestOf = (subject: Subject): Omit<LoadRequest, "title"> => {
    const request = subject.request ?? table;
    if (request.path === undefined || request.headers === undefined) {
      throw new Error(`${subject.key}: no request to send (give the table or the subject one)`);
    }
    return request as Omit<LoadRequest, "title">;
  };
  const run = (subject: Subject, durationMs: number, request = requestOf(subject)) =>
    settings.generator?.kind === "wrk"
      ? runWrk(group, {
        url: `${subject.server.url}${request.path}`,
        method: request.method ?? "GET",
        headers: request.headers,
        connectionHeaders: request.connectionHeaders,
        bodyFile: request.bodyFile,
        bodyListFile: request.bodyListFile,
        bodyStart: cursors.get(subject) ?? 0,
        connections: settings.connections,
        durationMs,
        pipeline: settings.pipeline ?? 1,
        serverPid: subject.server.pid,
      }, settings.generator.tmp)
      : group.runJson<LoadResult>("scripts/bench/load.ts", [
        "--url",
        `${subject.server.url}${request.path}`,
        ...Object.entries(request.headers).flatMap(([name, value]) => ["--header", `${name}: ${value}`]),
        ...(request.connectionHeaders ?? []).flatMap((header) => ["--connection-header", header]),
        ...(request.method ? ["--method", request.method] : []),
        ...(request.bodyFile ? ["--body-file", request.bodyFile] : []),
        ...(request.bodyListFile
          ? ["--body-list", request.bodyListFile, "--body-start", String(cursors.get(subject) ?? 0)]
          : []),
        "--connections",
        String(settings.connections),
        "--warmup-ms",
        String(settings.warmupMs),
        "--duration-ms",
        String(durationMs),
        "--client",
        settings.client,
        ...(settings.pipeline ? ["--pipeline", String(settings.pipeline)] : []),
        "--server-pid",
        String(subject.server.pid),
      ]);
  const generator = settings.generator?.kind === "wrk" ? "wrk" : "load.ts";
  console.log(`\n${table.title} (req/s; server and generator (${generator}) CPU in cores)`);
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
      line.push(
        `${subject.key} ${Math.round(result.rps)} (${result.serverCores?.toFixed(2) ?? "?"}/${
          result.generatorCores?.toFixed(2) ?? "?"
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
  for (const s of subjects) {
    const server = median(s.results.map((r) => r.serverCores ?? NaN));
    const generator = median(s.results.map((r) => r.generatorCores ?? NaN));
    if (server < 0.85) {
      const cores = `${server.toFixed(2)} cores (generator ${generator.toFixed(2)})`;
      console.log(
        `NOTE: ${s.key}: the server used only ${cores}: the load generator or other work on the machine, ` +
          "not the server, set the pace, so req/s ratios against it flatter the other side; " +
          "CPU-per-request ratios do not depend on who set the pace.",
      );
    }
  }
}

/** Median server CPU time per request (µs) over the rounds: robust to noise and to the generator. */
export function cpuPerRequest(subject: Subject): number {
  return median(subject.results.map((r) => (r.serverCores ?? NaN) * 1e6 / r.rps));
}
