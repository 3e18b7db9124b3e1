/**
 * The IMAP figures (issue 24's benchmark): Postern against a private Dovecot (Debian, Maildir, its
 * defaults) on the same mailbox of `count` messages (default 100,000; POSTERN_BENCH_IMAP_MESSAGES),
 * both over implicit TLS on loopback with one certificate, driven by the same raw client
 * (scripts/bench/imap_wire.ts), in one run, rounds interleaved (the order rotating), medians:
 *
 * 23–28. SELECT INBOX; FETCH 1:* (FLAGS UID); UID FETCH of 50 full messages; UID SEARCH TEXT of a
 *     common and of a rare word; STORE +FLAGS on 1,000 messages: Postern's time as a ratio to
 *     Dovecot's (target ≤ 1.5×), after one warm-up round per command on both servers (printed,
 *     not counted).
 * 29. A 20-client mixed load (scripts/bench/imap_ops.ts documents its proportions): operations per
 *     second as a ratio to Dovecot's (target ≥ 1×).
 * 30. Memory per idle IDLE session: 500 sessions, server PSS after minus before, per session
 *     (target ≤ 50 KB), beside Dovecot's.
 * 31. For information, where Postern's SELECT goes at this size: the IMAP mail service's select()
 *     in-process, and the store's read of every row of the mailbox (`store.imap.messages`) alone.
 *
 * The corpus (scripts/bench/imap_corpus.ts) is cached by seed and count, so a second run only
 * loads it: Postern's copy through the store's import in-process, Dovecot's as Maildir links. A
 * command Postern answers with BAD (the selected state being written) is reported "not measured".
 * Needs root, openssl and the Debian packages dovecot-core and dovecot-imapd; skipped without them.
 *
 *   POSTERN_BENCH_IMAP_MESSAGES=10000 deno task bench --only imap
 *   deno run -A scripts/bench/imap_figures.ts [--messages 10000] [--rounds 3] [--seed 24]
 */
import { parseArgs } from "node:util";
import { canRunDovecotImap, MAIL_UID, startDovecotImap } from "./dovecot.ts";
import { ADMIN_PASSWORD, PASSWORD } from "./email_store.ts";
import { corpusDir, crlfMessage, linkMaildir } from "./imap_corpus.ts";
import { COMMANDS, idleMemory, type ImapTarget, mixedLoad, NotMeasured, processTree } from "./imap_ops.ts";
import { certificate, freePort, hasOpenssl, loadPostern, LOGIN } from "./imap_setup.ts";
import { ImapWire } from "./imap_wire.ts";
import { ProcessGroup } from "./processes.ts";
import { type Figure, median, ms, printSummary } from "./report.ts";

/** What the section is told by the benchmark. */
export interface ImapBenchOptions {
  tmp: string;
  count: number;
  seed: number;
  rounds: number;
  /** Milliseconds of each mixed-load round per server. */
  mixedMs: number;
  clients: number;
  idleConnections: number;
}

/** Measured values of one server: ms per command, ops/s, bytes per IDLE session; a string = not measured. */
type Result = number | string;

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

/** The message count of the section: POSTERN_BENCH_IMAP_MESSAGES, else 10,000 quick or 100,000. */
export function imapMessageCount(quick: boolean): number {
  const fromEnv = Deno.env.get("POSTERN_BENCH_IMAP_MESSAGES");
  if (fromEnv === undefined) return quick ? 10_000 : 100_000;
  const count = Number(fromEnv);
  if (!Number.isInteger(count) || count < 1000) {
    throw new Error(`POSTERN_BENCH_IMAP_MESSAGES must be a whole number ≥ 1000, not "${fromEnv}"`);
  }
  return count;
}

/** Runs figures 23 to 31 with servers of `group`. */
export async function imapFigures(group: ProcessGroup, options: ImapBenchOptions): Promise<Figure[]> {
  if (!(await canRunDovecotImap()) || !(await hasOpenssl())) {
    console.log("\nIMAP figures skipped: they need root, openssl, dovecot-core and dovecot-imapd");
    return [skipped("23–31. IMAP against Dovecot", "needs root, openssl, dovecot-imapd")];
  }
  const n = options.count.toLocaleString("en-US");
  console.log(`\nIMAP against Dovecot on one mailbox of ${n} messages (seed ${options.seed})`);
  let t = performance.now();
  const corpus = await corpusDir(options.seed, options.count);
  console.log(`Corpus ready in ${seconds(t)} (${corpus})`);

  const dir = `${options.tmp}/imap`;
  const dataDir = `${dir}/postern-data`;
  await Deno.mkdir(dir, { recursive: true });
  // Dovecot's imap processes run as nobody: they must be able to pass through to the home.
  for (const path of [options.tmp, dir]) await Deno.chmod(path, 0o711);
  const tls = await certificate(dir);
  t = performance.now();
  const internal = await loadPostern(dataDir, { corpus, count: options.count, rounds: options.rounds });
  t = performance.now();
  const home = `${dir}/dovecot-home`;
  await Deno.mkdir(home, { recursive: true });
  await Deno.chown(home, MAIL_UID, MAIL_UID);
  await linkMaildir(corpus, `${home}/Maildir`, { count: options.count, uid: MAIL_UID });
  console.log(`Dovecot's Maildir linked in ${seconds(t)}`);

  const imapsPort = freePort();
  t = performance.now();
  const postern = await group.startPostern("postern-imap", {
    dataDir,
    logLevel: "warning",
    logPath: `${dir}/postern.log`,
    startTimeoutMs: 600_000,
    env: {
      POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD,
      POSTERN_IMAPS_LISTEN: `127.0.0.1:${imapsPort}`,
      POSTERN_TLS_CERT: tls.cert,
      POSTERN_TLS_KEY: tls.key,
      POSTERN_IMAP_MAX_CONNECTIONS: String(options.idleConnections * 2),
      POSTERN_IMAP_MAX_CONNECTIONS_PER_ADDRESS: String(options.idleConnections * 2),
    },
  });
  console.log(`Postern started in ${seconds(t)}`);
  const dovecot = await startDovecotImap(`${dir}/dovecot`, {
    imapsPort: freePort(),
    user: LOGIN,
    password: PASSWORD,
    home,
    cert: tls.cert,
    key: tls.key,
  });
  // An interrupted benchmark (bench.ts stops its process group on a signal) stops Dovecot too.
  const onSignal = () => void dovecot.stop();
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, onSignal);
  try {
    const base = { caCert: tls.caCert, user: LOGIN, password: PASSWORD };
    const targets: ImapTarget[] = [
      { name: "dovecot", port: dovecot.imapsPort, ...base, pids: () => processTree(dovecot.pid) },
      { name: "postern", port: imapsPort, ...base, pids: () => [postern.pid] },
    ];
    return await measure(targets, { ...options, corpus }, internal);
  } finally {
    for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.removeSignalListener(signal, onSignal);
    await group.stopOne(postern);
    await dovecot.stop();
  }
}

async function measure(
  targets: ImapTarget[],
  options: ImapBenchOptions & { corpus: string },
  internal: Record<string, number>,
): Promise<Figure[]> {
  const results: Record<string, Record<string, Result>> = { dovecot: {}, postern: {} };
  // Warm-up, and Dovecot's first SELECT (it indexes the Maildir) for information.
  for (const target of targets) {
    const t = performance.now();
    const { wire, select } = await ImapWire.session(target.port, target);
    const first = performance.now() - t;
    if (select!.status === "OK") {
      await wire.command("FETCH 1:* (FLAGS UID)");
      console.log(`${target.name}: first login + SELECT ${ms(first)}`);
    } else {
      console.log(`${target.name}: SELECT answered ${select!.text}`);
    }
    wire.close();
  }
  for (const command of COMMANDS) {
    const perRound: Record<string, number[]> = { dovecot: [], postern: [] };
    const sessions = new Map<string, ImapWire | string>();
    for (const target of targets) {
      const { wire, select } = await ImapWire.session(target.port, target);
      sessions.set(
        target.name,
        select!.status === "OK" ? wire : `SELECT: ${select!.text}`,
      );
    }
    const warmUp: string[] = [];
    // Round -1 warms both servers up on this command and is not counted (printed for information):
    // Postern's first tens of body fetches run before its JIT and heap have settled.
    for (let round = -1; round < options.rounds; round++) {
      const order = round % 2 ? [...targets].reverse() : targets;
      for (const target of order) {
        const wire = sessions.get(target.name);
        if (!(wire instanceof ImapWire)) continue;
        const times: number[] = [];
        try {
          for (let i = 0; i < command.iterations(options.count); i++) {
            times.push(await command.run(wire, (round + 1) * 100 + i, options.count));
          }
          if (round >= 0) perRound[target.name].push(median(times));
          else warmUp.push(`${target.name} ${ms(median(times))}`);
        } catch (error) {
          if (!(error instanceof NotMeasured)) throw error;
          sessions.set(target.name, error.message);
        }
      }
    }
    for (const target of targets) {
      const session = sessions.get(target.name);
      results[target.name][command.key] = typeof session === "string"
        ? session
        : median(perRound[target.name]);
      if (session instanceof ImapWire) session.close();
    }
    console.log(
      `${command.label}: ${
        targets.map((t) => `${t.name} ${show(results[t.name][command.key], ms)}`).join(", ")
      } (warm-up round, not counted: ${warmUp.join(", ")})`,
    );
  }

  const appendable = await Promise.all(
    Array.from({ length: 20 }, (_, i) => crlfMessage(options.corpus, i)),
  );
  const mixed: Record<string, number[]> = { dovecot: [], postern: [] };
  const mixedError: Record<string, string> = {};
  for (let round = 0; round < options.rounds; round++) {
    for (const target of round % 2 ? [...targets].reverse() : targets) {
      if (mixedError[target.name]) continue;
      try {
        const { opsPerSecond, ops, meanMs, unfinished } = await mixedLoad(target, {
          clients: options.clients,
          durationMs: options.mixedMs,
          count: options.count,
          appendable,
        });
        mixed[target.name].push(opsPerSecond);
        console.log(
          `${target.name} mixed load round ${round + 1}: ${Math.round(opsPerSecond)} ops/s; ` +
            `count ${JSON.stringify(ops)}; mean ms ${JSON.stringify(meanMs)}; ` +
            `cut off ${JSON.stringify(unfinished)}`,
        );
      } catch (error) {
        if (!(error instanceof NotMeasured)) throw error;
        mixedError[target.name] = error.message;
      }
    }
  }
  for (const target of targets) {
    results[target.name].mixed = mixedError[target.name] ?? median(mixed[target.name]);
  }
  console.log(
    `Mixed load, ${options.clients} clients: ${
      targets.map((t) => `${t.name} ${show(results[t.name].mixed, opsPerSecond)}`).join(", ")
    }`,
  );

  // IDLE in the state Postern reaches: with INBOX selected when it can, else authenticated.
  const probe = await ImapWire.session(targets[1].port, targets[1]);
  const select = probe.select!.status === "OK";
  probe.wire.close();
  for (const target of targets) {
    results[target.name].idle = await idleMemory(target, { connections: options.idleConnections, select });
    console.log(
      `${target.name}: ${show(results[target.name].idle, kb)} per IDLE session ` +
        `(${options.idleConnections}, ${select ? "INBOX selected" : "no mailbox selected"})`,
    );
  }
  return figuresOf(results, { ...options, select, internal });
}

function figuresOf(
  results: Record<string, Record<string, Result>>,
  context: ImapBenchOptions & { select: boolean; internal: Record<string, number> },
): Figure[] {
  const n = context.count.toLocaleString("en-US");
  const { dovecot, postern } = results;
  const figures: Figure[] = COMMANDS.map((command, i) =>
    ratioFigure(`${23 + i}. IMAP ${command.label}, ${n} msgs`, postern[command.key], dovecot[command.key], {
      format: ms,
      target: "≤ 1.5× Dovecot",
      pass: (ratio) => ratio <= 1.5,
    })
  );
  figures.push(
    ratioFigure(`29. IMAP mixed load, ${context.clients} clients`, postern.mixed, dovecot.mixed, {
      format: opsPerSecond,
      target: "≥ 1× Dovecot",
      pass: (ratio) => ratio >= 1,
    }),
  );
  const idle = postern.idle;
  figures.push({
    figure: `30. IMAP memory per IDLE session (${context.idleConnections}, ${
      context.select ? "INBOX selected" : "none selected"
    })`,
    value: show(idle, kb),
    baseline: `Dovecot ${show(dovecot.idle, kb)}`,
    ratio: typeof idle === "number" && typeof dovecot.idle === "number"
      ? `${(idle / dovecot.idle).toFixed(2)}×`
      : "—",
    target: "≤ 50 KB",
    result: typeof idle === "number" ? (idle <= 50 * 1024 ? "PASS" : "FAIL") : "info",
  });
  figures.push({
    figure: `31. Postern select() in-process, ${n} msgs`,
    value: ms(context.internal.select),
    baseline: `of which rows ${ms(context.internal.rows)}`,
    ratio: "—",
    target: "—",
    result: "info",
  });
  return figures;
}

function ratioFigure(
  figure: string,
  value: Result,
  baseline: Result,
  options: { format: (v: number) => string; target: string; pass: (ratio: number) => boolean },
): Figure {
  if (typeof value !== "number" || typeof baseline !== "number") {
    return {
      figure,
      value: typeof value === "number" ? options.format(value) : "not measured",
      baseline: show(baseline, options.format),
      ratio: "—",
      target: options.target,
      result: "info",
    };
  }
  const ratio = value / baseline;
  return {
    figure,
    value: options.format(value),
    baseline: options.format(baseline),
    ratio: `${ratio.toFixed(2)}×`,
    target: options.target,
    result: options.pass(ratio) ? "PASS" : "FAIL",
  };
}

function show(value: Result | undefined, format: (v: number) => string): string {
  if (value === undefined) return "—";
  return typeof value === "number" ? format(value) : `not measured (${value.slice(0, 80)})`;
}

function opsPerSecond(value: number): string {
  return `${Math.round(value).toLocaleString("en-US")} ops/s`;
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

function skipped(figure: string, why: string): Figure {
  return { figure, value: "skipped", baseline: why, ratio: "—", target: "—", result: "info" };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string" },
      rounds: { type: "string", default: "3" },
      seed: { type: "string", default: "24" },
      "mixed-ms": { type: "string", default: "5000" },
    },
  });
  const tmp = await Deno.makeTempDir({ prefix: "postern-imap-bench-" });
  const group = new ProcessGroup();
  try {
    const figures = await imapFigures(group, {
      tmp,
      count: values.messages ? Number(values.messages) : imapMessageCount(false),
      seed: Number(values.seed),
      rounds: Number(values.rounds),
      mixedMs: Number(values["mixed-ms"]),
      clients: 20,
      idleConnections: 500,
    });
    console.log("");
    printSummary(figures);
  } finally {
    await group.stopAll();
    await Deno.remove(tmp, { recursive: true }).catch(() => undefined);
  }
}
