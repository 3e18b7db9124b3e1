/**
 * The inbound SMTP figures (issue 22: ≥ 1,000 msg/s stored and ≥ 1.5× Postfix delivering by LMTP
 * into Dovecot; commit → EventSource StateChange p99 < 100 ms at that rate).
 *
 * 17. Postfix's `smtp-source` sends `--messages` messages of 10 KB over 16 sessions (connections
 *     reused, `-d`) to Postern's MX; stored msg/s is messages over smtp-source's wall time, since
 *     every 250 follows the commit. The baseline is the same load sent to a private Postfix whose
 *     transport for the domain is LMTP into a private Dovecot (Maildir): messages over the time
 *     until Dovecot holds them all. Rounds interleave (the order alternating), medians compared,
 *     after a warm-up round of each (`--warmup` messages, not counted).
 * 18. During Postern's rounds a probe sends one message at a time on its own connection to another
 *     account and times the end of its DATA to the StateChange on that account's EventSource: an
 *     upper bound of commit → push (it includes the receiving and the commit).
 *
 * The MX checks SPF, DKIM, DMARC and ARC of every message; the sender's SPF (pass) and DMARC (p=none)
 * records come from a private dnsmasq (dnsmasq.ts) when it is installed. Needs root (Postfix's and
 * Dovecot's masters) and the Debian packages postfix, dovecot-core and dovecot-lmtpd; without them
 * the figures say so and are skipped.
 *
 *   deno run -A scripts/bench/mx_inbound.ts [--messages 5000] [--rounds 3] [--sessions 16]
 *     [--warmup 2000]               (messages each server gets first, not counted; 0: none)
 *     [--processes 2]               (`postern serve --processes N`; a list such as `1,2` measures each,
 *                                    rounds interleaved, the first one being the figure)
 *     [--profile FILE.cpuprofile]   (a CPU profile of Postern's first round, summarized)
 *     [--skip-baseline]             (Postern alone, to iterate on a profile)
 *     [--root DIR]                  (run the Postern of another checkout instead of this one)
 *     [--old DIR]                   (also run the Postern of another checkout, e.g. main, with the
 *                                    same processes, its rounds interleaved with this one's)
 *
 * Each Postern measured has its own server and database; the CPU figures count every serving
 * process (`--processes N` starts N−1 children).
 */
import { parseArgs } from "node:util";
import { CpuProfiler, summarize } from "./cpu_profile.ts";
import { canRunDnsmasq } from "./dnsmasq.ts";
import { canRunDovecot, startDovecot } from "./dovecot.ts";
import { canRunPostfix, startPostfix } from "./postfix.ts";
import { ProcessGroup, type Server } from "./processes.ts";
import { type Figure, median, ms, printSummary, quantile } from "./report.ts";
import {
  BODY_BYTES,
  DOMAIN,
  freePort,
  prepareData,
  serverCpu,
  smtpSource,
  stageSeconds,
  startSenderDns,
  storedCountIn,
} from "./mx_inbound_helpers.ts";
import { SmtpProbe } from "./smtp_probe.ts";

const ADMIN_PASSWORD = "bench admin password that is long enough";

/** What the inbound rounds measured. */
export interface InboundMeasurements {
  /** Rates of the first Postern measured (the figure). */
  postern: number[];
  /** Rates of every Postern measured, by its label. */
  targets: Map<string, number[]>;
  baseline: number[];
  latencies: number[];
  missed: number;
  stored: number;
  sent: number;
}

/** One Postern measured: its build (another checkout's, or this one) and its serving processes. */
interface Target {
  label: string;
  processes: number;
  root?: string;
}

/** A started {@link Target}: its server, database, MX port, and the probe account's key. */
interface Running extends Target {
  server: Server;
  dataDir: string;
  mxPort: number;
  probeKey: string;
  rates: number[];
  latencies: number[];
  missed: number;
  sent: number;
}

/** The Posterns to measure: this build (or `root`) for each count of processes, then `old`'s. */
function targetsOf(options: { processes: number[]; root?: string; old?: string }): Target[] {
  const builds = [
    { name: "postern", root: options.root },
    ...(options.old ? [{ name: "old", root: options.old }] : []),
  ];
  const several = options.processes.length > 1;
  return builds.flatMap((build) =>
    options.processes.map((processes) => ({
      label: several || processes > 1 ? `${build.name} --processes ${processes}` : build.name,
      processes,
      root: build.root,
    }))
  );
}

/**
 * Before a round: writes every dirty page out (sync(1)), since each server fsyncs its own commits and the
 * previous round's write-back (Dovecot's Maildir files, Postern's WAL checkpoint) competing with them
 * slowed whichever came next (load average 15-19 during the rounds after Postfix's); then waits, 15 s at
 * most, until the cores have been at least 85% idle for half a second, so that what the last round left
 * running (Postfix's queue manager and cleanup, Dovecot's index updates, a checkpoint) does not run into
 * the next one. Both sides get the same wait.
 */
async function settleDisk(): Promise<void> {
  await new Deno.Command("sync").output();
  const deadline = performance.now() + 15_000;
  let quiet = 0;
  let last = await cpuTicks();
  while (quiet < 2 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = await cpuTicks();
    const total = now.total - last.total;
    quiet = total > 0 && (now.idle - last.idle) / total >= 0.85 ? quiet + 1 : 0;
    last = now;
  }
}

/** The machine's CPU time so far, in ticks: all of it and the idle part (idle and I/O wait), from /proc/stat. */
async function cpuTicks(): Promise<{ total: number; idle: number }> {
  const line = (await Deno.readTextFile("/proc/stat")).split("\n")[0];
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  return { total: fields.reduce((a, b) => a + b, 0), idle: fields[3] + (fields[4] ?? 0) };
}

/** Runs figures 17 and 18. */
export async function inboundFigures(
  group: ProcessGroup,
  options: {
    tmp: string;
    messages: number;
    rounds: number;
    sessions: number;
    /** Messages each server gets in a round before the measured ones, not counted (default 2,000). */
    warmup?: number;
    /** Serving processes of each Postern measured (default [1]); the first is the figure's. */
    processes?: number[];
    /** Writes a CPU profile of the first Postern's first round here. */
    profile?: string;
    /** Postern alone (when profiling): no baseline rounds, no ratio. */
    skipBaseline?: boolean;
    /** The checkout whose Postern is measured (default: this one). */
    root?: string;
    /** Another checkout (an old build) also measured, rounds interleaved. */
    old?: string;
  },
): Promise<{ figures: Figure[]; measured?: InboundMeasurements }> {
  const missing = !(await canRunPostfix()) || !(await canRunDovecot())
    ? "root and the packages postfix, dovecot-core, dovecot-lmtpd"
    : undefined;
  if (missing) {
    console.log(`\nInbound SMTP: skipped (needs ${missing})`);
    const skipped = { value: "skipped", baseline: "-", ratio: "-", result: "info" as const };
    return {
      figures: [
        {
          figure: "17. inbound SMTP stored msg/s (smtp-source)",
          target: "≥ 1,000 msg/s, ≥ 1.5×",
          ...skipped,
        },
        { figure: "18. inbound commit → EventSource StateChange", target: "p99 < 100 ms", ...skipped },
      ],
    };
  }
  const { tmp, messages, rounds, sessions, profile, skipBaseline } = options;
  const warmup = options.warmup ?? 2000;
  const processes = options.processes ?? [1];
  // Postfix's and Dovecot's daemons (other users) must reach their directories inside tmp.
  await Deno.chmod(tmp, 0o711);
  // With several processes every child inherits the flag, so each takes a port of its own (port 0)
  // and the one of the first process is read from its log.
  let inspectPort = profile && processes[0] === 1 ? freePort() : undefined;
  // The sender's SPF and DMARC records, on a resolver of our own (see dnsmasq.ts).
  const dns = await canRunDnsmasq() ? await startSenderDns() : undefined;
  if (!dns) {
    console.log("  (no dnsmasq: the MX asks the system's resolver, whose round trips the figure includes)");
  }
  const running: Running[] = [];
  for (const [i, target] of targetsOf({ processes, root: options.root, old: options.old }).entries()) {
    const dataDir = `${tmp}/mx-data-${i}`;
    const probeKey = await prepareData(dataDir, {
      root: target.root,
      domain: DOMAIN,
      adminPassword: ADMIN_PASSWORD,
    });
    const mxPort = freePort();
    const server = await group.startPostern(`postern-mx-${i}`, {
      dataDir,
      logLevel: "info",
      logPath: `${tmp}/mx-${i}.log`,
      env: {
        POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD,
        POSTERN_SMTP_LISTEN: `127.0.0.1:${mxPort}`,
        POSTERN_SMTP_MAX_CONNECTIONS_PER_ADDRESS: String(sessions + 4),
        ...(dns ? { POSTERN_DNS_SERVER: dns.server } : {}),
      },
      denoFlags: profile && i === 0 ? [`--inspect=127.0.0.1:${inspectPort ?? 0}`] : [],
      root: target.root,
      processes: target.processes,
    });
    if (profile && i === 0 && inspectPort === undefined) {
      const log = await Deno.readTextFile(`${tmp}/mx-${i}.log`);
      inspectPort = Number(/Debugger listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(log)?.[1]);
    }
    running.push({
      ...target,
      server,
      dataDir,
      mxPort,
      probeKey,
      rates: [],
      latencies: [],
      missed: 0,
      sent: 0,
    });
  }
  const dovecot = await startDovecot(`${tmp}/dovecot`, freePort());
  const postfix = await startPostfix(`${tmp}/postfix`, {
    smtpPort: freePort(),
    transports: { [DOMAIN]: `lmtp:inet:127.0.0.1:${dovecot.lmtpPort}` },
  });
  const baselineRates: number[] = [];
  const stored = new Map<string, number>();
  try {
    console.log(
      `\nInbound SMTP: ${rounds} rounds × ${messages} messages of ${
        BODY_BYTES / 1024
      } KB, ${sessions} sessions; ` +
        `measured: ${running.map((t) => t.label).join(", ")}${skipBaseline ? "" : ", Postfix→LMTP→Dovecot"}`,
    );
    // A warm-up round, not counted: each Postern's JIT, caches and DNS cache, and Postfix's and
    // Dovecot's processes and caches, start cold; a first round measured cold ran ~25% slower than the
    // next ones (790 against 1,039 and 1,083 msg/s, 1.65 against 1.08-1.12 ms CPU per message).
    const warmUp = async (t: Running) => {
      const started = performance.now();
      await smtpSource(group, t.mxPort, warmup, sessions);
      t.sent += warmup;
      return warmup / ((performance.now() - started) / 1000);
    };
    const runPostern = async (t: Running) => {
      const probe = await SmtpProbe.start({
        smtpPort: t.mxPort,
        url: t.server.url,
        auth: `Bearer ${t.probeKey}`,
      });
      const profiler = inspectPort && t === running[0] && t.rates.length === 0
        ? await CpuProfiler.start(inspectPort)
        : undefined;
      const started = performance.now();
      const before = serverCpu(t.server.pid);
      const stagesBefore = await stageSeconds(t.server.url);
      let sourceCpu = NaN;
      try {
        sourceCpu = await smtpSource(group, t.mxPort, messages, sessions);
      } finally {
        const result = await probe.stop();
        t.latencies.push(...result.latencies);
        t.missed += result.missed;
      }
      const seconds = (performance.now() - started) / 1000;
      const after = serverCpu(t.server.pid);
      const cpu = after.total - before.total;
      const main = after.main - before.main;
      // CPU per message says what the server costs even when a busy machine gives it only part of a core.
      console.log(
        `    ${t.label}: ${(100 * cpu / seconds).toFixed(0)}% of a core (${
          (1000 * cpu / messages).toFixed(2)
        } ms CPU per message, ${(1000 * main / messages).toFixed(2)} ms of it on main threads), smtp-source ${
          (100 * sourceCpu / seconds).toFixed(0)
        }% (load average ${Deno.loadavg()[0].toFixed(2)})`,
      );
      // Where the CPU outside the main thread goes: workers (mailauth), I/O and GC threads.
      const threads = [...after.threads]
        .map(([name, seconds]) => [name, seconds - (before.threads.get(name) ?? 0)] as const)
        .filter(([, seconds]) => seconds > 0)
        .sort((a, b) => b[1] - a[1])
        .map(([name, seconds]) => `${name} ${(1000 * seconds / messages).toFixed(2)}`);
      console.log(`      ms CPU per message by thread: ${threads.join(", ")}`);
      // Where a message waits: its mean time in each stage (a stage's own work and its queue).
      const stagesAfter = await stageSeconds(t.server.url);
      const accepted = stagesAfter.get("accepted")! - stagesBefore.get("accepted")!;
      const stages = ["receive", "authenticate", "store"].map((stage) =>
        `${stage} ${(1000 * (stagesAfter.get(stage)! - stagesBefore.get(stage)!) / accepted).toFixed(2)}`
      );
      console.log(`      ms per accepted message by stage: ${stages.join(", ")}`);
      if (profiler) {
        const recorded = await profiler.stop();
        await Deno.writeTextFile(profile!, JSON.stringify(recorded));
        console.log(summarize(recorded));
      }
      t.sent += messages;
      return messages / seconds;
    };
    let delivered = 0;
    const runBaseline = async (count = messages) => {
      const started = performance.now();
      await smtpSource(group, postfix.smtpPort, count, sessions);
      delivered += count;
      const deadline = started + 600_000;
      while (await dovecot.count("bench") < delivered) {
        if (performance.now() > deadline) throw new Error("Postfix+Dovecot did not deliver every message");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return count / ((performance.now() - started) / 1000);
    };
    const each: (Running | "baseline")[] = [...running, ...(skipBaseline ? [] : ["baseline" as const])];
    if (warmup > 0) {
      const line: string[] = [];
      for (const who of each) {
        await settleDisk();
        const rate = who === "baseline" ? await runBaseline(warmup) : await warmUp(who);
        line.push(`${who === "baseline" ? who : who.label} ${rate.toFixed(0)} msg/s`);
      }
      console.log(`  warm-up (${warmup} messages each, not counted): ${line.join(", ")}`);
    }
    for (let round = 0; round < rounds; round++) {
      // Each one goes first in turn, so none always follows the same neighbour.
      const order = [...each.slice(round % each.length), ...each.slice(0, round % each.length)];
      const line: string[] = [];
      for (const who of order) {
        await settleDisk();
        const rate = who === "baseline" ? await runBaseline() : await runPostern(who);
        (who === "baseline" ? baselineRates : who.rates).push(rate);
        line.push(`${who === "baseline" ? who : who.label} ${rate.toFixed(0)} msg/s`);
      }
      console.log(`  round ${round + 1}: ${line.join(", ")}`);
    }
  } finally {
    await postfix.stop();
    await dovecot.stop();
    for (const t of running) await group.stopOne(t.server);
    await dns?.stop();
  }
  for (const t of running) stored.set(t.label, await storedCountIn(t.root, t.dataDir));
  const first = running[0];
  const m: InboundMeasurements = {
    postern: first.rates,
    targets: new Map(running.map((t) => [t.label, t.rates])),
    baseline: baselineRates,
    latencies: first.latencies,
    missed: first.missed,
    stored: stored.get(first.label)!,
    sent: first.sent,
  };
  const value = median(m.postern);
  const baseline = median(m.baseline);
  const ratio = value / baseline;
  const p99 = quantile(m.latencies, 0.99);
  for (const t of running) {
    console.log(
      `${t.label}: median ${median(t.rates).toFixed(0)} msg/s (${
        (median(t.rates) / value).toFixed(2)
      }× ${first.label}), stored ${
        stored.get(t.label)
      } of ${t.sent} sent; probe: ${t.latencies.length} events, ${t.missed} missed, ` +
        `p50 ${ms(quantile(t.latencies, 0.5))}, p99 ${ms(quantile(t.latencies, 0.99))}`,
    );
  }
  const complete = running.every((t) => stored.get(t.label) === t.sent);
  const how = first.processes > 1 ? ` (postern serve --processes ${first.processes})` : "";
  return {
    figures: [
      {
        figure: `17. inbound SMTP stored msg/s, smtp-source 10 KB × ${sessions} sessions${how}` +
          (complete ? "" : ` (STORED ONLY ${m.stored} of ${m.sent})`),
        value: `${Math.round(value).toLocaleString("en-US")} msg/s`,
        baseline: `${Math.round(baseline).toLocaleString("en-US")} msg/s Postfix→LMTP→Dovecot`,
        ratio: `${ratio.toFixed(2)}×`,
        target: "≥ 1,000 msg/s, ≥ 1.5×",
        result: complete && value >= 1000 && ratio >= 1.5 ? "PASS" : "FAIL",
      },
      {
        figure: `18. inbound end of DATA → EventSource StateChange under that load (p50 ${
          ms(quantile(m.latencies, 0.5))
        })`,
        value: `${ms(p99)} p99, ${m.missed} missed`,
        baseline: "-",
        ratio: "-",
        target: "p99 < 100 ms",
        result: p99 < 100 && m.missed === 0 ? "PASS" : "FAIL",
      },
    ],
    measured: m,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "5000" },
      rounds: { type: "string", default: "3" },
      warmup: { type: "string", default: "2000" },
      sessions: { type: "string", default: "16" },
      // Serving processes: one count, or a list whose counts are each measured (the first is the figure).
      processes: { type: "string", default: Deno.env.get("POSTERN_BENCH_PROCESSES") || "1" },
      // Writes a CPU profile of the first Postern's first round to this file (and prints its summary).
      profile: { type: "string" },
      "skip-baseline": { type: "boolean", default: false },
      // Another checkout's Postern instead of this one.
      root: { type: "string" },
      // Another checkout's Postern (an old build) measured too, rounds interleaved.
      old: { type: "string" },
    },
  });
  const processes = values.processes.split(",").map(Number);
  if (processes.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`--processes ${values.processes}?`);
  }
  const group = new ProcessGroup();
  const tmp = await Deno.makeTempDir({ prefix: "postern-bench-mx-" });
  try {
    const { figures } = await inboundFigures(group, {
      tmp,
      messages: Number(values.messages),
      rounds: Number(values.rounds),
      warmup: Number(values.warmup),
      sessions: Number(values.sessions),
      processes,
      profile: values.profile,
      skipBaseline: values["skip-baseline"],
      root: values.root,
      old: values.old,
    });
    console.log();
    printSummary(figures);
  } finally {
    await group.stopAll();
    await Deno.remove(tmp, { recursive: true }).catch(() => undefined);
  }
}
