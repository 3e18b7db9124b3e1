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
 *   deno run -A scripts/bench/import_rounds.ts [--messages 6000] [--rounds 6] [--profile PORT]
 *
 * Standalone it starts its own server on a new data directory; `--profile PORT` starts it with the
 * inspector on PORT and prints where the main thread's time went (scripts/bench/cpu_profile.ts).
 */
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
import { httpRequest, RawConnection } from "./http_client.ts";
import { ProcessGroup, type Server } from "./processes.ts";
import { median } from "./report.ts";
import { basic, bootstrapData } from "./setup_data.ts";

const CORE = "urn:ietf:params:jmap:core";
const MAIL = "urn:ietf:params:jmap:mail";
/** Messages per Email/import. */
export const IMPORT_BATCH = 50;
/** Uploads at once: the session's maxConcurrentUpload. */
export const UPLOADERS = 4;

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

/**
 * Uploads and imports `count` messages made by `message(i)` into the Inbox in `rounds` rounds; the
 * messages are made before each round's clock starts, since making them is not the server's work.
 */
export async function importRounds(
  server: Server,
  options: {
    auth: string;
    accountId: string;
    inbox: string;
    count: number;
    rounds: number;
    message: (i: number) => Uint8Array<ArrayBuffer>;
    log?: (line: string) => void;
  },
): Promise<ImportRounds> {
  const result: ImportRounds = { rates: [], processUs: [], mainUs: [] };
  const perRound = Math.ceil(options.count / options.rounds);
  const connections = await Promise.all(
    Array.from({ length: UPLOADERS }, () => RawConnection.open(new URL(server.url))),
  );
  try {
    for (let round = 0; round < options.rounds; round++) {
      const from = round * perRound;
      const to = Math.min(options.count, from + perRound);
      if (to <= from) break;
      const messages = Array.from({ length: to - from }, (_, k) => options.message(from + k));
      const process0 = cpuSeconds(`/proc/${server.pid}/stat`);
      const main0 = cpuSeconds(`/proc/${server.pid}/task/${server.pid}/stat`);
      const started = performance.now();
      let next = 0;
      await Promise.all(connections.map(async (connection) => {
        for (;;) {
          const start = next;
          if (start >= messages.length) return;
          next = Math.min(messages.length, start + IMPORT_BATCH);
          await importBatch(connection, server, options, messages.slice(start, next), from + start);
        }
      }));
      const seconds = (performance.now() - started) / 1000;
      const n = to - from;
      result.rates.push(n / seconds);
      result.processUs.push((cpuSeconds(`/proc/${server.pid}/stat`) - process0) * 1e6 / n);
      result.mainUs.push((cpuSeconds(`/proc/${server.pid}/task/${server.pid}/stat`) - main0) * 1e6 / n);
      options.log?.(
        `  round ${round + 1}: ${Math.round(n / seconds).toLocaleString("en-US")} msg/s, server CPU ${
          result.processUs.at(-1)!.toFixed(0)
        } µs/msg (main thread ${result.mainUs.at(-1)!.toFixed(0)})`,
      );
    }
  } finally {
    for (const connection of connections) connection.close();
  }
  return result;
}

/** Uploads one batch, one message at a time, then imports it with one Email/import. */
async function importBatch(
  connection: RawConnection,
  server: Server,
  options: { auth: string; accountId: string; inbox: string },
  messages: Uint8Array<ArrayBuffer>[],
  first: number,
): Promise<void> {
  const uploadUrl = new URL(`/jmap/upload/${options.accountId}/`, server.url);
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
      new URL("/jmap", server.url),
      { authorization: options.auth, "content-type": "application/json" },
      body,
    ),
  );
  const [[name, result]] = JSON.parse(decoder.decode(answer.body)).methodResponses;
  if (answer.status !== 200 || name !== "Email/import" || result.notCreated) {
    throw new Error(`Email/import failed: ${JSON.stringify(result).slice(0, 500)}`);
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "6000" },
      rounds: { type: "string", default: "6" },
      profile: { type: "string" },
    },
  });
  const tmp = await Deno.makeTempDir({ prefix: "postern-import-bench-" });
  const group = new ProcessGroup();
  try {
    const dataDir = `${tmp}/data`;
    await bootstrapData(dataDir, { domain: DOMAIN, adminPassword: ADMIN_PASSWORD });
    await withServices(dataDir, async (services) => {
      const domain = await services.domains.getByName(DOMAIN);
      await services.accounts.create({ type: "User", name: USER, domainId: domain!.id, password: PASSWORD });
    });
    const server = await group.startPostern("postern-import", {
      dataDir,
      logLevel: "warning",
      logPath: `${tmp}/server.log`,
      env: { POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD },
      denoFlags: values.profile ? [`--inspect=127.0.0.1:${values.profile}`] : [],
    });
    const auth = basic(`${USER}@${DOMAIN}`, PASSWORD);
    const { accountId, role } = await mailAccount(server.url, auth);
    const inbox = role("inbox");
    const profiler = values.profile ? await CpuProfiler.start(Number(values.profile)) : undefined;
    const rounds = await importRounds(server, {
      auth,
      accountId,
      inbox,
      count: Number(values.messages),
      rounds: Number(values.rounds),
      message: generatedMessage,
      log: console.log,
    });
    if (profiler) {
      const profile = await profiler.stop();
      await Deno.writeTextFile(`import-${Date.now()}.cpuprofile`, JSON.stringify(profile));
      console.log(summarize(profile, 40));
    }
    const m = importMedians(rounds);
    console.log(
      `median of ${rounds.rates.length} rounds: ${
        Math.round(m.rate).toLocaleString("en-US")
      } msg/s, server CPU ${m.processUs.toFixed(0)} µs/msg, main thread ${m.mainUs.toFixed(0)} µs/msg (load ${
        Deno.loadavg().map((l) => l.toFixed(1)).join(" ")
      })`,
    );
  } finally {
    await group.stopAll();
    await Deno.remove(tmp, { recursive: true }).catch(() => undefined);
  }
}
