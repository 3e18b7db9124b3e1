/** Without a terminal the admin UI never waits for keys: it exits at once and names the CLI commands. */
import assert from "node:assert/strict";
import { startTestApp } from "./helpers.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/**
 * Runs postern with a standard input that stays open and never sends a byte: a UI waiting for keys would
 * wait forever. The guard only ends such a hang (it is no time limit on a busy machine): a run it had to
 * kill reports `killed`.
 */
async function runWithoutTerminal(args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let killed = false;
  const guard = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, 60_000);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(guard);
  await child.stdin.close().catch(() => {});
  return {
    code,
    killed,
    stdout: new TextDecoder().decode(stdout),
    stderr: new TextDecoder().decode(stderr),
  };
}

/** A server that accepts connections and never answers: a client that tried to reach it would hang. */
function silentServer(): { url: string; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) held.push(conn);
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    close() {
      for (const conn of held) conn.close();
      listener.close();
    },
  };
}

Deno.test("postern tui without a terminal exits at once, non-zero, naming the CLI commands", async () => {
  const app = await startTestApp();
  try {
    const result = await runWithoutTerminal(["tui", "--data", app.dataDir]);
    assert.equal(result.killed, false, "the UI waited for input");
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /needs a terminal/);
    assert.match(result.stderr, /postern query account/);
    assert.match(result.stderr, /postern --help/);
    assert.equal(result.stdout, "");
  } finally {
    await app.close();
  }
});

Deno.test("postern tui on a server without a terminal exits before connecting", async () => {
  // The server accepts and never answers: had the UI tried to connect first, it would hang there.
  const server = silentServer();
  try {
    const result = await runWithoutTerminal(["tui", "--url", server.url, "--user", "admin"]);
    assert.equal(result.killed, false, "the UI tried to reach the server");
    assert.equal(result.code, 2);
    assert.match(result.stderr, /needs a terminal.*\n[\s\S]*postern query account/);
  } finally {
    server.close();
  }
});

Deno.test("plain postern without a terminal prints the help rather than opening the UI", async () => {
  const result = await runWithoutTerminal([]);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /Usage: postern/);
  assert.match(result.stdout, /tui(?: \[options\])? +open the interactive admin UI/);
});
