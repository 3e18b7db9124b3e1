/**
 * Several serving processes on one database (`postern serve --processes N`).
 *
 * The process an operator starts binds every listener, opens (and upgrades) the database, makes the
 * first admin, and then starts N−1 more `postern serve` processes with the same command line and
 * environment plus {@link PROCESS_VARIABLE}, which tells a child its number and the ports the first one
 * bound (so `--listen 127.0.0.1:0` still means one port for all). Every listener is bound with
 * SO_REUSEPORT (config/processes_config.ts) and the kernel spreads the connections. What one process
 * writes the next request to another sees: each checks `PRAGMA data_version` and applies the
 * invalidation log before trusting its caches; background work is claimed in the database.
 *
 * - A child that exits while the supervisor serves is logged and started again, after 1 s doubling to
 *   a minute (reset after a minute of running).
 * - A child's stdin is a pipe from the supervisor, which never writes to it: its end (the supervisor
 *   stopping, or killed with SIGKILL) makes the child shut down as on SIGTERM. No child outlives it.
 * - At SIGTERM or SIGINT the supervisor closes those pipes and drains its own connections; children
 *   that do not exit within the grace and a margin are killed.
 * - A child writes "ready" on its stdout once it serves; the supervisor logs when all of them first do.
 */
import type { Logger } from "@logtape/logtape";
import type { Config } from "./config/mod.ts";

/** Set in a child's environment: JSON of {@link ProcessRole}. Internal, not an operator's setting. */
export const PROCESS_VARIABLE = "POSTERN_INTERNAL_PROCESS";

/** A child's place among the serving processes. */
export interface ProcessRole {
  /** 1 … count−1 (0 is the supervisor). */
  index: number;
  count: number;
  /** The listeners the supervisor bound, by name (http, https, smtp, submission, submissions, imap, imaps). */
  listeners: Record<string, string>;
}

/** First and longest wait before a child that exited is started again. */
const RESTART_FIRST_MS = 1_000;
const RESTART_MAX_MS = 60_000;
/** After the shutdown grace, how long children get before they are killed. */
const STOP_MARGIN_MS = 5_000;

/** The role in `text` (the variable's value), or undefined when this process is not a child. */
export function processRole(text: string | undefined): ProcessRole | undefined {
  if (!text) return undefined;
  const role = JSON.parse(text) as ProcessRole;
  if (!Number.isSafeInteger(role.index) || role.index < 1 || !(role.index < role.count)) {
    throw new Error(`Invalid ${PROCESS_VARIABLE}: ${text}`);
  }
  return role;
}

/** `config` with the supervisor's ports (a port 0 was bound already) and its process count. */
export function childConfig(config: Config, role: ProcessRole): Config {
  const port = (name: string, where: { hostname: string; port: number } | undefined) => {
    const bound = role.listeners[name];
    return where && bound ? { ...where, port: Number(bound.slice(bound.lastIndexOf(":") + 1)) } : where;
  };
  const http = port("http", config);
  return {
    ...config,
    port: http?.port ?? config.port,
    processes: role.count,
    reusePort: true,
    tls: { ...config.tls, httpsListen: port("https", config.tls.httpsListen) },
    smtp: {
      ...config.smtp,
      listen: port("smtp", config.smtp.listen),
      submissionListen: port("submission", config.smtp.submissionListen),
      submissionsListen: port("submissions", config.smtp.submissionsListen),
    },
    imap: {
      ...config.imap,
      listen: port("imap", config.imap.listen),
      secureListen: port("imaps", config.imap.secureListen),
    },
  };
}

/** Resolves when the supervisor is gone (this child's stdin ended): the child then shuts down. */
export async function supervisorGone(): Promise<void> {
  const buffer = new Uint8Array(64);
  try {
    while (await Deno.stdin.read(buffer) !== null) { /* the supervisor writes nothing */ }
  } catch { /* closed */ }
}

/** Tells the supervisor this child serves. */
export function announceReady(): void {
  Deno.stdout.writeSync(new TextEncoder().encode("ready\n"));
}

/** The command that started this process (Linux: /proc/self/cmdline), to start children the same way. */
function ownCommand(): { path: string; args: string[] } {
  const words = Deno.readTextFileSync("/proc/self/cmdline").split("\0");
  if (words.at(-1) === "") words.pop();
  return { path: Deno.execPath(), args: words.slice(1) };
}

interface Child {
  index: number;
  process?: Deno.ChildProcess;
  startedAt: number;
  nextWaitMs: number;
  ready: boolean;
}

/** Starts, restarts and stops the other serving processes. */
export class Supervisor {
  readonly #children: Child[] = [];
  readonly #exits = new Set<Promise<unknown>>();
  #stopping = false;
  #allReady = false;
  #listeners: Record<string, string> = {};

  constructor(
    private readonly options: {
      count: number;
      log: Logger;
      /** Where "all serving" goes: the start's category, written at any level (as the start line). */
      startLog?: Logger;
      /** Default: this process's own command line. */
      command?: { path: string; args: string[] };
    },
  ) {}

  /** Starts processes 1 … count−1 on the listeners the supervisor bound. */
  start(listeners: Record<string, string>): void {
    this.#listeners = { ...listeners };
    for (let index = 1; index < this.options.count; index++) {
      const child: Child = { index, startedAt: 0, nextWaitMs: RESTART_FIRST_MS, ready: false };
      this.#children.push(child);
      this.#spawn(child);
    }
  }

  /** Process ids of the children now running (for tests and logs). */
  pids(): number[] {
    return this.#children.flatMap((child) => child.process ? [child.process.pid] : []);
  }

  /** Asks every child to shut down (ends its stdin); resolves when all exited or were killed. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    for (const child of this.#children) this.#release(child);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<false>((resolve) =>
      timer = setTimeout(() => resolve(false), graceMs + STOP_MARGIN_MS)
    );
    const exited = await Promise.race([Promise.all([...this.#exits]).then(() => true), expired]);
    clearTimeout(timer);
    if (exited) return;
    for (const child of this.#children) {
      this.options.log.warn("Process {index} did not stop in time; killing it", { index: child.index });
      try {
        child.process?.kill("SIGKILL");
      } catch { /* exited meanwhile */ }
    }
    await Promise.all([...this.#exits]);
  }

  #spawn(child: Child): void {
    const command = this.options.command ?? ownCommand();
    const role: ProcessRole = { index: child.index, count: this.options.count, listeners: this.#listeners };
    const process = new Deno.Command(command.path, {
      args: command.args,
      env: { [PROCESS_VARIABLE]: JSON.stringify(role) },
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    child.process = process;
    child.startedAt = Date.now();
    const readiness = this.#watchReady(child, process);
    const exit = process.status.then(async (status) => {
      await readiness;
      this.#exited(child, process, status);
    });
    this.#exits.add(exit);
    void exit.finally(() => this.#exits.delete(exit));
  }

  async #watchReady(child: Child, process: Deno.ChildProcess): Promise<void> {
    try {
      for await (const text of process.stdout.pipeThrough(new TextDecoderStream())) {
        if (!text.includes("ready") || child.ready) continue;
        child.ready = true;
        this.options.log.debug("Process {index} (pid {pid}) serving", {
          index: child.index,
          pid: process.pid,
        });
        if (!this.#allReady && this.#children.every((c) => c.ready)) {
          this.#allReady = true;
          (this.options.startLog ?? this.options.log).info("All {count} processes serving", {
            count: this.options.count,
          });
        }
      }
    } catch { /* the child's stdout closed with it */ }
  }

  #release(child: Child): void {
    try {
      void child.process?.stdin.close().catch(() => undefined);
    } catch { /* closed already */ }
  }

  #exited(child: Child, process: Deno.ChildProcess, status: Deno.CommandStatus): void {
    if (child.process === process) child.process = undefined;
    if (this.#stopping) return;
    child.ready = false;
    // A child that ran a while before it failed starts again at once; one that fails at start backs off.
    if (Date.now() - child.startedAt > RESTART_MAX_MS) child.nextWaitMs = RESTART_FIRST_MS;
    const wait = child.nextWaitMs;
    child.nextWaitMs = Math.min(RESTART_MAX_MS, wait * 2);
    this.options.log.error(
      "Process {index} (pid {pid}) exited ({how}); starting it again in {wait} ms",
      {
        index: child.index,
        pid: process.pid,
        how: status.signal ? `signal ${status.signal}` : `status ${status.code}`,
        wait,
      },
    );
    this.#release(child);
    const timer = setTimeout(() => {
      if (!this.#stopping) this.#spawn(child);
    }, wait);
    // A restart pending must not keep a stopping supervisor alive.
    Deno.unrefTimer(timer);
  }
}
