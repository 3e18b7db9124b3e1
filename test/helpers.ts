/** Shared helpers for integration and end-to-end tests. */
import assert from "node:assert/strict";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { resolveConfig } from "../src/config/mod.ts";
import { bootstrap } from "../src/directory/mod.ts";
import { type App, type AppOptions, createApp, openData } from "../src/server.ts";
import type { Services } from "../src/services.ts";
import "./child_coverage.ts";

/** A strong password accepted by the default policy. */
export const PASSWORD = "correct horse battery staple";
/** The admin password used by test apps. */
export const ADMIN_PASSWORD = "admin password for tests";

/** An in-process app on a temporary data directory, called through its fetch handler. */
export interface TestApp {
  app: App;
  services: Services;
  dataDir: string;
  domainId: string;
  /** Calls the handler as if from `client` (default 127.0.0.1). */
  fetch(path: string, init?: RequestInit & { client?: string }): Promise<Response>;
  close(): Promise<void>;
}

/** Creates a temporary data directory with a bootstrapped admin and an in-process app over it. */
export async function startTestApp(
  options: {
    dataDir?: string;
    env?: Record<string, string>;
    /** Delivers queued mail by MX (the outbound queue's tests script one). */
    outboundTransport?: AppOptions["outboundTransport"];
    /** More options of createApp (e.g. one of several serving processes). */
    app?: Pick<AppOptions, "process" | "siblingMetrics">;
    /** Read workers running Email/query (default none: on the main thread). */
    readWorkers?: number;
  } = {},
): Promise<TestApp> {
  const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "postern-test-" });
  const config = resolveConfig({ data: dataDir }, {
    POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD,
    // The tests' push receivers listen on 127.0.0.1; the refusal of private targets has its own test.
    POSTERN_PUSH_PRIVATE_TARGETS: "allow",
    ...options.env,
  });
  const { services } = await openData(config, {
    hashWorkers: 2,
    outboundTransport: options.outboundTransport,
    readWorkers: options.readWorkers,
  });
  const first = await bootstrap(services, { domain: "example.org", adminPassword: ADMIN_PASSWORD });
  const app = createApp(config, services, { accessLog: false, ...options.app });
  return {
    app,
    services,
    dataDir,
    domainId: first.domain.id,
    fetch(path, init = {}) {
      const { client = "127.0.0.1", ...rest } = init;
      const info = { remoteAddr: { hostname: client, port: 40000, transport: "tcp" as const } };
      return app.handler(new Request(`http://127.0.0.1:8080${path}`, rest), info as Deno.ServeHandlerInfo);
    },
    async close() {
      await app.close();
      if (!options.dataDir) await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
    },
  };
}

/** An Authorization header for Basic credentials (UTF-8). */
export function basic(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return "Basic " + btoa(String.fromCharCode(...bytes));
}

/** Runs the postern CLI in a separate process; returns exit code and output. */
export async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const command = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname, ...args],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  });
  const { code, stdout, stderr } = await command.output();
  return { code, stdout: new TextDecoder().decode(stdout), stderr: new TextDecoder().decode(stderr) };
}

/** Runs `body` with a new temporary directory, removed afterwards. */
export async function withTempDir(prefix: string, body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => undefined);
  }
}

/** Asserts that a failed command printed exactly one line, matching `pattern`, and no stack trace. */
export function assertOneLine(result: { stderr: string }, pattern: RegExp): void {
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(result.stderr, /^\s+at /m);
}

/** A real server in a separate process on a free loopback port. */
export interface ServerProcess {
  url: string;
  /** The process id of `postern serve` (the supervisor, with --processes above 1). */
  pid: number;
  dataDir: string;
  /** What the server printed on stderr up to listening. */
  startup: string;
  /** Everything the server printed on stderr so far (its log at the chosen level). */
  stderr(): string;
  /** The exit code after stop(). */
  exitCode?: number;
  /** Sends `signal` to the server process (a process that already exited is left alone). */
  kill(signal: Deno.Signal): void;
  /** Settles when the process has exited. */
  status: Promise<Deno.CommandStatus>;
  stop(): Promise<void>;
}

/**
 * Starts `postern serve` on 127.0.0.1 with a free port (and any extra `args`) and waits until it listens;
 * `entry` runs another build of main.ts (the bundle) instead of the source.
 */
export async function startServerProcess(
  dataDir: string,
  env: Record<string, string> = {},
  options: { openFileLimit?: number; args?: string[]; entry?: string; logLevel?: string } = {},
): Promise<ServerProcess> {
  const port = freePort();
  // With a limit, the server runs under `ulimit -n` (a shell sets it, then becomes the server).
  const limited = options.openFileLimit === undefined
    ? []
    : ["-c", `ulimit -n ${options.openFileLimit} && exec "$0" "$@"`, Deno.execPath()];
  const child = new Deno.Command(limited.length ? "bash" : Deno.execPath(), {
    args: [
      ...limited,
      "run",
      "-A",
      options.entry ?? new URL("../main.ts", import.meta.url).pathname,
      "serve",
      "--data",
      dataDir,
      "--listen",
      `127.0.0.1:${port}`,
      "--domain",
      "example.org",
      "--log-level",
      options.logLevel ?? "warning",
      // Later flags win: e.g. ["--log-level", "info"].
      ...options.args ?? [],
    ],
    env: {
      NO_COLOR: "1",
      // One process unless a test asks for more (--processes or POSTERN_PROCESSES): its log and its
      // in-memory figures are then the whole server's.
      POSTERN_PROCESSES: "1",
      ...(env.POSTERN_ADMIN_PASSWORD === "" ? {} : { POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD }),
      ...env,
    },
    stdout: "null",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const deadline = Date.now() + HANG_GUARD_MS;
  while (!seen.includes("listening on")) {
    if (Date.now() > deadline) throw new Error(`Server did not start: ${seen}`);
    const { value, done } = await stderr.read();
    if (done) throw new Error(`Server exited: ${seen}`);
    seen += value;
  }
  const startup = seen;
  // Keep draining stderr so the child never blocks on a full pipe.
  const drain = (async () => {
    for (let read = await stderr.read(); !read.done; read = await stderr.read()) seen += read.value;
  })();
  const server: ServerProcess = {
    url,
    pid: child.pid,
    dataDir,
    startup,
    stderr: () => seen,
    kill(signal) {
      try {
        child.kill(signal);
      } catch { /* already exited */ }
    },
    status: child.status,
    async stop() {
      server.kill("SIGTERM");
      server.exitCode = (await child.status).code;
      await drain.catch(() => undefined);
    },
  };
  return server;
}

/** Where freePort records the ports it handed out, shared by every test file and process on the machine. */
const PORT_RESERVATIONS = `${Deno.env.get("TMPDIR") ?? "/tmp"}/postern-test-ports`;
/** How long a handed-out port stays reserved: far longer than any server takes to bind it. */
const PORT_RESERVATION_MS = 10 * 60_000;

/**
 * A loopback port nothing listens on, and that no other test file (worker or process) was handed in the
 * last ten minutes. Checking that a port is free is not enough: between the check and the server's bind
 * (a child process starting, a second or more) another file could pick the same port, which failed CI once
 * ("address is already in use"). Each pick is therefore reserved with a file created exclusively.
 */
export function freePort(): number {
  // Below Linux's ephemeral range (32768–60999): a port the kernel hands out for port 0 or for an
  // outgoing connection of another test file running in parallel is never one chosen here.
  Deno.mkdirSync(PORT_RESERVATIONS, { recursive: true });
  for (let tries = 0; tries < 500; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (!reservePort(port)) continue;
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return port;
    } catch {
      // taken by something else: keep the reservation (it is in use anyway) and try another
    }
  }
  throw new Error(`no free loopback port between 20000 and 32000 (reservations in ${PORT_RESERVATIONS})`);
}

/** Claims `port` for this caller: true when no recent reservation exists (a stale one is taken over). */
function reservePort(port: number): boolean {
  const path = `${PORT_RESERVATIONS}/${port}`;
  try {
    Deno.openSync(path, { write: true, createNew: true }).close();
    return true;
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  try {
    const modified = Deno.statSync(path).mtime?.getTime() ?? 0;
    if (Date.now() - modified < PORT_RESERVATION_MS) return false;
    // Stale: renaming is atomic, so of two callers taking it over only one succeeds.
    const stale = `${path}.${crypto.randomUUID()}.stale`;
    Deno.renameSync(path, stale);
    Deno.removeSync(stale);
    Deno.openSync(path, { write: true, createNew: true }).close();
    return true;
  } catch {
    return false;
  }
}

/** Collects the JMAP surface's warnings and errors (as they come) until `stop`, which returns them. */
export async function captureJmapLogs(): Promise<{ records: LogRecord[]; stop(): Promise<LogRecord[]> }> {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { memory: (record: LogRecord) => void records.push(record) },
    loggers: [
      { category: ["postern", "jmap"], lowestLevel: "warning", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
    ],
  });
  return {
    records,
    async stop() {
      await reset();
      return records;
    },
  };
}

/** How long a test waits for what should happen soon: a hang guard on a loaded machine, never a timing assertion. */
export const HANG_GUARD_MS = 60_000;

/** Polls `check` until it holds; fails naming `what` after `ms` (a hang guard). */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = HANG_GUARD_MS,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
