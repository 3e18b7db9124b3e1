/**
 * Every core (issue 25 item 4): the read scenarios on `postern serve --processes 1` and on
 * `--processes 2`, two servers on the same cached corpus (scripts/bench/text_corpus.ts; a database file
 * is served by several processes anyway), only one loaded at a time, rounds interleaved with the order
 * rotating (scripts/bench/throughput.ts), 8 keep-alive connections:
 *
 * - `GET /jmap/session`, `Mailbox/get` (ids null), the mailbox listing (Email/query of the Inbox's
 *   newest 50 + Email/get of them) and the full-text mix of text_search.ts (each request the next
 *   filter of the mix): req/s of 2 processes against 1. Target: at least 1.7× on this 2-core machine.
 * - `/healthz` p99 while the full-text load runs, probed every 2 ms on its own connection
 *   (scripts/bench/login_probe.ts), on each server. Target: under 5 ms with 2 processes.
 *
 * Server CPU counts the supervisor and its children (scripts/bench/cpu.ts).
 *
 *   deno run -A scripts/bench/cores.ts [--count 10000] [--rounds 3] [--duration-ms 5000] [--connections 8]
 */
import { parseArgs } from "node:util";
import { ADMIN_PASSWORD, DOMAIN, jmap, PASSWORD, USER } from "./email_store.ts";
import type { ProbeResult } from "./login_probe.ts";
import { ProcessGroup, type Server } from "./processes.ts";
import { type Figure, median, ms, printSummary, quantile } from "./report.ts";
import { basic } from "./setup_data.ts";
import { mixFilter } from "./text_search.ts";
import { textCorpus } from "./text_corpus.ts";
import { type LoadRequest, type Settings, type Subject, throughputRounds } from "./throughput.ts";

const MAIL = "urn:ietf:params:jmap:mail";
const USING = ["urn:ietf:params:jmap:core", MAIL];
const LISTED = ["threadId", "mailboxIds", "keywords", "from", "subject", "receivedAt", "size", "preview"];
/** Bodies of the text mix written to the body list (the load wraps around it). */
const TEXT_BODIES = 7_000;

/** Which server a figure is for. */
type Processes = 1 | 2;

/** The read scenarios' requests, made once the account's ids are known. */
async function scenarios(server: Server, tmp: string): Promise<LoadRequest[]> {
  const authorization = basic(`${USER}@${DOMAIN}`, PASSWORD);
  const session = await (await fetch(`${server.url}/jmap/session`, { headers: { authorization } })).json();
  const accountId = session.primaryAccounts[MAIL] as string;
  const [[, boxes]] = await jmap(server.url, authorization, [[
    "Mailbox/get",
    { accountId, ids: null },
    "b",
  ]]) as unknown as [
    string,
    { list: { id: string; role: string }[] },
  ][];
  const role = (name: string) => boxes.list.find((m) => m.role === name)!.id;
  const listing = (filter: Record<string, unknown>) =>
    JSON.stringify({
      using: USING,
      methodCalls: [
        ["Email/query", {
          accountId,
          filter,
          sort: [{ property: "receivedAt", isAscending: false }],
          limit: 50,
        }, "q"],
        ["Email/get", {
          accountId,
          "#ids": { resultOf: "q", name: "Email/query", path: "/ids" },
          properties: LISTED,
        }, "g"],
      ],
    });
  const file = async (name: string, text: string) => {
    const path = `${tmp}/${name}`;
    await Deno.writeTextFile(path, text);
    return path;
  };
  const headers = { authorization, "content-type": "application/json" };
  const post = { method: "POST", path: "/jmap", headers };
  return [
    { title: "GET /jmap/session", path: "/jmap/session", headers: { authorization } },
    {
      title: "Mailbox/get (ids null)",
      ...post,
      bodyFile: await file(
        "mailbox_get.json",
        JSON.stringify({ using: USING, methodCalls: [["Mailbox/get", { accountId, ids: null }, "0"]] }),
      ),
    },
    {
      title: "mailbox listing (Email/query newest 50 of the Inbox + Email/get)",
      ...post,
      bodyFile: await file("listing.json", listing({ inMailbox: role("inbox") })),
    },
    {
      title: "full-text mix (Email/query + Email/get of 50)",
      ...post,
      bodyListFile: await file(
        "text.list",
        Array.from({ length: TEXT_BODIES }, (_, i) => listing(mixFilter(i, role("inbox"), role("archive"))))
          .join("\n") + "\n",
      ),
    },
  ];
}

/** /healthz latencies (ms) probed every 2 ms while the full-text load runs on `server`. */
async function healthzUnderLoad(
  group: ProcessGroup,
  server: Server,
  text: LoadRequest,
  settings: Settings,
): Promise<number[]> {
  const load = group.runJson("scripts/bench/load.ts", [
    "--url",
    `${server.url}${text.path}`,
    ...Object.entries(text.headers).flatMap(([name, value]) => ["--header", `${name}: ${value}`]),
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
  ]);
  // The probe's window sits inside the load's measured one.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const probe = await group.runJson<ProbeResult>("scripts/bench/login_probe.ts", [
    "--url",
    server.url,
    "--window-ms",
    String(Math.max(1000, settings.durationMs - 1500)),
  ]);
  await load;
  return probe.samples;
}

/** The figures: each scenario's ratio of 2 processes to 1, and /healthz p99 under the text load. */
export async function coresFigures(
  group: ProcessGroup,
  settings: Settings,
  options: { tmp: string; count: number; cache?: string },
): Promise<Figure[]> {
  const dataDir = await textCorpus(options.count, { cache: options.cache });
  const start = (processes: Processes) =>
    group.startPostern(`postern-${processes}p`, {
      dataDir,
      logLevel: "warning",
      logPath: `${options.tmp}/cores-${processes}.log`,
      env: { POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD },
      processes,
    });
  const servers = { 1: await start(1), 2: await start(2) };
  const requests = await scenarios(servers[1], options.tmp);
  const figures: Figure[] = [];
  const names = ["session", "Mailbox/get", "mailbox listing", "full-text mix"];
  for (const [i, request] of requests.entries()) {
    const subjects: Subject[] = ([1, 2] as const).map((n) => ({
      key: `${n}p`,
      label: `--processes ${n}`,
      server: servers[n],
      results: [],
    }));
    await throughputRounds(settings, group, subjects, {
      ...request,
      title: `${request.title}, 1 vs 2 processes`,
    });
    const [one, two] = subjects.map((s) => median(s.results.map((r) => r.rps)));
    figures.push({
      figure: `33. ${names[i]}, 2 processes vs 1 (8 connections)`,
      value: `${Math.round(two)} req/s`,
      baseline: `${Math.round(one)} req/s`,
      ratio: `${(two / one).toFixed(2)}×`,
      target: "≥ 1.7×",
      result: two / one >= 1.7 ? "PASS" : "FAIL",
    });
  }
  const text = requests[3];
  const p99: Record<Processes, number[]> = { 1: [], 2: [] };
  console.log("\n/healthz every 2 ms during the full-text load (p99 per round)");
  for (let round = 0; round < settings.rounds; round++) {
    const order: Processes[] = round % 2 ? [2, 1] : [1, 2];
    const line: string[] = [];
    for (const n of order) {
      const samples = await healthzUnderLoad(group, servers[n], text, settings);
      p99[n].push(quantile(samples, 0.99));
      line.push(`${n}p p50 ${ms(quantile(samples, 0.5))} p99 ${ms(quantile(samples, 0.99))}`);
    }
    console.log(`round ${round + 1}: ${line.join("  ")}`);
  }
  const [one, two] = [median(p99[1]), median(p99[2])];
  figures.push({
    figure: "34. /healthz p99 during the full-text load, 2 processes",
    value: ms(two),
    baseline: `${ms(one)} (1 process)`,
    ratio: `${(one / two).toFixed(2)}× lower`,
    target: "< 5 ms",
    result: two < 5 ? "PASS" : "FAIL",
  });
  await group.stopOne(servers[1]);
  await group.stopOne(servers[2]);
  return figures;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      count: { type: "string", default: "10000" },
      rounds: { type: "string", default: "3" },
      "duration-ms": { type: "string", default: "5000" },
      connections: { type: "string", default: "8" },
      cache: { type: "string" },
    },
  });
  const tmp = await Deno.makeTempDir({ prefix: "postern-cores-bench-" });
  const group = new ProcessGroup();
  try {
    const figures = await coresFigures(group, {
      rounds: Number(values.rounds),
      durationMs: Number(values["duration-ms"]),
      warmupMs: 500,
      connections: Number(values.connections),
      loginRounds: 0,
      queryRequests: 0,
      client: "raw",
    }, { tmp, count: Number(values.count), cache: values.cache });
    console.log(`\nload average ${Deno.loadavg().map((n) => n.toFixed(1)).join(" ")}`);
    printSummary(figures);
  } finally {
    await group.stopAll();
    await Deno.remove(tmp, { recursive: true }).catch(() => undefined);
  }
}
