/**
 * The push figures (issue: 1,000 open EventSource connections with one change per second each:
 * server RSS growth under 100 MB and every event delivered within 100 ms p99).
 *
 * 15. 1,000 users, each with an API key and a mailbox of its own, each hold an EventSource
 *     (`types=Mailbox`, Bearer) on `postern serve`. For `--seconds` seconds every user's mailbox is
 *     renamed once a second (the renames spread evenly over each second: 1,000 changes/s), written
 *     in this process through the same services, on the database the server runs on. The latency of
 *     an event is the time from the write's commit to its arrival on that user's stream; every
 *     write must arrive (missing events are counted and fail the figure). p50, p99 and max.
 * 16. The server's RSS with the connections open after the run, against its RSS before they opened;
 *     the baseline is a bare `Deno.serve` (scripts/bench/bare_sse_server.ts) holding as many open
 *     event streams, measured the same way in the same run: what the connections cost Deno itself.
 *
 *   deno run -A scripts/bench/event_source.ts [--connections 1000] [--seconds 10]
 */
import { parseArgs } from "node:util";
import { resolveConfig } from "../../src/config/mod.ts";
import { openData } from "../../src/server.ts";
import type { Services } from "../../src/services.ts";
import { ProcessGroup } from "./processes.ts";
import { type Figure, ms, printSummary, quantile } from "./report.ts";
import { bootstrapData } from "./setup_data.ts";

const DOMAIN = "example.org";
const ADMIN_PASSWORD = "bench admin password that is long enough";

interface Listener {
  accountId: number;
  mailboxId: number;
  auth: string;
  /** performance.now() of the last write not yet heard, or undefined. */
  written?: number;
}

/** The measurements of figures 15 and 16. */
export interface PushMeasurements {
  connections: number;
  writes: number;
  missed: number;
  latencies: number[];
  rssBeforeBytes: number;
  rssAfterBytes: number;
  bareGrowthBytes: number;
}

function rssOf(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

async function withServices<T>(dataDir: string, body: (services: Services) => Promise<T>): Promise<T> {
  const { services } = await openData(resolveConfig({ data: dataDir }, Deno.env.toObject()));
  try {
    return await body(services);
  } finally {
    await services.close();
  }
}

/** Users with an API key and a mailbox each, made in-process in one transaction. */
async function createListeners(services: Services, count: number): Promise<Listener[]> {
  const domain = await services.domains.getByName(DOMAIN);
  const listeners: Listener[] = [];
  await services.store.transaction(async () => {
    for (let i = 0; i < count; i++) {
      const account = await services.accounts.create({
        type: "User",
        name: `push${i}`,
        domainId: domain!.id,
      });
      const key = await services.accessKeys.create("ApiKey", account.id, { description: "push bench" });
      const mailboxId = await services.mailboxes.create(account.id, account.id, { name: "Watched 0" });
      listeners.push({ accountId: account.id, mailboxId, auth: `Bearer ${key.secret}` });
    }
  });
  return listeners;
}

/** Opens the user's stream; `onEvent` gets each `state` event's arrival. Resolves once the response is in. */
async function openStream(
  url: string,
  listener: Listener,
  onEvent: () => void,
  signal: AbortSignal,
): Promise<void> {
  const response = await fetch(`${url}/jmap/eventsource/?types=Mailbox&closeafter=no&ping=0`, {
    headers: { authorization: listener.auth, accept: "text/event-stream" },
    signal,
  });
  if (response.status !== 200 || !response.body) {
    throw new Error(`EventSource answered ${response.status}: ${await response.text()}`);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (event.startsWith("event: state")) onEvent();
        }
      }
    } catch {
      // Aborted at the end of the run.
    }
  })();
}

/** RSS growth of a bare Deno.serve while it holds `count` open event streams. */
async function bareGrowth(group: ProcessGroup, count: number): Promise<number> {
  const bare = await group.startScript("bare-sse", "scripts/bench/bare_sse_server.ts", []);
  const abort = new AbortController();
  try {
    await (await fetch(bare.url, { signal: abort.signal })).body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = rssOf(bare.pid);
    for (let i = 0; i < count; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, count - i) }, () => fetch(bare.url, { signal: abort.signal })),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return rssOf(bare.pid) - before;
  } finally {
    abort.abort();
    await group.stopOne(bare);
  }
}

/** Runs figures 15 and 16 on a server of their own. */
export async function pushFigures(
  group: ProcessGroup,
  options: { tmp: string; connections: number; seconds: number },
): Promise<{ figures: Figure[]; measured: PushMeasurements }> {
  const dataDir = `${options.tmp}/push-data`;
  await bootstrapData(dataDir, { domain: DOMAIN, adminPassword: ADMIN_PASSWORD });
  const listeners = await withServices(dataDir, (services) => createListeners(services, options.connections));
  const server = await group.startPostern("postern-push", {
    dataDir,
    logLevel: "warning",
    logPath: `${options.tmp}/push.log`,
    env: { POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD },
  });
  // Warm the server (the first request loads the caches), then its RSS before the streams.
  await (await fetch(`${server.url}/jmap/session`, { headers: { authorization: listeners[0].auth } })).body
    ?.cancel();
  await new Promise((resolve) => setTimeout(resolve, 500));
  const rssBeforeBytes = rssOf(server.pid);

  const latencies: number[] = [];
  let extra = 0;
  const abort = new AbortController();
  console.log(`\nEventSource: opening ${options.connections.toLocaleString("en-US")} streams`);
  for (let i = 0; i < listeners.length; i += 50) {
    await Promise.all(
      listeners.slice(i, i + 50).map((listener) =>
        openStream(server.url, listener, () => {
          if (listener.written === undefined) {
            extra++;
            return;
          }
          latencies.push(performance.now() - listener.written);
          listener.written = undefined;
        }, abort.signal)
      ),
    );
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const rssOpenBytes = rssOf(server.pid);
  console.log(
    `Server RSS with the streams open, before any change: ${(rssOpenBytes / 1048576).toFixed(0)} MiB`,
  );

  let writes = 0;
  let missed = 0;
  await withServices(dataDir, async (services) => {
    console.log(
      `${options.seconds} s of ${
        options.connections.toLocaleString("en-US")
      } changes per second (one per user)`,
    );
    const start = performance.now();
    const total = options.seconds * listeners.length;
    const spacing = 1000 / listeners.length;
    for (let n = 0; n < total; n++) {
      const due = start + n * spacing;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      const listener = listeners[n % listeners.length];
      // A write whose event has not arrived a second later is missed.
      if (listener.written !== undefined) missed++;
      await services.mailboxes.update(listener.accountId, listener.accountId, listener.mailboxId, {
        name: `Watched ${n}`,
      });
      listener.written = performance.now();
      writes++;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    missed += listeners.filter((l) => l.written !== undefined).length;
  });
  const rssAfterBytes = rssOf(server.pid);
  abort.abort();
  await group.stopOne(server);
  const bareBytes = await bareGrowth(group, options.connections);
  console.log(`A bare Deno.serve holding as many streams grows by ${(bareBytes / 1048576).toFixed(0)} MiB`);

  const p50 = quantile(latencies, 0.5);
  const p99 = quantile(latencies, 0.99);
  const max = quantile(latencies, 1);
  const growth = rssAfterBytes - rssBeforeBytes;
  console.log(
    `${writes} writes, ${latencies.length} events heard, ${missed} missed, ${extra} unexpected; latency p50 ${
      ms(p50)
    }, p99 ${ms(p99)}, max ${ms(max)}`,
  );
  console.log(
    `Server RSS ${(rssBeforeBytes / 1048576).toFixed(0)} MiB before the streams, ${
      (rssAfterBytes / 1048576).toFixed(0)
    } MiB with them open after the run`,
  );
  const mib = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MiB`;
  const label = options.connections.toLocaleString("en-US");
  return {
    figures: [
      {
        figure: `15. EventSource event latency, ${label} streams × 1 change/s (p50 ${ms(p50)}, max ${
          ms(max)
        })`,
        value: `${ms(p99)} p99, ${missed} missed`,
        baseline: "-",
        ratio: "-",
        target: "p99 < 100 ms, none missed",
        result: p99 < 100 && missed === 0 ? "PASS" : "FAIL",
      },
      {
        figure: `16. server RSS growth with ${label} EventSource streams`,
        value: `${mib(growth)} (from ${mib(rssBeforeBytes)})`,
        baseline: `${mib(bareBytes)} bare`,
        ratio: `${(growth / bareBytes).toFixed(2)}×`,
        target: "< 100 MB",
        result: growth < 100_000_000 ? "PASS" : "FAIL",
      },
    ],
    measured: {
      connections: options.connections,
      writes,
      missed,
      latencies,
      rssBeforeBytes,
      rssAfterBytes,
      bareGrowthBytes: bareBytes,
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { connections: { type: "string", default: "1000" }, seconds: { type: "string", default: "10" } },
  });
  const tmp = await Deno.makeTempDir({ prefix: "postern-push-bench-" });
  const group = new ProcessGroup();
  try {
    const { figures } = await pushFigures(group, {
      tmp,
      connections: Number(values.connections),
      seconds: Number(values.seconds),
    });
    console.log();
    printSummary(figures);
  } finally {
    await group.stopAll();
    await Deno.remove(tmp, { recursive: true }).catch(() => undefined);
  }
}
