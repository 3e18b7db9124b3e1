/**
 * Helpers for the admin UI's tests: the UI in a real pseudo-terminal (tmux, 80×24, no colours),
 * driven with send-keys and read with capture-pane, and a scripted in-memory terminal.
 */
import assert from "node:assert/strict";
import { PassThrough, Writable } from "node:stream";
import type { Terminal } from "../tui/mod.ts";
import { cli, type ServerProcess, startServerProcess } from "./helpers.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Whether tmux can be run here (the real-terminal tests are skipped without it). */
export const HAS_TMUX = await new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" })
  .output().then((o) => o.success, () => false);

async function tmux(socket: string, args: string[]): Promise<string> {
  const { success, stdout, stderr } = await new Deno.Command("tmux", {
    args: ["-S", socket, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  if (!success) throw new Error(`tmux ${args[0]}: ${new TextDecoder().decode(stderr)}`);
  return new TextDecoder().decode(stdout);
}

/** `postern ARGS` running in its own tmux server. */
export class TuiSession {
  #mark = "";

  private constructor(readonly socket: string, readonly dir: string) {}

  /** Starts `postern` with `args` in a pane (80×24 unless `size` says otherwise; (no status line, Esc without delay, NO_COLOR). */
  static async start(
    args: string[],
    env: Record<string, string> = {},
    options: {
      before?: string;
      /** False: a terminal that ignores the alternate screen (its screens then scroll into history). */
      alternateScreen?: boolean;
      /** Columns and rows of the pane (default 80×24). */
      size?: [number, number];
      /** Another program to run instead of `postern args` (a terminal mail client). */
      command?: string[];
    } = {},
  ): Promise<TuiSession> {
    const dir = await Deno.makeTempDir({ prefix: "postern-tmux-" });
    const config = `${dir}/tmux.conf`;
    await Deno.writeTextFile(
      config,
      "set -g status off\nset -sg escape-time 0\nset -g remain-on-exit on\nset -g history-limit 100\n" +
        (options.alternateScreen === false ? "set -g alternate-screen off\n" : ""),
    );
    // The server's socket lives in the temporary directory, so closing removes every trace.
    const session = new TuiSession(`${dir}/tmux.socket`, dir);
    const environment = { NO_COLOR: "1", TERM: "xterm-256color", ...env };
    await tmux(session.socket, [
      "-f",
      config,
      "new-session",
      "-d",
      "-s",
      "tui",
      "-x",
      String(options.size?.[0] ?? 80),
      "-y",
      String(options.size?.[1] ?? 24),
      ...Object.entries(environment).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
      // With `before`, a shell prints it first (as `postern init` would), then becomes postern.
      ...(options.before === undefined || options.before === ""
        ? []
        : ["sh", "-c", 'printf "%s\\n" "$0"; exec "$@"', options.before]),
      ...(options.command ?? [Deno.execPath(), "run", "-A", MAIN, ...args]),
    ]);
    return session;
  }

  /** The visible screen. */
  async screen(): Promise<string> {
    return await tmux(this.socket, ["capture-pane", "-p", "-t", "tui"]);
  }

  /** Waits until the screen shows `text` (and, after {@link keys}, has changed); returns the screen. */
  async waitFor(text: string | RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let screen = "";
    while (Date.now() < deadline) {
      screen = await this.screen();
      const found = typeof text === "string" ? screen.includes(text) : text.test(screen);
      if (found && screen !== this.#mark) return screen;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`The screen never showed ${text}; it shows:\n${screen}`);
  }

  /** The pane's scrollback and visible screen, as the terminal kept them. */
  async history(): Promise<string> {
    return await tmux(this.socket, ["capture-pane", "-p", "-S", "-", "-t", "tui"]);
  }

  /** Resizes the terminal (the program gets SIGWINCH). */
  async resize(columns: number, rows: number): Promise<void> {
    this.#mark = await this.screen();
    await tmux(this.socket, ["resize-window", "-t", "tui", "-x", String(columns), "-y", String(rows)]);
  }

  /** Waits (a hang guard of 10 s) until the program in the pane has exited. */
  async waitForExit(): Promise<void> {
    for (let i = 0; i < 200 && !await this.exited(); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(await this.exited(), `the UI did not exit; it shows:\n${await this.screen()}`);
  }

  /** Sends keys by tmux name (Enter, Down, Escape, C-u) or as single characters. */
  async keys(...keys: string[]): Promise<void> {
    this.#mark = await this.screen();
    await tmux(this.socket, ["send-keys", "-t", "tui", ...keys]);
  }

  /**
   * In a menu, moves the cursor down until it is on the choice that starts with `choice`, then presses
   * enter (screens gain entries; tests name where they go rather than count arrows).
   */
  async choose(choice: string): Promise<void> {
    // To the top first (a menu keeps the choice last opened), and let the screen settle.
    await this.keys(...Array(30).fill("Up"));
    let before = "";
    for (let screen = await this.screen(); screen !== before; screen = await this.screen()) {
      before = screen;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (let i = 0; i < 30; i++) {
      const screen = await this.screen();
      if (screen.split("\n").some((line) => line.startsWith(`❯ ${choice}`))) {
        await this.keys("Enter");
        return;
      }
      await this.keys("Down");
      await this.waitFor(/❯/);
    }
    throw new Error(`No menu choice starts with ${choice}:\n${await this.screen()}`);
  }

  /** Types text literally. */
  async type(text: string): Promise<void> {
    this.#mark = await this.screen();
    await tmux(this.socket, ["send-keys", "-t", "tui", "-l", text]);
  }

  /** Whether the program in the pane has exited. */
  async exited(): Promise<boolean> {
    return (await tmux(this.socket, ["display-message", "-p", "-t", "tui", "#{pane_dead}"])).trim() === "1";
  }

  /** Kills the tmux server (and the UI in it) and removes the temporary files. */
  async close(): Promise<void> {
    await tmux(this.socket, ["kill-server"]).catch(() => undefined);
    await Deno.remove(this.dir, { recursive: true }).catch(() => undefined);
  }
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>78]/g;

/** An in-memory terminal: keys are written to `input`, everything drawn is collected as text. */
export class ScriptedTerminal implements Terminal {
  readonly input = new PassThrough();
  readonly output: Writable;
  #text = "";
  #mark = 0;

  constructor() {
    this.output = new Writable({
      write: (chunk: Uint8Array | string, _encoding, callback) => {
        this.#text += (typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk)).replace(ANSI, "");
        callback();
      },
    });
    // Each prompt pipes into the output and ends the pipe when it is done, as it would end stdout:
    // like stdout, this output stays open.
    this.output.end = (() => this.output) as Writable["end"];
  }

  size() {
    return { columns: 80, rows: 24 };
  }

  /** Everything drawn since the last key, without escape sequences. */
  get recent(): string {
    return this.#text.slice(this.#mark);
  }

  /** Waits until the output since the last key contains `text`. */
  async waitFor(text: string, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!this.recent.includes(text)) {
      if (Date.now() > deadline) throw new Error(`Never drew "${text}"; drew:\n${this.recent}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.recent;
  }

  /** Presses keys: "down", "up", "enter", "escape", "ctrl-u", or literal text. */
  press(...keys: string[]): void {
    this.#mark = this.#text.length;
    const codes: Record<string, string> = {
      down: "\x1b[B",
      up: "\x1b[A",
      enter: "\r",
      escape: "\x1b",
      "ctrl-u": "\x15",
    };
    for (const key of keys) this.input.write(codes[key] ?? key);
  }
}

/**
 * Runs `body` with the admin UI open (`postern --data DIR tui`) on a new database initialised for
 * example.org; closes the UI and removes the database afterwards. With `showInit` the pane first
 * shows what `init` printed (its once-only password), as it would in the terminal that ran it.
 */
export async function withTuiOnNewDatabase(
  body: (tui: TuiSession, dataDir: string, init: string) => Promise<void>,
  options: { showInit?: boolean; alternateScreen?: boolean; size?: [number, number] } = {},
): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-tui-" });
  const init = await cli(["--data", dataDir, "init", "--domain", "example.org"]);
  assert.equal(init.code, 0, init.stderr);
  const printed = init.stdout.trimEnd();
  const tui = await TuiSession.start(
    ["--data", dataDir, "tui"],
    {},
    { ...options, before: options.showInit ? printed : undefined },
  );
  try {
    await body(tui, dataDir, printed);
  } finally {
    await tui.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
  }
}

/** The objects of `type` in the database, as `postern query TYPE --json` reads them. */
export async function queryObjects(dataDir: string, type: string): Promise<Record<string, unknown>[]> {
  const result = await cli(["--data", dataDir, "query", type, "--json"]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

/**
 * Runs `body` with a server process on a new database and the admin UI opened with `args(server)`
 * (its database with `--data`, or the server with `--url`); stops both and removes the database after.
 */
export async function withTuiAndServer(
  args: (server: ServerProcess) => string[],
  body: (tui: TuiSession, server: ServerProcess) => Promise<void>,
): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-tui-" });
  const server = await startServerProcess(dataDir);
  let tui: TuiSession | undefined;
  try {
    tui = await TuiSession.start(args(server));
    await body(tui, server);
  } finally {
    await tui?.close();
    await server.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
  }
}
