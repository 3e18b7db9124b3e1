/**
 * Figure 11's measurement: upload and import generated messages over HTTP in rounds, with the raw
 * keep-alive client (fetch would set the pace on two cores, see http_client.ts), four connections at
 * once (the session's maxConcurrentUpload), 50 per Email/import.
 *
 * One import timed as a whole swings with the neighbours on a shared machine, so the messages go in
 * as several rounds and the figure is the median round. Each round also reads the server's CPU time
 * from /proc (the whole process, and its main thread alone, where the request handling and SQLite
 * run): CPU microseconds per message is what a change to the server moves, whatever the load.
 *
 *   deno run -A scripts/bench/import_rounds.ts [--messages 6000] [--rounds 6] [--processes N]
 *     [--old DIR] [--profile PORT] [--probe]
 *
 * `--probe` also asks each server for /healthz every 2 ms on a connection of its own during each round
 * and prints the latencies' p50 and p99: how long any other request waits while an import runs.
 *
 * Standalone it starts its own server on a new data directory; `--profile PORT` starts it with the
 * inspector on PORT and prints where the main thread's time went (scripts/bench/cpu_profile.ts).
 * `--old DIR` also starts the Postern of another checkout (a worktree of main, say) on a data
 * directory of its own, and the rounds alternate between the two (this build first), so both see the
 * same neighbours: its figure is then the ratio of the medians. With `--processes N` the server CPU
 * counts every serving process (the first one's main thread stays "main thread"); `--old-processes N`
 * gives the old build another count (`--old . --old-processes 1` compares N processes with one).
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { CpuProfiler, summarize } from "./cpu_profile.ts";
import {
  ADMIN_PASSWORD,
  DOMAIN,
  generatedMessage,
  mailAccount,
  PASSWORD,
  USER,
  withServices,
} from "./email_store.ts";
import { getRequest, httpRequest, RawConnection } from "./http_client.ts";
import { ProcessGroup, type Server } from "./processes.ts";
import { median, quantile } from "./report.ts";
import { basic, bootstrapData } from "./setup_data.ts";

const CORE = "urn:ietf:params:jmap:core";
const MAIL = "urn:ietf:params:jmap:mail";
/**
 * Messages per Email/import: a migration tool's batch, kept well under the session's maxObjectsInSet
 * (500) and with each message uploaded on its own first, as RFC 8621 §4.8 has clients do (there is no
 * bulk upload in JMAP core).
 */
export const IMPORT_BATCH = 50;
/** Uploads at once: the session's maxConcurrentUpload. */
export const UPLOADERS = 4;
/** Messages imported before the measured rounds, per server. */
const WARM_UP = 200;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What the rounds measured, one entry per round. */
export interface ImportRounds {
  /** Messages per second of wall time. */
  rates: number[];
  /** Server CPU (all threads) in microseconds per message. */
  processUs: number[];
  /** CPU of the server's main thread in microseconds per message. */
  mainUs: number[];
}

/** The median of each of the rounds' measures. */
export function importMedians(rounds: ImportRounds): { rate: number; processUs: number; mainUs: number } {
  return { rate: median(rounds.rates), processUs: median(rounds.processUs), mainUs: median(rounds.mainUs) };
}

/** CPU seconds (user + system) of a /proc stat file: a process, or one of its threads. */
function cpuSeconds(statPath: string): number {
  const stat = Deno.readTextFileSync(statPath);
  // The command name may hold spaces: the fields that follow it start after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticksPerSecond = 100;
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** The pids of `pid`'s child processes (the serving processes that `--processes N` starts). */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    const text = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`).trim();
    if (text) found.push(...text.split(" ").map(Number));
  }
  return found;
}

/** CPU seconds of a server: its process and every serving child, and its first process's main thread. */
function serverCpu(pid: number): { process: number; main: number } {
  let process = cpuSeconds(`/proc/${pid}/stat`);
  for (const child of childrenOf(pid)) process += cpuSeconds(`/proc/${child}/stat`);
  return { process, main: cpuSeconds(`/proc/${pid}/task/${pid}/stat`) };
}

/** Where the rounds import: a running server, the account and its Inbox. */
export interface ImportTarget {
  server: Server;
  auth: string;
  accountId: string;
  inbox: string;
}

/** The keep-alive connections of one target; `round` imports a list of messages over them and measures it. */
export async function importRunner(
  target: ImportTarget,
  options: { probe?: boolean } = {},
): Promise<{ round(messages: Uint8Array<ArrayBuffer>[], first: number): Promise<Round>; close(): void }> {
  const { server } = target;
  const connections = await Promise.all(
    Array.from({ length: UPLOADERS }, () => RawConnection.open(new URL(server.url))),
  );
  const healthz = new URL("/healthz", server.url);
  const probe = options.probe ? await RawConnection.open(healthz) : undefined;
  return {
    async round(messages, first) {
      const cpu0 = serverCpu(server.pid);
      const client0 = process.cpuUsage();
      const started = performance.now();
      let next = 0;
      let importing = true;
      const probing = probe && probeHealthz(probe, getRequest(healthz), () => importing);
      await Promise.all(connections.map(async (connection) => {
        for (;;) {
          const start = next;
          if (start >= messages.length) return;
          next = Math.min(messages.length, start + IMPORT_BATCH);
          await importBatch(connection, target, messages.slice(start, next), first + start);
        }
      }));
      const seconds = (performance.now() - started) / 1000;
      importing = false;
      const cpu1 = serverCpu(server.pid);
      const client = process.cpuUsage(client0);
      const samples = await probing;
      const n = messages.length;
      return {
        rate: n / seconds,
        processUs: (cpu1.process - cpu0.process) * 1e6 / n,
        mainUs: (cpu1.main - cpu0.main) * 1e6 / n,
        clientUs: (client.user + client.system) / n,
        ...(samples?.length
          ? { healthzP50: quantile(samples, 0.5), healthzP99: quantile(samples, 0.99) }
          : {}),
      };
    },
    close() {
      for (const connection of connections) connection.close();
      probe?.close();
    },
  };
}

/**
 * `GET /healthz` one after another on its own connection, a new one every {@link PROBE_INTERVAL_MS},
 * while `running()`: the latencies (ms), i.e. how long any other request waits for the event loop
 * while the import runs. The probe shares this process's event loop with the import's client, whose
 * work is the same for every build compared.
 */
async function probeHealthz(connection: RawConnection, request: Uint8Array, running: () => boolean) {
  const samples: number[] = [];
  while (running()) {
    const at = performance.now();
    const answer = await connection.send(request);
    if (answer.status !== 200) throw new Error(`/healthz answered ${answer.status}`);
    samples.push(performance.now() - at);
    const wait = PROBE_INTERVAL_MS - (performance.now() - at);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  return samples;
}

/** How often the `--probe` of the import asks for /healthz (as scripts/bench/login_probe.ts). */
const PROBE_INTERVAL_MS = 2;

/** One round's measures. */
export interface Round {
  rate: number;
  processUs: number;
  mainUs: number;
  /** CPU of this client (the bench process) in microseconds per message: it shares the cores. */
  clientUs?: number;
  /** With `--probe`: /healthz latency (ms) during the round, p50 and p99. */
  healthzP50?: number;
  healthzP99?: number;
}

/** A round as one line. */
export function roundLine(round: Round): string {
  return `${Math.round(round.rate).toLocaleString("en-US")} msg/s, server CPU ${
    round.processUs.toFixed(0)
  } µs/msg (main thread ${round.mainUs.toFixed(0)})${
    round.clientUs === undefined ? "" : `, client CPU ${round.clientUs.toFixed(0)} µs/msg`
  }${
    round.healthzP99 === undefined
      ? ""
      : `, /healthz p50 ${round.healthzP50!.toFixed(2)} p99 ${round.healthzP99.toFixed(2)} ms`
  }`;
}

/**
 * Uploads and imports `count` messages made by `message(i)` into the Inbox in `rounds` rounds; the
 * messages are made before each round's clock starts, since making them is not the server's work.
 */
export async function importRounds(
  server: Server,
  options: Omit<ImportTarget, "server"> & {
    count: number;
    rounds: number;
    message: (i: number) => Uint8Array<ArrayBuffer>;
    log?: (line: string) => void;
  },
): Promise<ImportRounds> {
  const result: ImportRounds = { rates: [], processUs: [], mainUs: [] };
  // The first WARM_UP messages go in unmeasured (the server's JIT warms up on them); the rounds
  // share the rest, so `count` messages are imported in all.
  const warmUp = Math.min(WARM_UP, Math.floor(options.count / 10));
  const perRound = Math.ceil((options.count - warmUp) / options.rounds);
  const runner = await importRunner({ server, ...options });
  try {
    await runner.round(Array.from({ length: warmUp }, (_, k) => options.message(k)), 0);
    for (let round = 0; round < options.rounds; round++) {
      const from = warmUp + round * perRound;
      const to = Math.min(options.count, from + perRound);
      if (to <= from) break;
      const messages = Array.from({ length: to - from }, (_, k) => options.message(from + k));
      const measured = await runner.round(messages, from);
      result.rates.push(measured.rate);
      result.processUs.push(measured.processUs);
      result.mainUs.push(measured.mainUs);
      options.log?.(`  round ${round + 1}: ${roundLine(measured)}`);
    }
  } finally {
    runner.close();
  }
  return result;
}

/** Uploads one batch, one message at a time, then imports it with one Email/import. */
async function importBatch(
  connection: RawConnection,
  options: ImportTarget,
  messages: Uint8Array<ArrayBuffer>[],
  first: number,
): Promise<void> {
  const uploadUrl = new URL(`/jmap/upload/${options.accountId}/`, options.server.url);
  const emails: Record<string, unknown> = {};
  for (const [k, message] of messages.entries()) {
    const answer = await connection.send(
      httpRequest(
        "POST",
        uploadUrl,
        { authorization: options.auth, "content-type": "message/rfc822" },
        message,
      ),
    );
    const uploaded = JSON.parse(decoder.decode(answer.body));
    if (answer.status !== 201) {
      throw new Error(`upload answered ${answer.status}: ${JSON.stringify(uploaded)}`);
    }
    emails[`m${first + k}`] = { blobId: uploaded.blobId, mailboxIds: { [options.inbox]: true } };
  }
  const body = encoder.encode(JSON.stringify({
    using: [CORE, MAIL],
    methodCalls: [["Email/import", { accountId: options.accountId, emails }, "i"]],
  }));
  const answer = await connection.send(
    httpRequest(
      "POST",
      new URL("/jmap", options.server.url),
      { authorization: options.auth, "content-type": "application/json" },
      body,
    ),
  );
  const [[name, result]] = JSON.parse(decoder.decode(answer.body)).methodResponses;
  if (answer.status !== 200 || name !== "Email/import" || result.notCreated) {
    throw new Error(`Email/import failed: ${JSON.stringify(result).slice(0, 500)}`);
  }
}

/** A new data directory with the bench user, made by this checkout's code. */
async function benchUser(dataDir: string): Promise<void> {
  await bootstrapData(dataDir, { domain: DOMAIN, adminPassword: ADMIN_PASSWORD });
  await withServices(dataDir, async (services) => {
    const domain = await services.domains.getByName(DOMAIN);
    await services.accounts.create({ type: "User", name: USER, domainId: domain!.id, password: PASSWORD });
  });
}

/**
 * {@link benchUser} made by the code of the checkout at `root`, in a process of its own: a database
 * of this checkout's schema would be refused by an older build (a migration it does not know).
 */
async function benchUserIn(root: string, dataDir: string): Promise<void> {
  const code = `
    import { bootstrapData } from "./scripts/bench/setup_data.ts";
    import { withServices } from "./scripts/bench/email_store.ts";
    const dataDir = ${JSON.stringify(dataDir)};
    await bootstrapData(dataDir, { domain: ${JSON.stringify(DOMAIN)}, adminPassword: ${
    JSON.stringify(ADMIN_PASSWORD)
  } });
    await withServices(dataDir, async (services) => {
      const domain = await services.domains.getByName(${JSON.stringify(DOMAIN)});
      await services.accounts.create({
        type: "User", name: ${JSON.stringify(USER)}, domainId: domain.id, password: ${
    JSON.stringify(PASSWORD)
  },
      });
    });`;
  const made = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!made.success) {
    throw new Error(
      `Cannot make the bench user with ${root}: ${new TextDecoder().decode(made.stderr).slice(-2000)}`,
    );
  }
}

/** Starts a Postern (of `root`, or this checkout) on a new data directory with the bench user; its target. */
async function startTarget(
  group: ProcessGroup,
  options: { tmp: string; name: string; root?: string; processes: number; denoFlags?: string[] },
): Promise<ImportTarget> {
  const dataDir = `${options.tmp}/${options.name}`;
  if (options.root) await benchUserIn(options.root, dataDir);
  else await benchUser(dataDir);
  const server = await group.startPostern(options.name, {
    dataDir,
    logLevel: "warning",
    logPath: `${options.tmp}/${options.name}.log`,
    env: { POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD },
    denoFlags: options.denoFlags ?? [],
    root: options.root,
    processes: options.processes,
  });
  const auth = basic(`${USER}@${DOMAIN}`, PASSWORD);
  const { accountId, role } = await mailAccount(server.url, auth);
  return { server, auth, accountId, inbox: role("inbox") };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "6000" },
      rounds: { type: "string", default: "6" },
      processes: { type: "string", default: "1" },
      old: { type: "string" },
      "old-processes": { type: "string" },
      profile: { type: "string" },
      probe: { type: "boolean", default: false },
    },
  });
  const tmp = await Deno.makeTempDir({ prefix: "postern-import-bench-" });
  const group = new ProcessGroup();
  const load = () => Deno.loadavg().map((l) => l.toFixed(1)).join(" ");
  try {
    const processes = Number(values.processes);
    const oldProcesses = Number(values["old-processes"] ?? processes);
    const builds = [{
      label: `this build (${processes} process(es))`,
      root: undefined as string | undefined,
      processes,
    }];
    if (values.old) {
      builds.push({
        label: `old (${values.old}, ${oldProcesses} process(es))`,
        root: values.old,
        processes: oldProcesses,
      });
    }
    const targets: ImportTarget[] = [];
    for (const [i, build] of builds.entries()) {
      targets.push(
        await startTarget(group, {
          tmp,
          name: `postern-import-${i}`,
          root: build.root,
          processes: build.processes,
          denoFlags: values.profile && i === 0 ? [`--inspect=127.0.0.1:${values.profile}`] : [],
        }),
      );
    }
    const runners = await Promise.all(targets.map((target) => importRunner(target, { probe: values.probe })));
    const profiler = values.profile ? await CpuProfiler.start(Number(values.profile)) : undefined;
    const rounds = Number(values.rounds);
    const perRound = Math.ceil(Number(values.messages) / rounds);
    // A first round per build that is not counted: the JIT warms up on it.
    const warmUp = Array.from({ length: WARM_UP }, (_, k) => generatedMessage(1_000_000 + k));
    for (const runner of runners) await runner.round(warmUp, 1_000_000);
    const measured: Round[][] = builds.map(() => []);
    console.log(
      `${
        perRound * rounds
      } messages of ~10 KB per build in ${rounds} rounds, ${UPLOADERS} connections, ${IMPORT_BATCH} per Email/import; load ${load()}`,
    );
    for (let round = 0; round < rounds; round++) {
      const from = round * perRound;
      const messages = Array.from({ length: perRound }, (_, k) => generatedMessage(from + k));
      // The builds take turns to go first (ABBA...): in an A/A run (--old of this same checkout), the
      // build that went first in every round came out ~10% slower per message at load 4-10.
      const order = round % 2 === 0 ? [...runners.keys()] : [...runners.keys()].reverse();
      for (const i of order) {
        const runner = runners[i];
        const result = await runner.round(messages, from);
        measured[i].push(result);
        console.log(`  round ${round + 1}, ${builds[i].label}: ${roundLine(result)}`);
      }
    }
    for (const runner of runners) runner.close();
    if (profiler) {
      const profile = await profiler.stop();
      await Deno.writeTextFile(`import-${Date.now()}.cpuprofile`, JSON.stringify(profile));
      console.log(summarize(profile, 40));
    }
    const medians = measured.map((list) =>
      importMedians({
        rates: list.map((r) => r.rate),
        processUs: list.map((r) => r.processUs),
        mainUs: list.map((r) => r.mainUs),
      })
    );
    for (const [i, m] of medians.entries()) {
      console.log(
        `median of ${rounds} rounds, ${builds[i].label}: ${
          roundLine({
            ...m,
            clientUs: median(measured[i].map((r) => r.clientUs ?? NaN)),
            ...(values.probe
              ? {
                healthzP50: median(measured[i].map((r) => r.healthzP50 ?? NaN)),
                healthzP99: median(measured[i].map((r) => r.healthzP99 ?? NaN)),
              }
              : {}),
          })
        }`,
      );
    }
    if (medians.length === 2) {
      console.log(
        `ratio this/old: rate ${(medians[0].rate / medians[1].rate).toFixed(2)}×, server CPU per message ${
          (medians[0].processUs / medians[1].processUs).toFixed(2)
        }×, main thread ${(medians[0].mainUs / medians[1].mainUs).toFixed(2)}×`,
      );
    }
    console.log(`load ${load()}`);
  } finally {
    await group.stopAll();
    await Deno.remove(tmp, { recursive: true }).catch(() => undefined);
  }
}
