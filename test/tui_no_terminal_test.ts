/** Without a terminal the admin UI never waits for keys: it exits at once and names the CLI commands. */
import assert from "node:assert/strict";
import { startTestApp } from "./helpers.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function runWithoutTerminal(args: string[]) {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // A hang would be the bug: never wait longer than this.
  const guard = setTimeout(() => child.kill("SIGKILL"), 5000);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(guard);
  return {
    code,
    ms: performance.now() - started,
    stdout: new TextDecoder().decode(stdout),
    stderr: new TextDecoder().decode(stderr),
  };
}

Deno.test("postern tui without a terminal exits at once, non-zero, naming the CLI commands", async () => {
  const app = await startTestApp();
  try {
    const result = await runWithoutTerminal(["tui", "--data", app.dataDir]);
    assert.notEqual(result.code, 0);
    assert.ok(result.ms < 1000, `took ${Math.round(result.ms)} ms`);
    assert.match(result.stderr, /needs a terminal/);
    assert.match(result.stderr, /postern query account/);
    assert.match(result.stderr, /postern --help/);
    assert.equal(result.stdout, "");
  } finally {
    await app.close();
  }
});

Deno.test("postern tui on a server without a terminal exits before connecting", async () => {
  // Nothing listens on port 9 of loopback: reaching it would fail differently, or hang.
  const result = await runWithoutTerminal(["tui", "--url", "http://127.0.0.1:9", "--user", "admin"]);
  assert.equal(result.code, 2);
  assert.ok(result.ms < 1000, `took ${Math.round(result.ms)} ms`);
  assert.match(result.stderr, /needs a terminal.*\n[\s\S]*postern query account/);
});

Deno.test("plain postern without a terminal prints the help rather than opening the UI", async () => {
  const result = await runWithoutTerminal([]);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /Usage: postern/);
  assert.match(result.stdout, /tui +open the interactive admin UI/);
});
