/**
 * Full-text Email/query + Email/get of 50 (the issue: at 100,000 messages p50 ≤ 10 ms and p99 ≤ 30 ms),
 * on cached corpora (scripts/bench/text_corpus.ts) of each size asked, against `postern serve`, one
 * request at a time on one keep-alive connection. The mix, in turn (`KINDS`): a common word, a rarer
 * word, a three-letter prefix, a rare word, a rarer and a common word, a sender with inMailbox Inbox, a
 * subject word with inMailbox Inbox, a common word with inMailbox Archive, a rare word with inMailbox
 * Inbox; newest first, limit 50, no total.
 *
 * With `--old DIR` (another checkout, e.g. a worktree of main) the two builds run in turn on the same
 * corpus, `--rounds` times each, the order swapped every round, and each build's figures are the
 * median over its rounds; the CPU the server used per request (all its threads, from /proc) is shown
 * beside the latencies, since on a loaded machine the wall clock also measures the neighbours.
 *
 *   deno run -A scripts/bench/text_search.ts [--counts 10000,100000] [--requests 350] [--cache DIR]
 *     [--old DIR [--rounds 3]]
 */
import { parseArgs } from "node:util";
import {
  ADMIN_PASSWORD,
  DOMAIN,
  mailAccount,
  newestPage,
  PASSWORD,
  probe,
  USER,
  WORDS,
} from "./email_store.ts";
import { processTreeCpuSeconds } from "./cpu.ts";
import { ProcessGroup } from "./processes.ts";
import { type Figure, median, ms, printSummary, quantile } from "./report.ts";
import { basic } from "./setup_data.ts";
import { textCorpus } from "./text_corpus.ts";

/**
 * The kinds of the mix, in the order of `mixFilter(i)` for `i % KINDS.length`. The word classes are
 * scripts/bench/email_store.ts's `WORDS`: a common word is in nearly every message, a rarer one in a few
 * percent, a rare one in five; a three-letter prefix (of a rarer word) matches most messages.
 */
export const KINDS = [
  "common word",
  "rarer word",
  "3-letter prefix",
  "rare word",
  "rarer + common",
  "from + inMailbox",
  "subject + inMailbox",
  "common + inMailbox",
  "rare + inMailbox",
];

/** The index in {@link KINDS} of the prefix kind (Cyrus spells it with a `*`). */
export const PREFIX_KIND = 2;

/** The filter of request `i` of the mix. */
export function mixFilter(i: number, inbox: string, archive: string): Record<string, unknown> {
  const rarer = WORDS.rarer[(i * 37) % 2000];
  const rare = WORDS.rare[(i * 37) % 2000];
  const common = WORDS.common[i % 40];
  switch (i % KINDS.length) {
    case 0:
      return { text: common };
    case 1:
      return { text: rarer };
    case 2:
      return { text: rarer.slice(0, 3) };
    case 3:
      return { text: rare };
    case 4:
      return { text: `${rarer} ${common}` };
    case 5:
      return { operator: "AND", conditions: [{ inMailbox: inbox }, { from: `sender${i % 200}` }] };
    case 6:
      return { operator: "AND", conditions: [{ inMailbox: inbox }, { subject: WORDS.rarer[i % 300] }] };
    case 7:
      return { operator: "AND", conditions: [{ inMailbox: archive }, { text: common }] };
    default:
      return { operator: "AND", conditions: [{ inMailbox: inbox }, { text: rare }] };
  }
}

/** The first measured request (after as many for warming up): request j measured is of kind j % KINDS.length. */
const MIX_START = KINDS.length * 10;

/** Per kind of the mix, p50 and p90 (ms) over the latencies of `runs`. */
function printKinds(runs: Run[]): void {
  const list = (kind: number) => runs.flatMap((r) => r.latencies.filter((_, j) => j % KINDS.length === kind));
  console.log(
    `  by kind (${runs.length} run(s), ~${
      Math.floor(runs[0].latencies.length / KINDS.length)
    } requests each):`,
  );
  KINDS.forEach((name, kind) =>
    console.log(
      `    ${name.padEnd(20)} p50 ${ms(quantile(list(kind), 0.5)).padStart(9)}  p90 ${
        ms(quantile(list(kind), 0.9)).padStart(9)
      }  max ${ms(Math.max(...list(kind))).padStart(9)}`,
    )
  );
}

/** One run of the mix: its latencies (ms) and the server's CPU per request (ms, NaN if unknown). */
interface Run {
  latencies: number[];
  cpuMs: number;
}

let serversStarted = 0;

/**
 * Waits until the server is idle: every start checks the whole database in the background
 * (src/store/startup_check.ts), 10–45 s at 100,000 messages, and a figure taken meanwhile measured
 * that check, which holds a core of the two, as much as the searches.
 */
async function quiet(pid: number, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = processTreeCpuSeconds(pid);
  while (last !== undefined && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = processTreeCpuSeconds(pid);
    if (now === undefined || now - last < 0.05) return;
    last = now;
  }
}

/** A run of the mix on a corpus of `count` messages, by this checkout or the one at `root`. */
async function measure(
  group: ProcessGroup,
  options: { tmp: string; count: number; requests: number; cache?: string; root?: string },
): Promise<Run> {
  const dataDir = await textCorpus(options.count, { cache: options.cache });
  const server = await group.startPostern(`postern-text-${options.count}`, {
    dataDir,
    logLevel: "warning",
    // A log of its own: the server's port is read from it.
    logPath: `${options.tmp}/text-${options.count}-${serversStarted++}.log`,
    env: { POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD },
    root: options.root,
  });
  try {
    await quiet(server.pid);
    const auth = basic(`${USER}@${DOMAIN}`, PASSWORD);
    const { accountId, role } = await mailAccount(server.url, auth);
    const body = (i: number) => newestPage(accountId, mixFilter(i, role("inbox"), role("archive")));
    await probe(server, auth, MIX_START, body);
    const before = processTreeCpuSeconds(server.pid) ?? NaN;
    const latencies = await probe(server, auth, options.requests, (i) => body(i + MIX_START));
    const cpuMs = ((processTreeCpuSeconds(server.pid) ?? NaN) - before) * 1000 / options.requests;
    return { latencies, cpuMs };
  } finally {
    await group.stopOne(server);
  }
}

/** p50, p99 and CPU per request of runs: each the median over the runs. */
function summary(runs: Run[]): { p50: number; p99: number; cpu: number } {
  return {
    p50: median(runs.map((r) => quantile(r.latencies, 0.5))),
    p99: median(runs.map((r) => quantile(r.latencies, 0.99))),
    cpu: median(runs.map((r) => r.cpuMs)),
  };
}

const load = () => Deno.loadavg().map((l) => l.toFixed(1)).join(" ");

/**
 * The full-text figures, one pair (p50, p99) per corpus size; the target applies at 100,000. With
 * `old`, each figure's baseline is the old build's, measured in turn with this one.
 */
export async function textSearchFigures(
  group: ProcessGroup,
  options: { tmp: string; counts: number[]; requests: number; cache?: string; old?: string; rounds?: number },
): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const count of options.counts) {
    const label = count.toLocaleString("en-US");
    console.log(
      `\nFull-text Email/query + Email/get of 50 on ${label} messages (the mix of ${KINDS.length} kinds):`,
    );
    const runs: Run[] = [];
    const oldRuns: Run[] = [];
    for (let round = 0; round < (options.old ? options.rounds ?? 3 : 1); round++) {
      for (const old of round % 2 ? [true, false] : [false, true]) {
        if (old && !options.old) continue;
        const run = await measure(group, { ...options, count, root: old ? options.old : undefined });
        (old ? oldRuns : runs).push(run);
        const { latencies, cpuMs } = run;
        console.log(
          `${options.old ? (old ? "old  " : "new  ") : ""}p50 ${ms(quantile(latencies, 0.5))} p90 ${
            ms(quantile(latencies, 0.9))
          } p99 ${ms(quantile(latencies, 0.99))}, server CPU ${cpuMs.toFixed(2)} ms/request (load ${load()})`,
        );
      }
    }
    printKinds(runs);
    const now = summary(runs);
    const before = oldRuns.length ? summary(oldRuns) : undefined;
    if (before) {
      console.log(
        `median of ${runs.length} rounds: new p50 ${ms(now.p50)} p99 ${ms(now.p99)} CPU ${
          now.cpu.toFixed(2)
        } ms; ` +
          `old p50 ${ms(before.p50)} p99 ${ms(before.p99)} CPU ${before.cpu.toFixed(2)} ms`,
      );
    }
    const judged = count >= 100_000;
    const row = (figure: string, value: number, old: number | undefined, target: number): Figure => ({
      figure,
      value: ms(value),
      baseline: old === undefined ? "—" : `${ms(old)} (old)`,
      ratio: old === undefined ? "—" : `${(old / value).toFixed(2)}×`,
      target: judged ? `≤ ${target} ms` : "—",
      result: judged ? (value <= target ? "PASS" : "FAIL") : "info",
    });
    figures.push(
      row(`32. full-text Email/query + get of 50, ${label} msgs, p50`, now.p50, before?.p50, 10),
      row("    same, p99", now.p99, before?.p99, 30),
    );
  }
  return figures;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      counts: { type: "string", default: "10000,100000" },
      requests: { type: "string", default: "350" },
      cache: { type: "string" },
      old: { type: "string" },
      rounds: { type: "string", default: "3" },
    },
  });
  const tmp = await Deno.makeTempDir({ prefix: "postern-text-bench-" });
  const group = new ProcessGroup();
  try {
    const figures = await textSearchFigures(group, {
      tmp,
      counts: values.counts.split(",").map(Number),
      requests: Number(values.requests),
      cache: values.cache,
      old: values.old,
      rounds: Number(values.rounds),
    });
    console.log("");
    printSummary(figures);
  } finally {
    await group.stopAll();
    await Deno.remove(tmp, { recursive: true }).catch(() => undefined);
  }
}
