/**
 * The outbound queue figures (issue 23: ≥ 1,000 msg/s and ≥ 1× Postfix; enqueue ≤ 2 ms p50).
 *
 * 19. Queue drain: 10,000 queued messages of 10 KB to 100 recipient domains, every domain relayed
 *     (the Outbound settings' relay table) to Postfix's `smtp-sink` on loopback. The queue is filled
 *     while no server runs; msg/s is messages over the time from `postern serve` listening until no
 *     message has a recipient left to deliver (the store's stats, polled from this process). The
 *     baseline is a private Postfix relaying the same domains to the same sink: its queue filled by
 *     smtp-source with delivery held (`defer_transports = smtp`), then released (`postconf -e
 *     defer_transports=`, `postfix reload`, `postqueue -f`) and timed until `postqueue -p` is empty.
 * 20. Enqueue cost: EmailSubmission/set (one message, one remote recipient) through the app's fetch
 *     handler in this process, with nothing delivering meanwhile; p50 of the call's time. These
 *     submissions are part of the 10,000 (the rest are enqueued straight into the store).
 *
 * Needs root (Postfix's master) and the Debian package postfix (smtp-sink, smtp-source); without them
 * the figures say so and are skipped. Rounds are few (the machine may be shared): medians are quoted.
 *
 *   deno run -A scripts/bench/queue_drain.ts [--messages 10000] [--domains 100] [--rounds 1]
 *     [--concurrency N] (the Outbound globalConcurrency; default: the settings' default)
 *     [--profile FILE.cpuprofile]   (a CPU profile of Postern's first round, summarized)
 *     [--skip-baseline]             (Postern alone, to iterate on a profile)
 */
import { parseArgs } from "node:util";
import { resolveConfig } from "../../src/config/mod.ts";
import { createApp, openData } from "../../src/server.ts";
import { openStore } from "../../src/store/mod.ts";
import { cpuSeconds, mainThreadCpuSeconds } from "./cpu.ts";
import { CpuProfiler, summarize } from "./cpu_profile.ts";
import { canRunPostfix } from "./postfix.ts";
import { postfixRound } from "./queue_postfix.ts";
import { ProcessGroup } from "./processes.ts";
import { type Figure, median, ms, printSummary, quantile } from "./report.ts";
import { bootstrapData } from "./setup_data.ts";

const DOMAIN = "example.org";
const ADMIN_PASSWORD = "bench admin password that is long enough";
const BODY_BYTES = 10_240;
const SUBMISSIONS = 500;
const DRAIN_TIMEOUT_MS = 900_000;

/** What the queue rounds measured. */
export interface QueueMeasurements {
  postern: number[];
  baseline: number[];
  enqueueMs: number[];
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

const domainName = (i: number) => `d${String(i).padStart(3, "0")}.test`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A message of about 10 KB. */
function message(i: number): Uint8Array {
  const head = `From: bench@${DOMAIN}\r\nTo: rcpt@${domainName(0)}\r\nSubject: queue bench ${i}\r\n` +
    `Message-ID: <q${i}@${DOMAIN}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n`;
  const line = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab\r\n";
  return new TextEncoder().encode(head + line.repeat(Math.ceil((BODY_BYTES - head.length) / line.length)));
}

/**
 * Sets the relays, times SUBMISSIONS EmailSubmission/set calls in-process and enqueues the rest of
 * `messages` straight into the store; the calls' times in ms.
 */
async function fillPostern(
  dataDir: string,
  options: { messages: number; domains: number; sinkPort: number; concurrency?: number },
): Promise<number[]> {
  const config = resolveConfig({ data: dataDir }, Deno.env.toObject());
  const { services } = await openData(config);
  const app = createApp(config, services, { accessLog: false });
  try {
    const relays = Array.from({ length: options.domains }, (_, i) => ({
      domain: domainName(i),
      host: "127.0.0.1",
      port: options.sinkPort,
      security: "none",
    }));
    // The defaults of the Outbound settings unless --concurrency asks for more (globalConcurrency;
    // perDomainConcurrency a tenth of it, at least 4).
    const caps = options.concurrency
      ? {
        globalConcurrency: options.concurrency,
        perDomainConcurrency: Math.max(4, Math.ceil(options.concurrency / 10)),
      }
      : {};
    await services.objects.update("outbound", "singleton", { route: "mx", relays, ...caps }, "system");
    const domain = await services.domains.getByName(DOMAIN);
    const user = await services.accounts.create({ type: "User", name: "bench", domainId: domain!.id });
    const key = await services.accessKeys.create("ApiKey", user.id, { description: "queue bench" });
    const jmap = async (calls: unknown[]) => {
      const response = await app.handler(
        new Request("http://127.0.0.1:8080/jmap", {
          method: "POST",
          headers: { authorization: `Bearer ${key.secret}`, "content-type": "application/json" },
          body: JSON.stringify({
            using: [
              "urn:ietf:params:jmap:core",
              "urn:ietf:params:jmap:mail",
              "urn:ietf:params:jmap:submission",
            ],
            methodCalls: calls,
          }),
        }),
        { remoteAddr: { hostname: "127.0.0.1", port: 40000, transport: "tcp" } } as Deno.ServeHandlerInfo,
      );
      const body = await response.json();
      const [[name, result]] = body.methodResponses;
      if (name === "error") throw new Error(JSON.stringify(result));
      return result;
    };
    const session = await (await app.handler(
      new Request("http://127.0.0.1:8080/jmap/session", {
        headers: { authorization: `Bearer ${key.secret}` },
      }),
      { remoteAddr: { hostname: "127.0.0.1", port: 40000, transport: "tcp" } } as Deno.ServeHandlerInfo,
    )).json();
    const account = session.primaryAccounts["urn:ietf:params:jmap:mail"] as string;
    const identity = ((await jmap([["Identity/get", { accountId: account, ids: null }, "0"]])).list as {
      id: string;
    }[])[0];
    const mailboxes = (await jmap([["Mailbox/get", { accountId: account, ids: null }, "0"]])).list as {
      id: string;
      role: string | null;
    }[];
    const drafts = mailboxes.find((m) => m.role === "drafts")!.id;
    const text = new TextDecoder().decode(message(0)).split("\r\n\r\n")[1];
    const times: number[] = [];
    const submissions = Math.min(SUBMISSIONS, options.messages);
    for (let i = 0; i < submissions; i++) {
      const created = await jmap([["Email/set", {
        accountId: account,
        create: {
          d: {
            mailboxIds: { [drafts]: true },
            keywords: { $draft: true },
            from: [{ name: null, email: `bench@${DOMAIN}` }],
            to: [{ name: null, email: `rcpt@${domainName(i % options.domains)}` }],
            subject: `queue bench ${i}`,
            bodyValues: { t: { value: text } },
            textBody: [{ partId: "t" }],
          },
        },
      }, "0"]]);
      const emailId = (created.created as Record<string, { id: string }>).d.id;
      const started = performance.now();
      const sent = await jmap([["EmailSubmission/set", {
        accountId: account,
        create: { s: { identityId: identity.id, emailId } },
      }, "0"]]);
      times.push(performance.now() - started);
      if (!sent.created) throw new Error(`EmailSubmission/set refused: ${JSON.stringify(sent)}`);
    }
    await services.store.transaction(async () => {
      for (let i = submissions; i < options.messages; i++) {
        await services.store.queue.enqueue({
          accountId: user.id,
          submissionId: null,
          kind: "submission",
          mailFrom: `bench@${DOMAIN}`,
          message: message(i),
          recipients: [`rcpt@${domainName(i % options.domains)}`],
          createdAt: Date.now(),
        });
      }
    });
    return times;
  } finally {
    await app.close();
    await services.close();
  }
}

/** Messages of the queue with a recipient still to deliver (read from the database file). */
function activeMessages(store: ReturnType<typeof openStore>): Promise<number> {
  return store.queue.stats().then((s) => s.activeMessages);
}

/** Starts smtp-sink on `port` (accepting everything, as fast as it can). */
function startSink(port: number): Deno.ChildProcess {
  return new Deno.Command("/usr/sbin/smtp-sink", {
    args: ["-u", "postfix", `127.0.0.1:${port}`, "512"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** One Postern round on a freshly filled data directory; msg/s and the enqueue times. */
async function posternRound(
  group: ProcessGroup,
  tmp: string,
  options: {
    messages: number;
    domains: number;
    sinkPort: number;
    round: number;
    concurrency?: number;
    profile?: string;
  },
): Promise<{ rate: number; enqueueMs: number[] }> {
  const dataDir = `${tmp}/queue-data-${options.round}`;
  await bootstrapData(dataDir, { domain: DOMAIN, adminPassword: ADMIN_PASSWORD });
  const enqueueMs = await fillPostern(dataDir, options);
  const store = openStore(`${dataDir}/postern.db`);
  try {
    if (await activeMessages(store) !== options.messages) {
      throw new Error(`The queue holds ${await activeMessages(store)} messages, not ${options.messages}`);
    }
    const inspectPort = options.profile ? freePort() : undefined;
    const server = await group.startPostern(`postern-queue-${options.round}`, {
      dataDir,
      logLevel: "warning",
      logPath: `${tmp}/queue-${options.round}.log`,
      env: { POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD },
      denoFlags: inspectPort ? [`--inspect=127.0.0.1:${inspectPort}`] : [],
    });
    // The worker starts draining as the server starts: the profile misses its first moments.
    const profiler = inspectPort ? await CpuProfiler.start(inspectPort) : undefined;
    const started = performance.now();
    const cpu = { all: cpuSeconds(server.pid) ?? NaN, main: mainThreadCpuSeconds(server.pid) ?? NaN };
    try {
      while (await activeMessages(store) > 0) {
        if (performance.now() - started > DRAIN_TIMEOUT_MS) {
          throw new Error("Postern did not drain its queue");
        }
        await sleep(50);
      }
      const seconds = (performance.now() - started) / 1000;
      const all = (cpuSeconds(server.pid) ?? NaN) - cpu.all;
      const main = (mainThreadCpuSeconds(server.pid) ?? NaN) - cpu.main;
      // CPU per message says what the server costs even when a busy machine gives it only part of a core.
      console.log(
        `    Postern used ${(100 * all / seconds).toFixed(0)}% of a core (${
          (1000 * all / options.messages).toFixed(3)
        } ms CPU per message, ${(1000 * main / options.messages).toFixed(3)} ms of it on the main thread)` +
          ` (load average ${Deno.loadavg()[0].toFixed(2)})`,
      );
      if (profiler) {
        const recorded = await profiler.stop();
        await Deno.writeTextFile(options.profile!, JSON.stringify(recorded));
        console.log(summarize(recorded));
      }
    } finally {
      await group.stopOne(server);
    }
    const elapsed = (performance.now() - started) / 1000;
    const stats = await store.queue.stats();
    if (stats.recipients.delivered < options.messages) {
      throw new Error(
        `Postern delivered ${stats.recipients.delivered} of ${options.messages}: ${JSON.stringify(stats)}`,
      );
    }
    return { rate: options.messages / elapsed, enqueueMs };
  } finally {
    store.close();
  }
}

/** Runs figures 19 and 20. */
export async function queueFigures(
  group: ProcessGroup,
  options: {
    tmp: string;
    messages: number;
    domains: number;
    rounds: number;
    concurrency?: number;
    /** Writes a CPU profile of Postern's first round here. */
    profile?: string;
    /** Postern alone (when profiling): no Postfix rounds, no ratio. */
    skipBaseline?: boolean;
  },
): Promise<{ figures: Figure[]; measured?: QueueMeasurements }> {
  if (!(await canRunPostfix())) {
    console.log("\nOutbound queue: skipped (needs root and the package postfix)");
    const skipped = { value: "skipped", baseline: "-", ratio: "-", result: "info" as const };
    return {
      figures: [
        { figure: "19. outbound queue drain msg/s (smtp-sink)", target: "≥ 1,000 msg/s, ≥ 1×", ...skipped },
        { figure: "20. enqueue per EmailSubmission/set", target: "p50 ≤ 2 ms", ...skipped },
      ],
    };
  }
  const { tmp, messages, domains, rounds } = options;
  await Deno.chmod(tmp, 0o711);
  const sinkPort = freePort();
  const sink = startSink(sinkPort);
  const m: QueueMeasurements = { postern: [], baseline: [], enqueueMs: [] };
  try {
    await sleep(300);
    console.log(`\nOutbound queue: ${rounds} round(s) × ${messages} messages of 10 KB to ${domains} domains`);
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ["postern", "baseline"] : ["baseline", "postern"];
      const line: string[] = [];
      for (const who of options.skipBaseline ? ["postern"] : order) {
        const settings = { messages, domains, sinkPort, round, concurrency: options.concurrency };
        if (who === "postern") {
          const profile = m.postern.length === 0 ? options.profile : undefined;
          const { rate, enqueueMs } = await posternRound(group, tmp, { ...settings, profile });
          m.postern.push(rate);
          m.enqueueMs.push(...enqueueMs);
          line.push(
            `postern ${rate.toFixed(0)} msg/s (enqueue p50 ${ms(quantile(enqueueMs, 0.5))}, p99 ${
              ms(quantile(enqueueMs, 0.99))
            })`,
          );
        } else {
          const rate = await postfixRound(group, tmp, {
            ...settings,
            bodyBytes: BODY_BYTES,
            domainName,
            freePort,
            timeoutMs: DRAIN_TIMEOUT_MS,
          });
          m.baseline.push(rate);
          line.push(`postfix ${rate.toFixed(0)} msg/s`);
        }
      }
      console.log(`  round ${round + 1}: ${line.join(", ")} (load average ${Deno.loadavg()[0].toFixed(2)})`);
    }
  } finally {
    try {
      sink.kill("SIGTERM");
    } catch { /* already gone */ }
    await sink.status;
  }
  const value = median(m.postern);
  const baseline = median(m.baseline);
  const ratio = value / baseline;
  const p50 = quantile(m.enqueueMs, 0.5);
  return {
    figures: [
      {
        figure: `19. outbound queue drain, ${messages} × 10 KB to ${domains} domains → smtp-sink`,
        value: `${Math.round(value).toLocaleString("en-US")} msg/s`,
        baseline: `${Math.round(baseline).toLocaleString("en-US")} msg/s Postfix queue`,
        ratio: options.skipBaseline ? "-" : `${ratio.toFixed(2)}×`,
        target: "≥ 1,000 msg/s, ≥ 1×",
        result: options.skipBaseline ? "info" : value >= 1000 && ratio >= 1 ? "PASS" : "FAIL",
      },
      {
        figure: `20. enqueue per EmailSubmission/set, in-process (p90 ${ms(quantile(m.enqueueMs, 0.9))})`,
        value: `${ms(p50)} p50`,
        baseline: "-",
        ratio: "-",
        target: "p50 ≤ 2 ms",
        result: p50 <= 2 ? "PASS" : "FAIL",
      },
    ],
    measured: m,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "10000" },
      domains: { type: "string", default: "100" },
      rounds: { type: "string", default: "1" },
      concurrency: { type: "string" },
      profile: { type: "string" },
      "skip-baseline": { type: "boolean", default: false },
    },
  });
  const group = new ProcessGroup();
  const tmp = await Deno.makeTempDir({ prefix: "postern-bench-queue-" });
  try {
    const { figures } = await queueFigures(group, {
      tmp,
      messages: Number(values.messages),
      domains: Number(values.domains),
      rounds: Number(values.rounds),
      concurrency: values.concurrency ? Number(values.concurrency) : undefined,
      profile: values.profile,
      skipBaseline: values["skip-baseline"],
    });
    console.log();
    printSummary(figures);
  } finally {
    await group.stopAll();
    await Deno.remove(tmp, { recursive: true }).catch(() => undefined);
  }
}
