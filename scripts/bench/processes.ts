/**
 * The benchmark's child processes: servers that report their port, and one-shot measuring scripts
 * that print one JSON line. Every server started here is stopped by `stopAll`, which the benchmark
 * calls in a finally block and on SIGINT/SIGTERM.
 */

const ROOT = new URL("../../", import.meta.url).pathname;
const START_TIMEOUT_MS = 30_000;

/** A running server process. */
export interface Server {
  name: string;
  pid: number;
  url: string;
  /** Where its stderr goes (Postern servers) */
  logPath?: string;
}

/** Path of a file of this repository. */
export function repoPath(relative: string): string {
  return ROOT + relative;
}

/**
 * Starts servers and remembers them so that they can all be stopped. Once `stopAll` has begun, no
 * new process starts: an interrupt that lands while the benchmark is between two steps (even in
 * in-process work, before a spawn) cannot leave a child behind.
 */
export class ProcessGroup {
  #children = new Map<Deno.ChildProcess, string>();
  #stopped = false;

  /** Spawns `command` and registers it, in one synchronous step; refused after `stopAll`. */
  #spawn(name: string, command: Deno.Command): Deno.ChildProcess {
    if (this.#stopped) throw new Error(`Not starting ${name}: the benchmark is stopping`);
    const child = command.spawn();
    this.#children.set(child, name);
    return child;
  }

  /** Runs `deno run -A script args…`, which must print `listening <port>` on stdout. */
  startScript(name: string, script: string, args: string[]): Promise<Server> {
    return this.startCommand(name, Deno.execPath(), ["run", "-A", repoPath(script), ...args]);
  }

  /**
   * Runs `executable args…` (in `cwd`, the repository by default), which must print `listening <port>`
   * on stdout; its pid is the server's, for the CPU figures.
   */
  async startCommand(name: string, executable: string, args: string[], cwd = ROOT): Promise<Server> {
    const child = this.#spawn(
      name,
      new Deno.Command(executable, { args, cwd, stdin: "null", stdout: "piped", stderr: "inherit" }),
    );
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    const deadline = setTimeout(() => reader.cancel().catch(() => undefined), START_TIMEOUT_MS);
    try {
      while (!/listening (\d+)/.test(seen)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`${name} did not start: ${seen || "(no output)"}`);
        seen += value;
      }
    } finally {
      clearTimeout(deadline);
    }
    await reader.cancel().catch(() => undefined);
    const port = Number(/listening (\d+)/.exec(seen)![1]);
    return { name, pid: child.pid, url: `http://127.0.0.1:${port}` };
  }

  /**
   * Runs `postern serve` as a user would, on a free loopback port, its stderr (the logs) appended to
   * `logPath`: a file, as a service manager would keep it, so reading the log costs the benchmark nothing.
   */
  async startPostern(
    name: string,
    options: {
      dataDir: string;
      logLevel: string;
      logPath: string;
      env?: Record<string, string>;
      /** More `deno run` flags, such as `--inspect=127.0.0.1:PORT` for a CPU profile. */
      denoFlags?: string[];
      /** Another checkout of Postern to run (an old build to compare with), instead of this one. */
      root?: string;
      /** How long it may take to start (a big database under a loaded machine takes longer). */
      startTimeoutMs?: number;
      /**
       * Serving processes (--processes). Default: POSTERN_BENCH_PROCESSES, else 1, so that every figure
       * can be taken again with several processes (`POSTERN_BENCH_PROCESSES=2 deno task bench --only oauth`).
       */
      processes?: number;
    },
  ): Promise<Server> {
    const processes = options.processes ?? Number(Deno.env.get("POSTERN_BENCH_PROCESSES") || "1");
    const serve = [
      Deno.execPath(),
      "run",
      "-A",
      // As `deno task start` runs it: a young generation of 8 MB keeps RSS flat under many connections.
      "--v8-flags=--max-semi-space-size=8",
      ...(options.denoFlags ?? []),
      options.root ? `${options.root.replace(/\/$/, "")}/main.ts` : repoPath("main.ts"),
      "serve",
      "--data",
      options.dataDir,
      "--listen",
      "127.0.0.1:0",
      "--domain",
      "example.org",
      "--log-level",
      options.logLevel,
      "--processes",
      String(processes),
    ];
    const child = this.#spawn(
      name,
      new Deno.Command("/bin/sh", {
        args: ["-c", 'log="$1"; shift; exec "$@" 2>>"$log"', "sh", options.logPath, ...serve],
        cwd: options.root ?? ROOT,
        env: { NO_COLOR: "1", ...options.env },
        stdin: "null",
        stdout: "null",
        stderr: "inherit",
      }),
    );
    let exited = false;
    child.status.then(() => exited = true);
    const deadline = Date.now() + (options.startTimeoutMs ?? START_TIMEOUT_MS);
    for (;;) {
      const log = await Deno.readTextFile(options.logPath).catch(() => "");
      const match = /listening on http:\/\/[^\s"]+:(\d+)/.exec(log);
      // Several processes: measured once all of them serve.
      if (match && (processes === 1 || log.includes(`All ${processes} processes serving`))) {
        return { name, pid: child.pid, url: `http://127.0.0.1:${match[1]}`, logPath: options.logPath };
      }
      if (exited || Date.now() > deadline) {
        throw new Error(`${name} did not start:\n${log.slice(-2000) || "(no output)"}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Runs `deno run -A script args…` to completion and parses the JSON line it prints. */
  async runJson<T>(script: string, args: string[]): Promise<T> {
    const stdout = await this.run(script, Deno.execPath(), ["run", "-A", repoPath(script), ...args]);
    return JSON.parse(stdout.trim().split("\n").at(-1)!) as T;
  }

  /**
   * Runs `executable args…` to completion (in `cwd`, the repository by default) and returns its
   * stdout; throws with the end of its stderr when it fails or outlives `timeoutMs`.
   */
  async run(
    name: string,
    executable: string,
    args: string[],
    options: { cwd?: string; timeoutMs?: number; onSpawn?: (pid: number) => void } = {},
  ): Promise<string> {
    const child = this.#spawn(
      name,
      new Deno.Command(executable, {
        args,
        cwd: options.cwd ?? ROOT,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }),
    );
    options.onSpawn?.(child.pid);
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, options.timeoutMs);
    try {
      const { code, stdout, stderr } = await child.output();
      if (code !== 0) {
        throw new Error(`${name} failed (exit ${code}): ${new TextDecoder().decode(stderr).slice(-2000)}`);
      }
      return new TextDecoder().decode(stdout);
    } finally {
      clearTimeout(timer);
      this.#children.delete(child);
    }
  }

  /**
   * Sends SIGTERM to every child, then SIGKILL to any still running after two seconds; from now on
   * nothing new starts.
   */
  async stopAll(): Promise<void> {
    this.#stopped = true;
    const children = [...this.#children.keys()];
    this.#children.clear();
    await Promise.all(children.map(terminate));
  }

  /** Stops one server now (SIGTERM, then SIGKILL after two seconds), freeing its memory for the next figure. */
  async stopOne(server: Server): Promise<void> {
    const child = [...this.#children.keys()].find((c) => c.pid === server.pid);
    if (!child) return;
    this.#children.delete(child);
    await terminate(child);
  }
}

async function terminate(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch { /* already gone */ }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), 2000));
  if (await Promise.race([child.status, timeout]) === "timeout") {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
  }
  clearTimeout(timer);
}
