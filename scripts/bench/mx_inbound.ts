/**
 * The inbound SMTP figures (issue 22: ≥ 1,000 msg/s stored and ≥ 1.5× Postfix delivering by LMTP
 * into Dovecot; commit → EventSource StateChange p99 < 100 ms at that rate).
 *
 * 17. Postfix's `smtp-source` sends `--messages` messages of 10 KB over 16 sessions (connections
 *     reused, `-d`) to Postern's MX; stored msg/s is messages over smtp-source's wall time, since
 *     every 250 follows the commit. The baseline is the same load sent to a private Postfix whose
 *     transport for the domain is LMTP into a private Dovecot (Maildir): messages over the time
 *     until Dovecot holds them all. Rounds interleave (the order alternating), medians compared.
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
 *     [--profile FILE.cpuprofile]   (a CPU profile of Postern's first round, summarized)
 *     [--skip-baseline]             (Postern alone, to iterate on a profile)
 *     [--root DIR]                  (run the Postern of another checkout, e.g. an old build to
 *                                    compare with; invocations alternated by the caller)
 */
import { parseArgs } from "node:util";
import { resolveConfig } from "../../src/config/mod.ts";
import { openData } from "../../src/server.ts";
import { cpuSeconds, mainThreadCpuSeconds, threadCpuSeconds } from "./cpu.ts";
import { CpuProfiler, summarize } from "./cpu_profile.ts";
import { canRunDnsmasq, startDnsmasq } from "./dnsmasq.ts";
import { canRunDovecot, startDovecot } from "./dovecot.ts";
import { canRunPostfix, startPostfix } from "./postfix.ts";
import { ProcessGroup } from "./processes.ts";
import { type Figure, median, ms, printSummary, quantile } from "./report.ts";
import { bootstrapData } from "./setup_data.ts";
import { SmtpProbe } from "./smtp_probe.ts";

const DOMAIN = "example.org";
const ADMIN_PASSWORD = "bench admin password that is long enough";
const SMTP_SOURCE = "/usr/sbin/smtp-source";
const BODY_BYTES = 10_240;

/** What the inbound rounds measured. */
export interface InboundMeasurements {
  postern: number[];
  baseline: number[];
  latencies: number[];
  missed: number;
  stored: number;
  sent: number;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * One smtp-source run: `messages` of 10 KB over `sessions` connections to `port`; the CPU seconds
 * smtp-source used (read from its parent shell's children times once it has been waited for).
 */
async function smtpSource(group: ProcessGroup, port: number, messages: number, sessions: number) {
  const stat = await group.run("smtp-source", "/bin/sh", [
    "-c",
    '"$@" >/dev/null && cat /proc/$$/stat',
    "sh",
    SMTP_SOURCE,
    ...["-s", String(sessions), "-m", String(messages), "-l", String(BODY_BYTES), "-d"],
    ...["-f", "sender@sender.test", "-t", `bench@${DOMAIN}`, "-M", "sender.test", `127.0.0.1:${port}`],
  ], { timeoutMs: 600_000 });
  // Fields 16 and 17 (cutime, cstime) of proc(5), counted after the command name's closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** Creates the bench and probe accounts; the probe's API key. */
async function createAccounts(dataDir: string): Promise<string> {
  const { services } = await openData(resolveConfig({ data: dataDir }, Deno.env.toObject()));
  try {
    const domain = await services.domains.getByName(DOMAIN);
    await services.accounts.create({ type: "User", name: "bench", domainId: domain!.id });
    const probe = await services.accounts.create({ type: "User", name: "probe", domainId: domain!.id });
    const key = await services.accessKeys.create("ApiKey", probe.id, { description: "inbound bench" });
    return key.secret;
  } finally {
    await services.close();
  }
}

/** Emails stored in the bench account (read in-process from the database the server runs on). */
async function storedCount(dataDir: string): Promise<number> {
  const { services } = await openData(resolveConfig({ data: dataDir }, Deno.env.toObject()));
  try {
    const id = await services.accounts.idByLogin(`bench@${DOMAIN}`);
    const inbox = (await services.store.mailboxes.list(id!)).find((mailbox) => mailbox.role === "inbox");
    return (await services.store.emails.inMailbox(inbox!.id)).length;
  } finally {
    await services.close();
  }
}

/**
 * Seconds the MX's accepted messages spent so far in each stage (receive, authenticate, store) and
 * how many were accepted, from /metrics (loopback needs no credentials).
 */
async function stageSeconds(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(new URL("/metrics", url))).text();
  const seconds = new Map<string, number>();
  for (
    const [, stage, value] of text.matchAll(
      /^postern_smtp_message_stage_seconds_total\{stage="(\w+)"\} (\S+)$/gm,
    )
  ) {
    seconds.set(stage, Number(value));
  }
  const accepted = /^postern_smtp_messages_accepted_total (\S+)$/m.exec(text);
  seconds.set("accepted", Number(accepted?.[1] ?? NaN));
  return seconds;
}

/** Runs figures 17 and 18. */
export async function inboundFigures(
  group: ProcessGroup,
  options: {
    tmp: string;
    messages: number;
    rounds: number;
    sessions: number;
    /** Writes a CPU profile of Postern's first round here. */
    profile?: string;
    /** Postern alone (when profiling): no baseline rounds, no ratio. */
    skipBaseline?: boolean;
    /** The checkout whose Postern is measured (default: this one). */
    root?: string;
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
  const { tmp, messages, rounds, sessions, profile, skipBaseline, root } = options;
  // Postfix's and Dovecot's daemons (other users) must reach their directories inside tmp.
  await Deno.chmod(tmp, 0o711);
  const dataDir = `${tmp}/mx-data`;
  await bootstrapData(dataDir, { domain: DOMAIN, adminPassword: ADMIN_PASSWORD });
  const probeKey = await createAccounts(dataDir);
  const mxPort = freePort();
  const inspectPort = profile ? freePort() : undefined;
  // The sender's SPF and DMARC records, on a resolver of our own (see dnsmasq.ts).
  const dns = await canRunDnsmasq()
    ? await startDnsmasq({
      port: freePort(),
      txt: { "sender.test": "v=spf1 ip4:127.0.0.1 -all", "_dmarc.sender.test": "v=DMARC1; p=none" },
      ttl: 300,
    })
    : undefined;
  if (!dns) {
    console.log("  (no dnsmasq: the MX asks the system's resolver, whose round trips the figure includes)");
  }
  const server = await group.startPostern("postern-mx", {
    dataDir,
    logLevel: "info",
    logPath: `${tmp}/mx.log`,
    env: {
      POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD,
      POSTERN_SMTP_LISTEN: `127.0.0.1:${mxPort}`,
      POSTERN_SMTP_MAX_CONNECTIONS_PER_ADDRESS: String(sessions + 4),
      ...(dns ? { POSTERN_DNS_SERVER: dns.server } : {}),
    },
    denoFlags: inspectPort ? [`--inspect=127.0.0.1:${inspectPort}`] : [],
    root,
  });
  const dovecot = await startDovecot(`${tmp}/dovecot`, freePort());
  const postfix = await startPostfix(`${tmp}/postfix`, {
    smtpPort: freePort(),
    transports: { [DOMAIN]: `lmtp:inet:127.0.0.1:${dovecot.lmtpPort}` },
  });
  const m: InboundMeasurements = { postern: [], baseline: [], latencies: [], missed: 0, stored: 0, sent: 0 };
  try {
    console.log(
      `\nInbound SMTP: ${rounds} rounds × ${messages} messages of ${
        BODY_BYTES / 1024
      } KB, ${sessions} sessions`,
    );
    const runPostern = async () => {
      const probe = await SmtpProbe.start({ smtpPort: mxPort, url: server.url, auth: `Bearer ${probeKey}` });
      const profiler = inspectPort && m.postern.length === 0
        ? await CpuProfiler.start(inspectPort)
        : undefined;
      const started = performance.now();
      const serverCpu = cpuSeconds(server.pid) ?? NaN;
      const mainCpu = mainThreadCpuSeconds(server.pid) ?? NaN;
      const threadsBefore = threadCpuSeconds(server.pid);
      const stagesBefore = await stageSeconds(server.url);
      let sourceCpu = NaN;
      try {
        sourceCpu = await smtpSource(group, mxPort, messages, sessions);
      } finally {
        const result = await probe.stop();
        m.latencies.push(...result.latencies);
        m.missed += result.missed;
      }
      const seconds = (performance.now() - started) / 1000;
      const cpu = (cpuSeconds(server.pid) ?? NaN) - serverCpu;
      const main = (mainThreadCpuSeconds(server.pid) ?? NaN) - mainCpu;
      // CPU per message says what the server costs even when a busy machine gives it only part of a core.
      console.log(
        `    Postern used ${(100 * cpu / seconds).toFixed(0)}% of a core (${
          (1000 * cpu / messages).toFixed(2)
        } ms CPU per message, ${
          (1000 * main / messages).toFixed(2)
        } ms of it on the main thread), smtp-source ${
          (100 * sourceCpu / seconds).toFixed(0)
        }% (load average ${Deno.loadavg()[0].toFixed(2)})`,
      );
      // Where the CPU outside the main thread goes: workers (mailauth), I/O and GC threads.
      const threads = [...threadCpuSeconds(server.pid)]
        .map(([name, seconds]) => [name, seconds - (threadsBefore.get(name) ?? 0)] as const)
        .filter(([, seconds]) => seconds > 0)
        .sort((a, b) => b[1] - a[1])
        .map(([name, seconds]) => `${name} ${(1000 * seconds / messages).toFixed(2)}`);
      console.log(`    ms CPU per message by thread: ${threads.join(", ")}`);
      // Where a message waits: its mean time in each stage (a stage's own work and its queue).
      const stagesAfter = await stageSeconds(server.url);
      const accepted = stagesAfter.get("accepted")! - stagesBefore.get("accepted")!;
      const stages = ["receive", "authenticate", "store"].map((stage) =>
        `${stage} ${(1000 * (stagesAfter.get(stage)! - stagesBefore.get(stage)!) / accepted).toFixed(2)}`
      );
      console.log(`    ms per accepted message by stage: ${stages.join(", ")}`);
      if (profiler) {
        const recorded = await profiler.stop();
        await Deno.writeTextFile(profile!, JSON.stringify(recorded));
        console.log(summarize(recorded));
      }
      m.sent += messages;
      return messages / seconds;
    };
    let delivered = 0;
    const runBaseline = async () => {
      const started = performance.now();
      await smtpSource(group, postfix.smtpPort, messages, sessions);
      delivered += messages;
      const deadline = started + 600_000;
      while (await dovecot.count("bench") < delivered) {
        if (performance.now() > deadline) throw new Error("Postfix+Dovecot did not deliver every message");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return messages / ((performance.now() - started) / 1000);
    };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ["postern", "baseline"] : ["baseline", "postern"];
      const line: string[] = [];
      for (const who of skipBaseline ? ["postern"] : order) {
        const rate = who === "postern" ? await runPostern() : await runBaseline();
        (who === "postern" ? m.postern : m.baseline).push(rate);
        line.push(`${who} ${rate.toFixed(0)} msg/s`);
      }
      console.log(`  round ${round + 1}: ${line.join(", ")}`);
    }
  } finally {
    await postfix.stop();
    await dovecot.stop();
    await group.stopOne(server);
    await dns?.stop();
  }
  m.stored = await storedCount(dataDir);
  const value = median(m.postern);
  const baseline = median(m.baseline);
  const ratio = value / baseline;
  const p99 = quantile(m.latencies, 0.99);
  console.log(
    `Postern stored ${m.stored} of ${m.sent} sent; probe: ${m.latencies.length} events, ${m.missed} missed, ` +
      `p50 ${ms(quantile(m.latencies, 0.5))}, p99 ${ms(p99)}`,
  );
  const complete = m.stored === m.sent;
  return {
    figures: [
      {
        figure: `17. inbound SMTP stored msg/s, smtp-source 10 KB × ${sessions} sessions` +
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
      sessions: { type: "string", default: "16" },
      // Writes a CPU profile of Postern's first round to this file (and prints its summary).
      profile: { type: "string" },
      "skip-baseline": { type: "boolean", default: false },
      // Another checkout's Postern (an old build), to compare builds in alternated invocations.
      root: { type: "string" },
    },
  });
  const group = new ProcessGroup();
  const tmp = await Deno.makeTempDir({ prefix: "postern-bench-mx-" });
  try {
    const { figures } = await inboundFigures(group, {
      tmp,
      messages: Number(values.messages),
      rounds: Number(values.rounds),
      sessions: Number(values.sessions),
      profile: values.profile,
      skipBaseline: values["skip-baseline"],
      root: values.root,
    });
    console.log();
    printSummary(figures);
  } finally {
    await group.stopAll();
    await Deno.remove(tmp, { recursive: true }).catch(() => undefined);
  }
}
