/**
 * Full-text search against Cyrus 3.6 with Xapian (the issue: Email/query with a text filter + Email/get
 * of 50 at 10,000 messages ≥ 5× Cyrus). Both servers hold the same corpus (scripts/bench/text_corpus.ts
 * for Postern, scripts/bench/cyrus_corpus.ts for Cyrus's copy), answer the same mix of queries
 * (scripts/bench/text_search.ts's `mixFilter`, the prefix kind spelt `kal*` for Cyrus: see
 * scripts/bench/cyrus_answers.ts, whose check of both servers' totals runs first) with the same
 * request (newest first, limit 50, Email/get of a message list's properties).
 *
 * Both run at once and are measured in turn, `--rounds` times, the order swapped every round; each
 * round per server:
 * - latency: `--requests` requests one at a time on one keep-alive connection (p50, p99, and the
 *   server's CPU per request: every process of it, Cyrus's master and its httpd children, from /proc);
 * - throughput: scripts/bench/load.ts, `--connections` keep-alive connections for `--duration-ms`
 *   sending the mix in turn (requests per second, and the cores the server used meanwhile); 4 by
 *   default, the most one account may keep in flight on Postern (its session's maxConcurrentRequests;
 *   Cyrus's is 5), as the corpus is one account's.
 * A figure is the median over the rounds; the ratio is Cyrus's over Postern's.
 *
 * Cyrus is never installed as a package (scripts/bench/cyrus.ts): when it cannot be set up (no apt-get,
 * no network, not Linux) the section prints why and skips.
 *
 *   deno run -A scripts/bench/text_cyrus.ts [--count 10000] [--rounds 3] [--requests 270]
 *     [--connections 4] [--duration-ms 5000] [--check-only] [--every-word-prefix]
 */
import { parseArgs } from "node:util";
import { processTreeCpuSeconds } from "./cpu.ts";
import { type CyrusInstance, installCyrus, startCyrus } from "./cyrus.ts";
import { compareAnswers, cyrusMixFilter, type JmapTarget, jmapTarget } from "./cyrus_answers.ts";
import { cyrusCorpus } from "./cyrus_corpus.ts";
import { ADMIN_PASSWORD, DOMAIN, LISTED_PROPERTIES, PASSWORD, USER } from "./email_store.ts";
import { httpRequest, RawConnection } from "./http_client.ts";
import type { LoadResult } from "./load.ts";
import { ProcessGroup, type Server } from "./processes.ts";
import { type Figure, median, ms, printSummary, quantile } from "./report.ts";
import { basic } from "./setup_data.ts";
import { textCorpus } from "./text_corpus.ts";
import { KINDS, mixFilter } from "./text_search.ts";

/** What the comparison needs to know of the run. */
export interface TextCyrusSettings {
  count: number;
  rounds: number;
  requests: number;
  connections: number;
  durationMs: number;
  tmp: string;
  cache?: string;
  /** Every word of Cyrus's conditions a prefix, as Postern reads them (scripts/bench/cyrus_answers.ts). */
  everyWord?: boolean;
}

/** One server in the comparison: its JMAP target, the pid whose process tree is its CPU, and its mix. */
interface Subject {
  name: "Postern" | "Cyrus";
  target: JmapTarget;
  pid: number;
  filter: (i: number) => Record<string, unknown>;
}

/** One round of one server. */
interface Round {
  latencies: number[];
  cpuMs: number;
  rps: number;
  loadP50: number;
  loadP99: number;
  cores: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** The bodies of the throughput phase: the mix's requests in turn (nine kinds, several words each). */
const LOAD_BODIES = 700;
const load = () => Deno.loadavg().map((l) => l.toFixed(1)).join(" ");

/** The request of a message list page: the mix's filter, newest 50, and their listed properties. */
function page(accountId: string, filter: Record<string, unknown>): Record<string, unknown> {
  return {
    using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
    methodCalls: [
      ["Email/query", {
        accountId,
        filter,
        sort: [{ property: "receivedAt", isAscending: false }],
        position: 0,
        limit: 50,
      }, "q"],
      ["Email/get", {
        accountId,
        "#ids": { resultOf: "q", name: "Email/query", path: "/ids" },
        properties: LISTED_PROPERTIES,
      }, "g"],
    ],
  };
}

/** The first request of the latency phase and of the check of answers: request 0 of a round is of kind 0. */
const MIX_START = KINDS.length * 10;

/** Latencies (ms) of requests `from`…`from+count-1` of the mix, one at a time on one connection. */
async function sequential(subject: Subject, from: number, count: number): Promise<number[]> {
  const url = new URL(subject.target.apiUrl);
  const connection = await RawConnection.open(url);
  const headers = { authorization: subject.target.auth, "content-type": "application/json" };
  const latencies: number[] = [];
  try {
    for (let i = from; i < from + count; i++) {
      const body = encoder.encode(JSON.stringify(page(subject.target.accountId, subject.filter(i))));
      const request = httpRequest("POST", url, headers, body);
      const started = performance.now();
      const answer = await connection.send(request);
      const elapsed = performance.now() - started;
      const text = decoder.decode(answer.body);
      if (answer.status !== 200 || text.includes('"error"')) {
        throw new Error(`${subject.name} answered ${answer.status}: ${text.slice(0, 300)}`);
      }
      latencies.push(elapsed);
    }
  } finally {
    connection.close();
  }
  return latencies;
}

/** One round of a server: the latency phase, then the throughput phase. */
async function round(group: ProcessGroup, subject: Subject, settings: TextCyrusSettings): Promise<Round> {
  // Warm-up: one request of each kind.
  await sequential(subject, 0, KINDS.length);
  const before = processTreeCpuSeconds(subject.pid) ?? NaN;
  const latencies = await sequential(subject, MIX_START, settings.requests);
  const cpuMs = ((processTreeCpuSeconds(subject.pid) ?? NaN) - before) * 1000 / settings.requests;
  const bodies = `${settings.tmp}/${subject.name}.list`;
  await Deno.writeTextFile(
    bodies,
    Array.from(
      { length: LOAD_BODIES },
      (_, i) => JSON.stringify(page(subject.target.accountId, subject.filter(i))),
    )
      .join("\n") + "\n",
  );
  const result = await group.runJson<LoadResult>("scripts/bench/load.ts", [
    "--url",
    subject.target.apiUrl,
    "--header",
    `authorization: ${subject.target.auth}`,
    "--header",
    "content-type: application/json",
    "--method",
    "POST",
    "--body-list",
    bodies,
    "--connections",
    String(settings.connections),
    "--warmup-ms",
    "500",
    "--duration-ms",
    String(settings.durationMs),
    "--server-pid",
    String(subject.pid),
  ]);
  if (result.failures) {
    throw new Error(`${subject.name} failed ${result.failures} requests: ${result.firstFailure}`);
  }
  return {
    latencies,
    cpuMs,
    rps: result.rps,
    loadP50: result.p50Ms,
    loadP99: result.p99Ms,
    cores: result.serverCores ?? NaN,
  };
}

/** Prints whether both servers count the same matches (and the same messages) for two weeks of the mix. */
async function printAgreement(postern: JmapTarget, cyrus: JmapTarget, everyWord?: boolean): Promise<void> {
  const agreements = await compareAnswers(postern, cyrus, {
    from: MIX_START,
    count: 2 * KINDS.length,
    everyWord,
  });
  console.log("Same answers? (calculateTotal; Message-IDs of every match when ≤ 500)");
  for (const a of agreements) {
    const same = a.sameMessages === undefined
      ? ""
      : a.sameMessages
      ? ", same messages"
      : ", DIFFERENT messages";
    const mark = a.postern === a.cyrus ? "" : "  ← totals differ";
    console.log(`  ${a.query.padEnd(88)} Postern ${a.postern}, Cyrus ${a.cyrus}${same}${mark}`);
  }
}

/** The figures of the comparison; an empty list (and a printed reason) when Cyrus cannot run here. */
export async function textCyrusFigures(
  group: ProcessGroup,
  settings: TextCyrusSettings,
  options: { checkOnly?: boolean } = {},
): Promise<Figure[]> {
  const label = settings.count.toLocaleString("en-US");
  console.log(
    `\nFull-text Email/query + Email/get of 50 on ${label} messages, Postern against Cyrus 3.6 (Xapian):`,
  );
  let cyrus: CyrusInstance;
  let cyrusDir: string;
  try {
    const install = await installCyrus();
    cyrusDir = await cyrusCorpus(install, settings.count);
    cyrus = await startCyrus(install, cyrusDir);
  } catch (error) {
    console.log(`SKIPPED: Cyrus cannot be set up here (${(error as Error).message})`);
    return [];
  }
  try {
    const dataDir = await textCorpus(settings.count, { cache: settings.cache });
    const server: Server = await group.startPostern("postern-text-cyrus", {
      dataDir,
      logLevel: "warning",
      logPath: `${settings.tmp}/postern-text-cyrus.log`,
      env: { POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD },
    });
    const postern: Subject = {
      name: "Postern",
      target: await jmapTarget("Postern", {
        sessionUrl: `${server.url}/jmap/session`,
        apiUrl: `${server.url}/jmap`,
        auth: basic(`${USER}@${DOMAIN}`, PASSWORD),
      }),
      pid: server.pid,
      filter: (i) => mixFilter(i, postern.target.inbox, postern.target.archive),
    };
    const other: Subject = {
      name: "Cyrus",
      target: await jmapTarget("Cyrus", {
        sessionUrl: cyrus.jmapUrl,
        apiUrl: cyrus.jmapUrl,
        auth: basic(USER, PASSWORD),
      }),
      pid: cyrus.pid,
      filter: (i) => cyrusMixFilter(i, other.target.inbox, other.target.archive, settings),
    };
    await printAgreement(postern.target, other.target, settings.everyWord);
    if (options.checkOnly) return [];
    await quiet(server.pid);
    const rounds = { Postern: [] as Round[], Cyrus: [] as Round[] };
    for (let r = 0; r < settings.rounds; r++) {
      for (const subject of r % 2 ? [other, postern] : [postern, other]) {
        const result = await round(group, subject, settings);
        rounds[subject.name].push(result);
        console.log(
          `${subject.name.padEnd(7)} one connection: p50 ${ms(quantile(result.latencies, 0.5))} p99 ${
            ms(quantile(result.latencies, 0.99))
          }, CPU ${result.cpuMs.toFixed(2)} ms/request; ${settings.connections} connections: ${
            result.rps.toFixed(0)
          } req/s, p50 ${ms(result.loadP50)} p99 ${ms(result.loadP99)}, ${
            result.cores.toFixed(2)
          } cores (load ${load()})`,
        );
      }
    }
    printKinds(rounds);
    return figures(rounds, settings);
  } finally {
    await cyrus.stop();
  }
}

/**
 * The one-connection p50 of each kind of the mix, over every round: where each server's time goes
 * (Cyrus's Xapian search returns every match, which it then sorts; a word in nearly every message costs
 * it most).
 */
function printKinds(rounds: { Postern: Round[]; Cyrus: Round[] }): void {
  // Request j of a round is request MIX_START + j of the mix: its kind is j % KINDS.length.
  const byKind = (list: Round[], kind: number) =>
    quantile(list.flatMap((r) => r.latencies.filter((_, j) => j % KINDS.length === kind)), 0.5);
  console.log("p50 by kind (one connection, all rounds):");
  for (let kind = 0; kind < KINDS.length; kind++) {
    const [p, c] = [byKind(rounds.Postern, kind), byKind(rounds.Cyrus, kind)];
    console.log(
      `  ${KINDS[kind].padEnd(20)} Postern ${ms(p).padStart(9)}  Cyrus ${ms(c).padStart(9)}  ${
        (c / p).toFixed(1)
      }×`,
    );
  }
}

/** The summary's lines: each figure the median over the rounds, Cyrus's as the baseline. */
function figures(rounds: { Postern: Round[]; Cyrus: Round[] }, settings: TextCyrusSettings): Figure[] {
  const of = (list: Round[]) => ({
    p50: median(list.map((r) => quantile(r.latencies, 0.5))),
    p99: median(list.map((r) => quantile(r.latencies, 0.99))),
    cpu: median(list.map((r) => r.cpuMs)),
    rps: median(list.map((r) => r.rps)),
    cores: median(list.map((r) => r.cores)),
  });
  const [p, c] = [of(rounds.Postern), of(rounds.Cyrus)];
  console.log(
    `median of ${settings.rounds} rounds: Postern p50 ${ms(p.p50)} p99 ${ms(p.p99)} CPU ${
      p.cpu.toFixed(2)
    } ms, ${p.rps.toFixed(0)} req/s on ${p.cores.toFixed(2)} cores; Cyrus p50 ${ms(c.p50)} p99 ${
      ms(c.p99)
    } CPU ${c.cpu.toFixed(2)} ms, ${c.rps.toFixed(0)} req/s on ${c.cores.toFixed(2)} cores`,
  );
  const label = settings.count.toLocaleString("en-US");
  const faster = (postern: number, cyrus: number) => cyrus / postern;
  const row = (figure: string, value: string, baseline: string, ratio: number, judged: boolean): Figure => ({
    figure,
    value,
    baseline,
    ratio: `${ratio.toFixed(2)}×`,
    target: judged ? "≥ 5×" : "—",
    result: judged ? (ratio >= 5 ? "PASS" : "FAIL") : "info",
  });
  return [
    row(
      `35. full-text vs Cyrus+Xapian, ${label} msgs, p50`,
      ms(p.p50),
      `${ms(c.p50)} (Cyrus)`,
      faster(p.p50, c.p50),
      true,
    ),
    row("    same, p99", ms(p.p99), `${ms(c.p99)} (Cyrus)`, faster(p.p99, c.p99), false),
    row(
      "    same, server CPU per request",
      `${p.cpu.toFixed(2)} ms`,
      `${c.cpu.toFixed(2)} ms (Cyrus)`,
      faster(p.cpu, c.cpu),
      false,
    ),
    row(
      `    same, ${settings.connections} connections`,
      `${p.rps.toFixed(0)} req/s`,
      `${c.rps.toFixed(0)} req/s (Cyrus)`,
      p.rps / c.rps,
      false,
    ),
  ];
}

/** Waits until Postern's start-up check of the database is over (see scripts/bench/text_search.ts). */
async function quiet(pid: number): Promise<void> {
  let last = processTreeCpuSeconds(pid);
  for (let i = 0; i < 120 && last !== undefined; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = processTreeCpuSeconds(pid);
    if (now === undefined || now - last < 0.05) return;
    last = now;
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      count: { type: "string", default: "10000" },
      rounds: { type: "string", default: "3" },
      requests: { type: "string", default: "270" },
      // One account's connections: Postern's session allows 4 concurrent requests (Cyrus's 5).
      connections: { type: "string", default: "4" },
      "duration-ms": { type: "string", default: "5000" },
      cache: { type: "string" },
      "check-only": { type: "boolean", default: false },
      "every-word-prefix": { type: "boolean", default: false },
    },
  });
  const tmp = await Deno.makeTempDir({ prefix: "postern-text-cyrus-" });
  const group = new ProcessGroup();
  try {
    const figures = await textCyrusFigures(group, {
      count: Number(values.count),
      rounds: Number(values.rounds),
      requests: Number(values.requests),
      connections: Number(values.connections),
      durationMs: Number(values["duration-ms"]),
      tmp,
      cache: values.cache,
      everyWord: values["every-word-prefix"],
    }, { checkOnly: values["check-only"] });
    if (figures.length) {
      console.log("");
      printSummary(figures);
    }
  } finally {
    await group.stopAll();
    await Deno.remove(tmp, { recursive: true }).catch(() => undefined);
  }
}
