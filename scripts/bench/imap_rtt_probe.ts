/**
 * Round trips of small IMAP commands, Postern against a private Dovecot on the same mailbox (and,
 * with `--old DIR`, an older build of Postern too), to split a command's transport cost from its
 * own work: `NOOP` before login in plain text and over implicit TLS, then, logged in over TLS with
 * INBOX selected, `NOOP`, `CHECK`, `UID FETCH <last> (FLAGS)` and `SELECT INBOX`.
 *
 * Each round times `--repeats` of one command on each server in turn, the order rotated every
 * round, so the load of a shared machine falls on all alike; prints each server's median per
 * command and the ratios of the medians. `--profile PORT` samples this build's CPU (its inspector on
 * PORT) over the rounds of the probes labelled in `--profile-label` (separated by `;`) and prints
 * where the time went.
 *
 *   deno run -A scripts/bench/imap_rtt_probe.ts [--old DIR] [--messages 10000] [--rounds 7] [--repeats 200]
 *
 * Needs root, openssl and the Debian packages dovecot-core and dovecot-imapd.
 */
import { parseArgs } from "node:util";
import { PASSWORD } from "./email_store.ts";
import { corpusDir, linkMaildir } from "./imap_corpus.ts";
import { CpuProfiler, summarize } from "./cpu_profile.ts";
import { canRunDovecotImap, MAIL_UID, startDovecotImap } from "./dovecot.ts";
import { certificate, freePort, loadPostern, LOGIN, startPosternBuild } from "./imap_setup.ts";
import { idleMemory, processTree } from "./imap_ops.ts";
import { ImapWire } from "./imap_wire.ts";
import { repoPath } from "./processes.ts";
import { median } from "./report.ts";

const { values } = parseArgs({
  options: {
    old: { type: "string" },
    messages: { type: "string", default: "10000" },
    rounds: { type: "string", default: "7" },
    repeats: { type: "string", default: "200" },
    seed: { type: "string", default: "24" },
    profile: { type: "string" },
    "profile-label": { type: "string", default: "SELECT INBOX" },
    /** Also the memory per IDLE session (PSS growth over this many, INBOX selected), per server. */
    "idle-sessions": { type: "string", default: "0" },
  },
});
if (!(await canRunDovecotImap())) throw new Error("needs root, dovecot-core and dovecot-imapd");
const ROUNDS = Number(values.rounds);
const REPEATS = Number(values.repeats);
const COUNT = Number(values.messages);

interface Target {
  name: string;
  imapsPort: number;
  imapPort: number;
  /** The processes whose memory is the server's. */
  pids(): number[];
  stop(): Promise<void>;
}

const tmp = await Deno.makeTempDir({ prefix: "postern-rtt-probe-" });
await Deno.chmod(tmp, 0o711);
const targets: Target[] = [];
try {
  const tls = await certificate(tmp);
  const corpus = await corpusDir(Number(values.seed), COUNT);
  await loadPostern(`${tmp}/data`, { corpus, count: COUNT, rounds: 1 });
  const home = `${tmp}/dovecot-home`;
  await Deno.mkdir(home, { recursive: true });
  await Deno.chown(home, MAIL_UID, MAIL_UID);
  await linkMaildir(corpus, `${home}/Maildir`, { count: COUNT, uid: MAIL_UID });

  const dovecotPorts = { imapsPort: freePort(), imapPort: freePort() };
  const dovecot = await startDovecotImap(`${tmp}/dovecot`, {
    ...dovecotPorts,
    user: LOGIN,
    password: PASSWORD,
    home,
    cert: tls.cert,
    key: tls.key,
  });
  targets.push({
    name: "dovecot",
    ...dovecotPorts,
    pids: () => processTree(dovecot.pid),
    stop: dovecot.stop,
  });

  /** Starts one build on its own copy of the data and waits for its greeting. */
  const startPostern = async (name: string, root: string, flags: string[] = []): Promise<Target> => {
    await new Deno.Command("cp", { args: ["-a", `${tmp}/data`, `${tmp}/data-${name}`] }).output();
    const build = await startPosternBuild(name, {
      root,
      dataDir: `${tmp}/data-${name}`,
      tls,
      flags,
      env: { POSTERN_IMAP_MAX_CONNECTIONS: "4000", POSTERN_IMAP_MAX_CONNECTIONS_PER_ADDRESS: "4000" },
    });
    return {
      name,
      imapsPort: build.imapsPort,
      imapPort: build.imapPort,
      pids: () => [build.child.pid],
      stop: build.stop,
    };
  };
  if (values.old) targets.push(await startPostern("old", values.old));
  const profileFlags = values.profile ? [`--inspect=127.0.0.1:${values.profile}`] : [];
  targets.push(await startPostern("postern", repoPath("").replace(/\/$/, ""), profileFlags));

  // Per target: a plain and a TLS connection left before login, and a TLS session with INBOX selected.
  // Warm-up as figure 23's (imap_figures.ts): a first session whose FETCH 1:* lets Dovecot build its
  // index, closed before the measured sessions open (an index still being built makes every SELECT
  // of the same session a rescan of the Maildir).
  for (const target of targets) {
    const { wire } = await ImapWire.session(target.imapsPort, {
      caCert: tls.caCert,
      user: LOGIN,
      password: PASSWORD,
    });
    await wire.command("FETCH 1:* (FLAGS UID)");
    await wire.command("LOGOUT").catch(() => undefined);
    wire.close();
  }
  const wires = new Map<string, { plain: ImapWire; tlsGreeted: ImapWire; session: ImapWire; last: string }>();
  for (const target of targets) {
    const plain = await ImapWire.openPlain(target.imapPort);
    const tlsGreeted = await ImapWire.open(target.imapsPort, tls.caCert);
    const { wire: session, select } = await ImapWire.session(target.imapsPort, {
      caCert: tls.caCert,
      user: LOGIN,
      password: PASSWORD,
    });
    const exists = select!.lines.map((line) => /^\* (\d+) EXISTS/.exec(line)?.[1]).find(Boolean);
    const fetched = await session.command(`FETCH ${exists} (UID)`, { keep: true });
    const last = /UID (\d+)/.exec(fetched.lines[0] ?? "")?.[1];
    if (!last) throw new Error(`${target.name}: no UID for message ${exists}`);
    wires.set(target.name, { plain, tlsGreeted, session, last });
    for (let i = 0; i < 20; i++) await session.command("SELECT INBOX");
  }

  type Wires = typeof wires extends Map<string, infer W> ? W : never;
  const probes: { label: string; run: (w: Wires) => [ImapWire, string] }[] = [
    { label: "NOOP, plain, not logged in", run: (w) => [w.plain, "NOOP"] },
    { label: "NOOP, TLS, not logged in", run: (w) => [w.tlsGreeted, "NOOP"] },
    { label: "SELECT INBOX", run: (w) => [w.session, "SELECT INBOX"] },
    { label: "NOOP, TLS, selected", run: (w) => [w.session, "NOOP"] },
    { label: "CHECK, TLS, selected", run: (w) => [w.session, "CHECK"] },
    { label: "UID FETCH last (FLAGS)", run: (w) => [w.session, `UID FETCH ${w.last} (FLAGS)`] },
  ];
  const times = new Map<string, number[]>();
  const bytes = new Map<string, number>();
  let profiler: CpuProfiler | undefined;
  for (const probe of probes) {
    const profiling = values.profile && values["profile-label"]!.split(";").includes(probe.label);
    if (profiling) profiler = await CpuProfiler.start(Number(values.profile));
    for (let round = 0; round < ROUNDS; round++) {
      const order = targets.map((_, i) => targets[(i + round) % targets.length]);
      for (const target of order) {
        const [wire, command] = probe.run(wires.get(target.name)!);
        const t = performance.now();
        for (let i = 0; i < REPEATS; i++) {
          const answer = await wire.command(command);
          if (answer.status !== "OK") throw new Error(`${target.name}: ${command}: ${answer.text}`);
          bytes.set(`${probe.label}/${target.name}`, answer.bytes);
        }
        const key = `${probe.label}/${target.name}`;
        times.set(key, [...times.get(key) ?? [], (performance.now() - t) / REPEATS]);
      }
    }
    if (profiling) {
      console.log(`Profile of postern over "${probe.label}":`);
      const profile = await profiler!.stop();
      const file = await Deno.makeTempFile({
        prefix: `imap-rtt-${probe.label.replace(/\W+/g, "_")}-`,
        suffix: ".cpuprofile",
      });
      await Deno.writeTextFile(file, JSON.stringify(profile));
      console.log(`${summarize(profile)}\n(written to ${file})`);
    }
  }
  const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  console.log(`\n${COUNT} messages, ${ROUNDS} rounds of ${REPEATS} per command (load ${load})`);
  const us = (x: number) => `${(x * 1000).toFixed(0)} µs`;
  for (const probe of probes) {
    const of = (name: string) => median(times.get(`${probe.label}/${name}`)!);
    const cells = targets.map((t) =>
      `${t.name} ${us(of(t.name))} (${bytes.get(`${probe.label}/${t.name}`)} B)`
    );
    const ratio = `postern/dovecot ${(of("postern") / of("dovecot")).toFixed(2)}×`;
    const old = values.old ? `, new/old ${(of("postern") / of("old")).toFixed(2)}×` : "";
    console.log(`${probe.label.padEnd(28)} ${cells.join(", ")}; ${ratio}${old}`);
  }
  for (const w of wires.values()) for (const wire of [w.plain, w.tlsGreeted, w.session]) wire.close();
  const idleSessions = Number(values["idle-sessions"]);
  if (idleSessions > 0) {
    for (const w of wires.values()) for (const wire of [w.plain, w.tlsGreeted, w.session]) wire.close();
    wires.clear();
    const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
    const cells = [];
    for (const target of targets) {
      const base = { caCert: tls.caCert, user: LOGIN, password: PASSWORD, pids: target.pids };
      const bytes = await idleMemory({ name: target.name, port: target.imapsPort, ...base }, {
        connections: idleSessions,
        select: true,
      });
      cells.push(`${target.name} ${kb(bytes)}`);
    }
    console.log(`memory per IDLE session (${idleSessions}, INBOX selected): ${cells.join(", ")}`);
  }
  // Dovecot's complaints (an index it cannot write would make every SELECT a rescan).
  const log = await Deno.readTextFile(`${tmp}/dovecot/dovecot.log`).catch(() => "");
  const complaints = log.split("\n").filter((line) => /Error|Warning|Panic/.test(line));
  if (complaints.length) console.log(`Dovecot's log:\n${complaints.slice(-5).join("\n")}`);
} finally {
  for (const target of targets) await target.stop();
  await Deno.remove(tmp, { recursive: true });
}
