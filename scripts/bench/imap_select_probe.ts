/**
 * SELECT over the wire, two builds of Postern side by side: each serves its own copy of the IMAP
 * benchmark's mailbox (scripts/bench/imap_setup.ts) over implicit TLS on loopback, and one
 * connection per server sends `--selects` SELECT INBOX per round, rounds alternating between the
 * builds (the order swapped each round) so that the load of a shared machine falls on both alike.
 * Prints each build's median per round and the ratio of their medians (new / old).
 *
 * `--old` is the root of another checkout (for instance `git archive BASE | tar -x -C DIR`); the
 * new build is this repository.
 *
 * `--command` times another command the same way (`"FETCH 1:* (FLAGS UID)"`, say, with fewer `--selects`).
 *
 *   deno run -A scripts/bench/imap_select_probe.ts --old DIR [--messages 10000] [--rounds 9] [--selects 200]
 */
import { parseArgs } from "node:util";
import { PASSWORD } from "./email_store.ts";
import { corpusDir } from "./imap_corpus.ts";
import { CpuProfiler, summarize } from "./cpu_profile.ts";
import { certificate, loadPostern, LOGIN, startPosternBuild } from "./imap_setup.ts";
import { ImapWire } from "./imap_wire.ts";
import { repoPath } from "./processes.ts";
import { median } from "./report.ts";

const { values } = parseArgs({
  options: {
    old: { type: "string" },
    messages: { type: "string", default: "10000" },
    rounds: { type: "string", default: "9" },
    selects: { type: "string", default: "200" },
    /** Another command to time instead of SELECT INBOX (sent in the selected state). */
    command: { type: "string", default: "SELECT INBOX" },
    seed: { type: "string", default: "24" },
    /** Profile the new build's CPU over the rounds (its inspector on this port) and print where it went. */
    profile: { type: "string" },
  },
});
if (!values.old) throw new Error("--old DIR (the root of the build to compare with) is required");
const ROUNDS = Number(values.rounds);
const SELECTS = Number(values.selects);

const tmp = await Deno.makeTempDir({ prefix: "postern-select-probe-" });
const tls = await certificate(tmp);
const corpus = await corpusDir(Number(values.seed), Number(values.messages));
await loadPostern(`${tmp}/data`, { corpus, count: Number(values.messages), rounds: 1 });
for (const name of ["old", "new"]) {
  await new Deno.Command("cp", { args: ["-a", `${tmp}/data`, `${tmp}/data-${name}`] }).output();
}

/** Starts one build on its copy and waits for its greeting. */
async function start(
  name: string,
  root: string,
  flags: string[] = [],
): Promise<{ child: Deno.ChildProcess; port: number }> {
  const build = await startPosternBuild(name, { root, dataDir: `${tmp}/data-${name}`, tls, flags });
  return { child: build.child, port: build.imapsPort };
}

const servers = {
  old: await start("old", values.old),
  new: await start(
    "new",
    repoPath("").replace(/\/$/, ""),
    values.profile ? [`--inspect=127.0.0.1:${values.profile}`] : [],
  ),
};
try {
  const wires: Record<string, ImapWire> = {};
  for (const [name, server] of Object.entries(servers)) {
    const { wire } = await ImapWire.session(server.port, {
      caCert: tls.caCert,
      user: LOGIN,
      password: PASSWORD,
    });
    wires[name] = wire;
    for (let i = 0; i < 20; i++) await wire.command("SELECT INBOX"); // warm-up
  }
  const profiler = values.profile ? await CpuProfiler.start(Number(values.profile)) : undefined;
  const times: Record<string, number[]> = { old: [], new: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of round % 2 ? ["new", "old"] : ["old", "new"]) {
      const t = performance.now();
      for (let i = 0; i < SELECTS; i++) {
        const answer = await wires[name].command(values.command!);
        if (answer.status !== "OK") throw new Error(`${name}: answered ${answer.status} ${answer.text}`);
      }
      times[name].push((performance.now() - t) / SELECTS);
    }
  }
  if (profiler) console.log(summarize(await profiler.stop()));
  const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  const ms = (x: number) => `${x.toFixed(3)} ms`;
  console.log(
    `${values.command}, ${values.messages} messages, ${ROUNDS} rounds of ${SELECTS} (load ${load})`,
  );
  for (const name of ["old", "new"]) {
    console.log(`${name}: median ${ms(median(times[name]))}; rounds ${times[name].map(ms).join(", ")}`);
  }
  console.log(`new / old: ${(median(times.new) / median(times.old)).toFixed(2)}×`);
  for (const wire of Object.values(wires)) wire.close();
} finally {
  for (const server of Object.values(servers)) {
    server.child.kill();
    await server.child.status;
  }
  await Deno.remove(tmp, { recursive: true });
}
