/**
 * Two builds of Postern side by side over IMAP (the benchmark's raw client and commands of
 * scripts/bench/imap_ops.ts), for a change's before and after: each build serves its own copy of a
 * data directory the IMAP benchmark left (`<corpus>.postern-<schema>`), both started at once, the
 * rounds interleaved (the order alternating), medians, so a loaded machine's noise falls on both.
 *
 * Figures: STORE +FLAGS (\Answered) on 1,000 messages, UID FETCH of 50 full messages, and with
 * `--mixed MS` the 20-client mixed load (ops/s); `--only` picks the commands by key (imap_ops.ts
 * COMMANDS). With `--profile KEY` (a command's key, or `mixed`), the first build runs under
 * `--inspect` and a CPU profile of it over one more round is summarized (self time by source and by
 * function) and written to /tmp/imap-probe-KEY.cpuprofile.
 *
 *   deno run -A scripts/bench/imap_write_probe.ts --data DIR --count 10000 \
 *     [--build /path/to/other/tree ...] [--rounds 5] [--mixed 5000] [--only store,fetchFull] \
 *     [--profile store|fetchFull|mixed] [--dovecot]
 *
 * With `--dovecot` (needs root and dovecot-imapd), a private Dovecot on the same corpus (Maildir links,
 * as scripts/bench/imap_figures.ts) is one more target, measured through the same client in the same
 * interleaved rounds: the ratio of a build to Dovecot without the whole IMAP benchmark.
 *
 * Without `--build`, the one build is this tree. A build is a repository root whose main.ts is run
 * (an older commit: `git archive COMMIT | tar -x -C DIR`); a build with a newer schema migrates its
 * copy when it starts.
 */
import { parseArgs } from "node:util";
import { MAIL_UID, startDovecotImap } from "./dovecot.ts";
import { PASSWORD } from "./email_store.ts";
import { corpusDir, crlfMessage, linkMaildir } from "./imap_corpus.ts";
import { COMMANDS, type ImapTarget, mixedLoad, processTree } from "./imap_ops.ts";
import { certificate, freePort, LOGIN } from "./imap_setup.ts";
import { ImapWire } from "./imap_wire.ts";
import { CpuProfiler, summarize } from "./cpu_profile.ts";
import { median, ms } from "./report.ts";

const { values } = parseArgs({
  options: {
    data: { type: "string" },
    count: { type: "string", default: "10000" },
    build: { type: "string", multiple: true },
    rounds: { type: "string", default: "5" },
    mixed: { type: "string" },
    profile: { type: "string" },
    only: { type: "string" },
    dovecot: { type: "boolean" },
  },
});
if (!values.data) throw new Error("--data DIR: a Postern data directory the IMAP benchmark left");
const count = Number(values.count);
const rounds = Number(values.rounds);
const here = new URL("../../", import.meta.url).pathname;
const builds = values.build?.length ? values.build : [here];
const tmp = await Deno.makeTempDir({ prefix: "postern-imap-probe-" });
const tls = await certificate(tmp);
const children: Deno.ChildProcess[] = [];

interface Running extends ImapTarget {
  child?: Deno.ChildProcess;
  inspect: number;
}
const stops: (() => Promise<void>)[] = [];

/** A private Dovecot serving the corpus of `count` messages (seed 24) as Maildir links. */
async function startDovecot(): Promise<Running> {
  // Dovecot's imap processes run as nobody: they must be able to pass through to the home.
  await Deno.chmod(tmp, 0o711);
  const home = `${tmp}/dovecot-home`;
  await Deno.mkdir(home, { recursive: true });
  await Deno.chown(home, MAIL_UID, MAIL_UID);
  await linkMaildir(await corpusDir(24, count), `${home}/Maildir`, { count, uid: MAIL_UID });
  const dovecot = await startDovecotImap(`${tmp}/dovecot`, {
    imapsPort: freePort(),
    user: LOGIN,
    password: PASSWORD,
    home,
    cert: tls.cert,
    key: tls.key,
  });
  stops.push(() => dovecot.stop());
  return {
    name: "dovecot",
    port: dovecot.imapsPort,
    caCert: tls.caCert,
    user: LOGIN,
    password: PASSWORD,
    pids: () => processTree(dovecot.pid),
    inspect: 0,
  };
}

async function start(root: string, i: number): Promise<Running> {
  const dataDir = `${tmp}/data-${i}`;
  const copy = await new Deno.Command("cp", { args: ["-a", values.data!, dataDir] }).output();
  if (!copy.success) throw new Error("cp failed");
  const port = freePort();
  const inspect = freePort();
  const log = `${tmp}/postern-${i}.log`;
  const child = new Deno.Command("/bin/sh", {
    args: [
      "-c",
      'log="$1"; shift; exec "$@" 2>>"$log"',
      "sh",
      log,
      Deno.execPath(),
      "run",
      "-A",
      "--v8-flags=--max-semi-space-size=8",
      ...(values.profile ? [`--inspect=127.0.0.1:${inspect}`] : []),
      `${root}/main.ts`,
      "serve",
      ...["--data", dataDir, "--listen", "127.0.0.1:0", "--domain", "example.org", "--log-level", "warning"],
    ],
    env: {
      NO_COLOR: "1",
      POSTERN_ADMIN_PASSWORD: "bench admin password that is long enough",
      POSTERN_IMAPS_LISTEN: `127.0.0.1:${port}`,
      POSTERN_TLS_CERT: tls.cert,
      POSTERN_TLS_KEY: tls.key,
    },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  children.push(child);
  const deadline = Date.now() + 600_000;
  for (;;) {
    const text = await Deno.readTextFile(log).catch(() => "");
    if (/listening on http/.test(text)) break;
    if (Date.now() > deadline) throw new Error(`build ${root} did not start:\n${text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name: `${i}:${root}`,
    port,
    caCert: tls.caCert,
    user: LOGIN,
    password: PASSWORD,
    pids: () => [child.pid],
    child,
    inspect,
  };
}

try {
  const targets = await Promise.all(builds.map(start));
  if (values.dovecot) targets.push(await startDovecot());
  for (const t of targets) {
    const { wire } = await ImapWire.session(t.port, t);
    await wire.command("FETCH 1:* (FLAGS UID)");
    wire.close();
  }
  const wanted = values.only ? values.only.split(",") : ["store", "fetchFull"];
  for (const command of COMMANDS.filter((c) => wanted.includes(c.key))) {
    const perRound = targets.map(() => [] as number[]);
    const wires = await Promise.all(targets.map((t) => ImapWire.session(t.port, t)));
    for (let round = 0; round < rounds; round++) {
      const order = targets.map((_, i) => i);
      if (round % 2) order.reverse();
      for (const i of order) {
        const times: number[] = [];
        for (let k = 0; k < command.iterations(count); k++) {
          times.push(await command.run(wires[i].wire, round * 100 + k, count));
        }
        perRound[i].push(median(times));
      }
    }
    if (values.profile === command.key) {
      const profiler = await CpuProfiler.start(targets[0].inspect);
      for (let k = 0; k < 3 * command.iterations(count); k++) {
        await command.run(wires[0].wire, 9000 + k, count);
      }
      const profile = await profiler.stop();
      await Deno.writeTextFile(`/tmp/imap-probe-${command.key}.cpuprofile`, JSON.stringify(profile));
      console.log(summarize(profile, 30));
    }
    for (const w of wires) w.wire.close();
    console.log(
      `${command.label}: ` +
        targets.map((t, i) => `${t.name} ${ms(median(perRound[i]))} [${perRound[i].map(ms).join(" ")}]`)
          .join(" | "),
    );
  }
  if (values.mixed) {
    const corpus = await corpusDir(24, count);
    const appendable = await Promise.all(Array.from({ length: 20 }, (_, i) => crlfMessage(corpus, i)));
    const perRound = targets.map(() => [] as number[]);
    for (let round = 0; round < rounds; round++) {
      const order = targets.map((_, i) => i);
      if (round % 2) order.reverse();
      for (const i of order) {
        const profiler = values.profile === "mixed" && i === 0 && round === 0
          ? await CpuProfiler.start(targets[0].inspect)
          : undefined;
        const result = await mixedLoad(targets[i], {
          clients: 20,
          durationMs: Number(values.mixed),
          count,
          appendable,
        });
        if (profiler) {
          const profile = await profiler.stop();
          await Deno.writeTextFile("/tmp/imap-probe-mixed.cpuprofile", JSON.stringify(profile));
          console.log(summarize(profile, 40));
        }
        perRound[i].push(result.opsPerSecond);
        console.log(
          `  ${targets[i].name} round ${round + 1}: ${Math.round(result.opsPerSecond)} ops/s ` +
            `mean ms ${JSON.stringify(result.meanMs)}`,
        );
      }
    }
    console.log(
      `mixed load: ` +
        targets.map((t, i) => `${t.name} ${Math.round(median(perRound[i]))} ops/s`).join(" | "),
    );
  }
  console.log(`load average: ${Deno.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
} finally {
  for (const stop of stops) await stop().catch(() => undefined);
  for (const child of children) {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
  }
  await Promise.all(children.map((c) => c.status));
  await Deno.remove(tmp, { recursive: true }).catch(() => undefined);
}
