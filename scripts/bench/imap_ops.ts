/**
 * What the IMAP benchmark does to a server, the same for Postern and Dovecot (the client is
 * scripts/bench/imap_wire.ts, on INBOX of the benchmark's mailbox):
 *
 * - {@link COMMANDS}: the single commands, each timed from sending to the tagged OK.
 * - {@link mixedLoad}: 20 clients (imaptest-style), each on its own connection with INBOX selected,
 *   running for a fixed time and choosing every operation by these weights: FETCH (FLAGS UID) of a
 *   range of 100 messages 30%, UID FETCH BODY.PEEK[] of one message 28%, STORE ±FLAGS (\Flagged) on
 *   one message 15%, NOOP 10%, SELECT INBOX 5%, APPEND of a corpus message 5%, expunge (UID STORE
 *   +FLAGS (\Deleted) then UID EXPUNGE of a message this client appended; an APPEND when it has
 *   none) 5%, UID SEARCH TEXT of a rare word 2%. Appends never fall below the expunges, so every
 *   sequence number up to the initial count stays valid. Result: operations per second.
 * - {@link idleMemory}: `connections` sessions that log in, select INBOX when the server can, and
 *   enter IDLE; the server's proportional set size (PSS, all its processes: Dovecot runs one
 *   process per session) before and after, per connection.
 *
 * A command the server refuses (BAD, e.g. Postern's `not supported yet`) makes that figure "not
 * measured" with the server's own words; it never stops the benchmark.
 */
import { type Answer, ImapWire } from "./imap_wire.ts";
import { SEARCH_WORDS } from "./imap_corpus.ts";

/** Where and as whom the client connects. */
export interface ImapTarget {
  name: string;
  port: number;
  caCert: string;
  user: string;
  password: string;
  /** The PIDs whose memory is the server's (Postern: one; Dovecot: the master and its children). */
  pids: () => number[];
}

/** A refusal: the figure is reported as not measured. */
export class NotMeasured extends Error {}

/** Throws NotMeasured unless `answer` is OK. */
export function expectOk(answer: Answer, what: string): Answer {
  if (answer.status !== "OK") throw new NotMeasured(`${what}: ${answer.text}`);
  return answer;
}

/** One timed command: `run(i)` does iteration i on a selected connection and returns its ms. */
export interface TimedCommand {
  key: string;
  label: string;
  /** Iterations per round (the slow ones fewer). */
  iterations: (count: number) => number;
  run: (wire: ImapWire, i: number, count: number) => Promise<number>;
}

async function timed(wire: ImapWire, text: string, check: (a: Answer) => void): Promise<number> {
  const started = performance.now();
  const answer = await wire.command(text);
  const elapsed = performance.now() - started;
  expectOk(answer, text.split(" ").slice(0, 3).join(" "));
  check(answer);
  return elapsed;
}

function expectUntagged(least: number, what: string) {
  return (a: Answer) => {
    if (a.untagged < least) throw new NotMeasured(`${what}: ${a.untagged} responses, expected ${least}`);
  };
}

/** Dovecot (no full-text index, Debian's default) reads every message per TEXT search: fewer on big mailboxes. */
function searchIterations(count: number): number {
  return count > 20_000 ? 1 : 3;
}

/** The single commands. UIDs are 1…count on both servers (the corpus order). */
export const COMMANDS: TimedCommand[] = [
  {
    key: "select",
    label: "SELECT INBOX",
    iterations: () => 10,
    run: (wire) => timed(wire, "SELECT INBOX", () => undefined),
  },
  {
    key: "fetchFlags",
    label: "FETCH 1:* (FLAGS UID)",
    iterations: () => 5,
    run: (wire, _i, count) => timed(wire, "FETCH 1:* (FLAGS UID)", expectUntagged(count, "FETCH 1:*")),
  },
  {
    key: "fetchFull",
    label: "UID FETCH of 50 full messages (BODY.PEEK[])",
    iterations: () => 10,
    run: (wire, i, count) => {
      const step = Math.floor(count / 50);
      const uids = Array.from({ length: 50 }, (_, k) => 1 + ((k * step + i * 97) % count));
      return timed(wire, `UID FETCH ${uids.join(",")} (UID BODY.PEEK[])`, expectUntagged(50, "UID FETCH"));
    },
  },
  {
    key: "searchCommon",
    label: `UID SEARCH TEXT ${SEARCH_WORDS.common} (in nearly all)`,
    iterations: searchIterations,
    run: (wire) => timed(wire, `UID SEARCH TEXT ${SEARCH_WORDS.common}`, expectUntagged(1, "SEARCH")),
  },
  {
    key: "searchRare",
    label: `UID SEARCH TEXT ${SEARCH_WORDS.rare} (in 1 of 200)`,
    iterations: searchIterations,
    run: (wire) => timed(wire, `UID SEARCH TEXT ${SEARCH_WORDS.rare}`, expectUntagged(1, "SEARCH")),
  },
  {
    key: "store",
    label: "STORE +FLAGS (\\Answered) on 1,000 messages",
    iterations: () => 5,
    run: async (wire, i, count) => {
      const blocks = Math.max(1, Math.floor(count / 1000));
      const first = 1 + (i % blocks) * 1000;
      const range = `${first}:${Math.min(count, first + 999)}`;
      const ms = await timed(wire, `STORE ${range} +FLAGS (\\Answered)`, expectUntagged(1, "STORE"));
      // Put the flags back, untimed, so every iteration changes 1,000 messages.
      expectOk(await wire.command(`STORE ${range} -FLAGS.SILENT (\\Answered)`), "STORE -FLAGS");
      return ms;
    },
  },
];

/** The mixed load's operations and weights (percent), as the module header documents. */
const MIX: [string, number][] = [
  ["fetchFlags", 30],
  ["fetchBody", 28],
  ["store", 15],
  ["noop", 10],
  ["select", 5],
  ["append", 5],
  ["expunge", 5],
  ["search", 2],
];

/** What a mixed-load round did: operations completed in the window, by kind, and what was cut off. */
export interface MixedResult {
  opsPerSecond: number;
  ops: Record<string, number>;
  meanMs: Record<string, number>;
  /** Operations still running when the window closed (their connections are closed, not waited for). */
  unfinished: Record<string, number>;
}

/** Operations per second of `clients` sessions for `durationMs`, with `appendable` messages to APPEND. */
export async function mixedLoad(
  target: ImapTarget,
  options: { clients: number; durationMs: number; count: number; appendable: Uint8Array[] },
): Promise<MixedResult> {
  const sessions = await Promise.all(
    Array.from({ length: options.clients }, () => ImapWire.session(target.port, target)),
  );
  for (const { select } of sessions) expectOk(select!, "SELECT INBOX");
  const ops: Record<string, number> = Object.fromEntries(MIX.map(([name]) => [name, 0]));
  const spent: Record<string, number> = Object.fromEntries(MIX.map(([name]) => [name, 0]));
  const unfinished: Record<string, number> = {};
  let stop = false;
  const client = async (wire: ImapWire, c: number) => {
    let seed = 1 + c * 7919;
    const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const appended: number[] = [];
    const seq = () => 1 + Math.floor(next() * (options.count - 100));
    let op = "";
    try {
      await run();
    } catch (error) {
      // The window closed on this operation: its connection was closed under it.
      if (!stop) throw error;
      unfinished[op] = (unfinished[op] ?? 0) + 1;
    }
    async function run() {
      while (!stop) {
        let roll = next() * 100;
        op = MIX[MIX.length - 1][0];
        for (const [name, weight] of MIX) {
          if ((roll -= weight) < 0) {
            op = name;
            break;
          }
        }
        if (op === "expunge" && appended.length === 0) op = "append";
        const started = performance.now();
        switch (op) {
          case "fetchFlags": {
            const first = seq();
            expectOk(await wire.command(`FETCH ${first}:${first + 99} (FLAGS UID)`), "FETCH");
            break;
          }
          case "fetchBody":
            expectOk(await wire.command(`UID FETCH ${seq()} (UID BODY.PEEK[])`), "UID FETCH");
            break;
          case "store":
            expectOk(
              await wire.command(`STORE ${seq()} ${next() < 0.5 ? "+" : "-"}FLAGS (\\Flagged)`),
              "STORE",
            );
            break;
          case "noop":
            expectOk(await wire.command("NOOP"), "NOOP");
            break;
          case "select":
            expectOk(await wire.command("SELECT INBOX"), "SELECT");
            break;
          case "append": {
            // Octets the mailbox already holds: both servers make a new message with a UID of its own,
            // which this client may expunge as its own.
            const message = options.appendable[Math.floor(next() * options.appendable.length)];
            const answer = expectOk(
              await wire.command("APPEND INBOX (\\Seen)", { literal: message }),
              "APPEND",
            );
            const uid = /APPENDUID \d+ (\d+)/.exec(answer.text)?.[1];
            if (uid) appended.push(Number(uid));
            break;
          }
          case "expunge": {
            const uid = appended.pop()!;
            expectOk(await wire.command(`UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`), "UID STORE");
            expectOk(await wire.command(`UID EXPUNGE ${uid}`), "UID EXPUNGE");
            break;
          }
          case "search":
            expectOk(await wire.command(`UID SEARCH TEXT ${SEARCH_WORDS.rare}`), "UID SEARCH");
            break;
        }
        if (!stop) {
          ops[op]++;
          spent[op] += performance.now() - started;
        }
      }
    }
  };
  // At the end of the window every connection is closed: an operation still running (a long search)
  // is cut off and not counted, so a round lasts the window whatever the server is doing.
  const closeAll = () => {
    stop = true;
    for (const { wire } of sessions) wire.close();
  };
  const timer = setTimeout(closeAll, options.durationMs);
  try {
    await Promise.all(sessions.map(({ wire }, c) => client(wire, c)));
  } finally {
    clearTimeout(timer);
    closeAll();
  }
  const seconds = options.durationMs / 1000;
  const total = Object.values(ops).reduce((a, b) => a + b, 0);
  const meanMs = Object.fromEntries(
    MIX.map(([name]) => [name, ops[name] ? Math.round(spent[name] / ops[name] * 10) / 10 : 0]),
  );
  return { opsPerSecond: total / seconds, ops, meanMs, unfinished };
}

/** The proportional set size of `pids` together, in bytes. */
export function pssOf(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const rollup = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
      total += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
    } catch { /* exited */ }
  }
  return total;
}

/** `pid` and all its descendants. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry.name)]);
    } catch { /* exited */ }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/**
 * Bytes of server memory per IDLE session: `connections` sessions log in (25 at a time), select
 * INBOX when `select`, and IDLE; PSS after (settled) minus PSS before, over `connections`.
 */
export async function idleMemory(
  target: ImapTarget,
  options: { connections: number; select: boolean },
): Promise<number> {
  await new Promise((r) => setTimeout(r, 1000));
  const before = pssOf(target.pids());
  const wires: ImapWire[] = [];
  try {
    for (let i = 0; i < options.connections; i += 25) {
      const batch = await Promise.all(
        Array.from(
          { length: Math.min(25, options.connections - i) },
          () => ImapWire.session(target.port, { ...target, select: options.select }),
        ),
      );
      for (const { wire, select } of batch) {
        wires.push(wire);
        if (select) expectOk(select, "SELECT INBOX");
        await wire.idle();
      }
    }
    await new Promise((r) => setTimeout(r, 2000));
    const after = pssOf(target.pids());
    return (after - before) / options.connections;
  } finally {
    for (const wire of wires) wire.close();
  }
}
