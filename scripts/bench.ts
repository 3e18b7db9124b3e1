/**
 * `deno task bench`: Postern's performance figures, each as a ratio to a baseline measured in the same
 * run. The machine is shared and noisy, so every figure is a median of several rounds, baseline and
 * subject rounds are interleaved (the order rotates each round), and everything is warmed up first.
 *
 * 1. `GET /api/account` with a cached Basic login on `postern serve` (default log level; and, for
 *    information, `--log-level debug` with its access log) against a bare `Deno.serve` sending the
 *    same JSON bytes. Target: at least 50%.
 * 2. The same throughput with the per-request cache coherence check on and off (Postern's handler in
 *    scripts/bench/app_server.ts; one process switched between the variants). Target: at most 5%.
 * 3. `/healthz` latency, probed every 2 ms, while 20 cold (Argon2id) logins run, against the same probe
 *    with no logins. Target: p99 under 20 ms.
 *
 * Servers, load generator and probe are separate processes on 127.0.0.1. The exit code is 0 whether the
 * targets pass or not: this is a report. Options: --rounds, --duration-ms, --connections, --login-rounds,
 * --quick, --client fetch (drive the load with Deno's fetch instead of the raw HTTP/1.1 client).
 */
import { parseArgs } from "node:util";
import { loginRounds, LOGINS_PER_ROUND } from "./bench/cold_logins.ts";
import { figures } from "./bench/figures.ts";
import { httpGet, sameBytes } from "./bench/http_client.ts";
import { ProcessGroup, type Server } from "./bench/processes.ts";
import { type Figure, printSummary } from "./bench/report.ts";
import { basic, createLoginAccounts, timeSync } from "./bench/setup_data.ts";
import { type Settings, type Subject, throughputRounds } from "./bench/throughput.ts";

const DOMAIN = "example.org";
const ADMIN_PASSWORD = "bench admin password that is long enough";

function settingsFromArgs(args: string[]): Settings {
  const { values } = parseArgs({
    args,
    options: {
      rounds: { type: "string" },
      "duration-ms": { type: "string" },
      connections: { type: "string", default: "16" },
      "login-rounds": { type: "string" },
      client: { type: "string", default: "raw" },
      quick: { type: "boolean", default: false },
    },
  });
  if (values.client !== "raw" && values.client !== "fetch") throw new Error("--client is raw or fetch");
  return {
    rounds: Number(values.rounds ?? (values.quick ? 2 : 5)),
    durationMs: Number(values["duration-ms"] ?? (values.quick ? 800 : 1500)),
    warmupMs: 300,
    connections: Number(values.connections),
    loginRounds: Number(values["login-rounds"] ?? (values.quick ? 2 : 5)),
    client: values.client,
  };
}

async function main(): Promise<void> {
  const settings = settingsFromArgs(Deno.args);
  const tmp = await Deno.makeTempDir({ prefix: "postern-bench-" });
  const group = new ProcessGroup();
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    cleaned ??= (async () => {
      await group.stopAll();
      await Deno.remove(tmp, { recursive: true }).catch(() => undefined);
    })();
  const onSignal = () => void cleanup().finally(() => Deno.exit(130));
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, onSignal);
  const started = performance.now();
  try {
    const figures = await run(settings, tmp, group);
    console.log("\nSummary (medians of interleaved rounds; ratio = value / baseline)\n");
    printSummary(figures);
    const failed = figures.filter((f) => f.result === "FAIL").length;
    console.log(
      `\n${failed ? `${failed} target(s) FAILED` : "All targets PASSED"} in ${
        ((performance.now() - started) / 1000).toFixed(0)
      } s.`,
    );
  } finally {
    for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.removeSignalListener(signal, onSignal);
    await cleanup();
  }
}

async function run(settings: Settings, tmp: string, group: ProcessGroup): Promise<Figure[]> {
  console.log(
    `Postern benchmark: ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}, ` +
      `${settings.rounds} rounds × ${settings.durationMs} ms, ${settings.connections} connections ` +
      `(${settings.client} client), ${settings.loginRounds} × ${LOGINS_PER_ROUND} cold logins`,
  );
  const dataDir = `${tmp}/data`;
  const env = { POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD };
  const postern = await group.startPostern("postern", {
    dataDir,
    logLevel: "info",
    logPath: `${tmp}/postern-default.log`,
    env,
  });
  let t = performance.now();
  const loginHeaders = await createLoginAccounts(dataDir, {
    count: settings.loginRounds * LOGINS_PER_ROUND,
    domain: DOMAIN,
  });
  console.log(`Created ${loginHeaders.length} accounts in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const syncMicros = await timeSync(dataDir);

  t = performance.now();
  const [posternDebug, app] = await Promise.all([
    group.startPostern("postern-debug", {
      dataDir,
      logLevel: "debug",
      logPath: `${tmp}/postern-debug.log`,
      env,
    }),
    group.startScript("app-sync-toggle", "scripts/bench/app_server.ts", [
      "--data",
      dataDir,
      "--sync",
      "toggle",
    ]),
  ]);
  const adminHeader = basic(`admin@${DOMAIN}`, ADMIN_PASSWORD);
  const body = await getAccount(postern.url, adminHeader);
  await Deno.writeFile(`${tmp}/body.json`, body);
  const bare = await group.startScript("bare", "scripts/bench/bare_server.ts", [
    "--body-file",
    `${tmp}/body.json`,
  ]);
  console.log(`Started 4 servers in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  for (const server of [posternDebug, app, bare]) {
    const other = await getAccount(server.url, adminHeader);
    if (!sameBytes(other, body)) console.log(`WARNING: ${server.name} answers different bytes than postern`);
  }

  const subjects: Subject[] = [
    { key: "bare", label: "bare Deno.serve, same JSON", server: bare, results: [] },
    { key: "postern", label: "postern serve (default log level, info)", server: postern, results: [] },
    {
      key: "debug",
      label: "postern serve --log-level debug (access log)",
      server: posternDebug,
      results: [],
    },
    { key: "on", label: "app_server, sync on", server: app, results: [], prepare: () => toggle(app, "on") },
    {
      key: "off",
      label: "app_server, sync off",
      server: app,
      results: [],
      prepare: () => toggle(app, "off"),
    },
  ];
  await throughputRounds(settings, group, subjects, adminHeader);
  const probes = await loginRounds(settings, { tmp, group, server: postern, loginHeaders });
  const accessLog = await accessLogCompleteness(posternDebug);
  return figures(subjects, probes, { syncMicros, accessLog });
}

/**
 * Access log lines for `/api/account` in the debug-level server's log, against the requests its
 * metrics counted: every request must have its line.
 */
async function accessLogCompleteness(server: Server): Promise<{ lines: number; requests: number }> {
  await new Promise((r) => setTimeout(r, 300)); // let the sink drain
  const metrics = new TextDecoder().decode(await httpGet(new URL("/metrics", server.url), {}));
  let requests = 0;
  for (
    const match of metrics.matchAll(
      /^postern_http_requests_total\{[^}]*route="\/api\/account"[^}]*\} (\d+)$/gm,
    )
  ) {
    requests += Number(match[1]);
  }
  const log = new TextDecoder().decode(await Deno.readFile(server.logPath!));
  const lines = log.split('"path":"/api/account"').length - 1;
  return { lines, requests };
}

/** Switches the shared app server's coherence check on or off. */
async function toggle(server: Server, state: "on" | "off"): Promise<void> {
  await httpGet(new URL(`/__bench/sync/${state}`, server.url), {});
}

/** The body of `GET /api/account` with `authorization`, which must answer 200. */
function getAccount(base: string, authorization: string): Promise<Uint8Array> {
  return httpGet(new URL("/api/account", base), { authorization });
}

if (import.meta.main) await main();
