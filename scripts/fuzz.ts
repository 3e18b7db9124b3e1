/**
 * `deno task fuzz`: a seeded fuzz run against a real `postern serve` on 127.0.0.1 (a fresh temporary
 * data directory, its admin from `postern init`, a plain user and two OAuth clients made over HTTP).
 * Surfaces (scripts/fuzz/*.ts), taken in turn, one round each until every surface has had `--count`
 * rounds or `--seconds` have passed:
 *
 * - jmap: random method calls and mutated arguments, result references, creation ids, bad `using`,
 *   nesting around the 128-level limit, as the admin and as the plain user;
 * - mime: generated and broken messages uploaded, imported, read back (Email/get with body values,
 *   SearchSnippet/get, a text query);
 * - oauth: /auth/authorize, token, device, introspect, revoke, register and the sign-in pages;
 * - management: x:…/set of every declared type and settings singleton, objects and JSON-pointer patches;
 * - blob: uploads and downloads with odd types, sizes, names, ids and `accept`.
 *
 * A failure is an HTTP 5xx, a JMAP `serverFail`, no answer within `--timeout-ms` (a hang), the
 * server process gone, a shutdown that does not finish, or `postern db check` on the data afterwards
 * reporting a problem. On a failure the run prints the seed, the surface, the round, the request and
 * the answer (truncated) and the server's last log lines, and exits 1 (with --keep-going it goes on
 * and lists every failure at the end); otherwise it prints counts per surface and status and exits 0.
 * The same --seed and options replay the same requests.
 *
 * Options: --seed N (default: from the clock, printed), --count N rounds per surface (default 200),
 * --seconds N overall bound (default 600), --surface jmap,mime,oauth,management,blob (default all),
 * --timeout-ms N per request (default 30000), --max-message-bytes N (default 262144), --keep-going,
 * --keep-data (leave the data directory for inspection), --verbose (one line per request).
 *
 * CI runs a small fixed-seed run (test/fuzz_smoke_test.ts); a longer run before a release:
 * `deno task fuzz --count 5000 --seconds 3600`, repeated with a few seeds.
 */
import { parseArgs } from "node:util";
import { FuzzClient, FuzzFailure, type FuzzRequest, recovered, truncate } from "./fuzz/client.ts";
import type { FuzzContext, Surface } from "./fuzz/context.ts";
import { blobSurface } from "./fuzz/blob.ts";
import { jmapSurface } from "./fuzz/jmap.ts";
import { managementSurface } from "./fuzz/management.ts";
import { MAX_MESSAGE_BYTES, mimeSurface } from "./fuzz/mime.ts";
import { oauthSurface } from "./fuzz/oauth.ts";
import { Random } from "./fuzz/random.ts";
import { checkDatabase, type FuzzServer, startFuzzServer } from "./fuzz/server.ts";

/** Every surface, by the name `--surface` takes. */
const SURFACES: Record<string, Surface> = {
  jmap: jmapSurface,
  mime: mimeSurface,
  oauth: oauthSurface,
  management: managementSurface,
  blob: blobSurface,
};

interface Options {
  seed: number;
  count: number;
  seconds: number;
  surfaces: string[];
  timeoutMs: number;
  maxMessageBytes: number;
  keepGoing: boolean;
  keepData: boolean;
  verbose: boolean;
}

/** A failure as reported: where, what was sent, what came back. */
interface Failure {
  surface: string;
  round: number;
  kind: string;
  request?: FuzzRequest;
  answer?: string;
  detail?: string;
}

function options(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      seed: { type: "string" },
      count: { type: "string", default: "200" },
      seconds: { type: "string", default: "600" },
      surface: { type: "string", default: Object.keys(SURFACES).join(",") },
      "timeout-ms": { type: "string", default: "30000" },
      "max-message-bytes": { type: "string", default: String(MAX_MESSAGE_BYTES) },
      "keep-going": { type: "boolean", default: false },
      "keep-data": { type: "boolean", default: false },
      verbose: { type: "boolean", default: false },
    },
  });
  const number = (name: string, text: string | undefined) => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, not "${text}"`);
    return n;
  };
  const surfaces = values.surface.split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = surfaces.filter((s) => !(s in SURFACES));
  if (unknown.length || surfaces.length === 0) {
    throw new Error(`--surface takes ${Object.keys(SURFACES).join(", ")}; not "${unknown.join(",")}"`);
  }
  return {
    seed: values.seed === undefined ? Date.now() % 2 ** 31 : number("seed", values.seed),
    count: number("count", values.count),
    seconds: number("seconds", values.seconds),
    surfaces,
    timeoutMs: number("timeout-ms", values["timeout-ms"]),
    maxMessageBytes: Math.max(1, number("max-message-bytes", values["max-message-bytes"])),
    keepGoing: values["keep-going"],
    keepData: values["keep-data"],
    verbose: values.verbose,
  };
}

/** Runs the fuzz rounds; returns the failures. */
async function fuzz(opts: Options, server: FuzzServer, client: FuzzClient): Promise<{
  failures: Failure[];
  rounds: Record<string, number>;
  timedOut: boolean;
}> {
  const ctx: FuzzContext = {
    server,
    client,
    seen: new Map([["account", [server.admin.accountId, server.user.accountId]]]),
    protectedIds: server.protectedIds,
    maxMessageBytes: opts.maxMessageBytes,
  };
  const rng = new Random(opts.seed);
  const failures: Failure[] = [];
  const rounds: Record<string, number> = Object.fromEntries(opts.surfaces.map((s) => [s, 0]));
  const deadline = Date.now() + opts.seconds * 1000;
  for (let round = 0; round < opts.count; round++) {
    for (const surface of opts.surfaces) {
      if (Date.now() > deadline) return { failures, rounds, timedOut: true };
      // Each round draws from its own generator, so one surface's draws never shift another's.
      const roundRng = rng.fork();
      client.surface = surface;
      rounds[surface]++;
      try {
        await SURFACES[surface](roundRng, ctx);
      } catch (error) {
        if (!(error instanceof FuzzFailure)) throw error;
        // A refused connection is how a dead server first shows: give its exit status a moment to arrive.
        if (error.kind === "no answer") await new Promise((resolve) => setTimeout(resolve, 1000));
        const gone = !server.running();
        const failure: Failure = {
          surface,
          round,
          kind: gone ? `${error.kind} (the server process exited)` : error.kind,
          request: error.request,
          answer: error.answer
            ? `${error.answer.status} ${error.answer.contentType}\n${error.answer.text}`
            : undefined,
          detail: error.detail,
        };
        failures.push(failure);
        report(opts, failure, server);
        if (gone || !opts.keepGoing) return { failures, rounds, timedOut: false };
        // A hung request may still hold the server: wait for it before the next round.
        if (error.kind === "hang" && !await recovered(server.url, deadline)) {
          return { failures, rounds, timedOut: true };
        }
      }
    }
  }
  return { failures, rounds, timedOut: false };
}

function report(opts: Options, failure: Failure, server?: FuzzServer): void {
  const lines = [
    `FAIL seed=${opts.seed} surface=${failure.surface} round=${failure.round}: ${failure.kind}`,
  ];
  if (failure.request) {
    const r = failure.request;
    const body = r.body === undefined
      ? ""
      : typeof r.body === "string"
      ? r.body
      : `(${r.body.length} bytes) ${new TextDecoder().decode(r.body.subarray(0, 2000))}`;
    lines.push(`request: ${r.method} ${truncate(r.path, 500)}`);
    lines.push(`headers: ${truncate(JSON.stringify(r.headers ?? {}), 500)}`);
    if (body) lines.push(`body: ${truncate(body)}`);
  }
  if (failure.detail) lines.push(failure.detail);
  if (failure.answer) lines.push(`answer: ${truncate(failure.answer)}`);
  if (server) lines.push(`server log (last lines):\n${server.log(3000)}`);
  console.error(lines.join("\n") + "\n");
}

async function main(): Promise<number> {
  const opts = options(Deno.args);
  console.log(
    `fuzz: seed=${opts.seed} count=${opts.count} seconds=${opts.seconds} surfaces=${opts.surfaces.join(",")}`,
  );
  const started = Date.now();
  const server = await startFuzzServer({ keepData: opts.keepData });
  const client = new FuzzClient(server.url, { timeoutMs: opts.timeoutMs, verbose: opts.verbose });
  let result;
  try {
    result = await fuzz(opts, server, client);
  } finally {
    const stopped = await server.stop();
    // A fault of the harness itself (an exception, not a failure of the server) leaves nothing behind.
    if (!result && !opts.keepData) {
      await Deno.remove(server.dataDir, { recursive: true }).catch(() => undefined);
    }
    if (!stopped) {
      result?.failures.push({
        surface: "shutdown",
        round: -1,
        kind: "the server did not exit after SIGTERM",
      });
    }
  }
  const { failures, rounds, timedOut } = result;
  if (failures.at(-1)?.surface === "shutdown") report(opts, failures.at(-1)!);
  const problems = await checkDatabase(server.dataDir);
  if (problems.length) {
    const failure = { surface: "db check", round: -1, kind: `postern db check: ${problems.join("; ")}` };
    failures.push(failure);
    report(opts, failure);
  }
  if (opts.keepData) console.log(`data directory kept: ${server.dataDir}`);
  else await Deno.remove(server.dataDir, { recursive: true }).catch(() => undefined);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `rounds per surface: ${JSON.stringify(rounds)}${
      timedOut ? ` (stopped at --seconds ${opts.seconds})` : ""
    }`,
  );
  for (const [surface, counts] of Object.entries(client.counts)) {
    console.log(`  ${surface.padEnd(11)} answers by status: ${JSON.stringify(counts)}`);
    const slowest = client.slowest[surface];
    if (slowest) {
      console.log(`  ${"".padEnd(11)} slowest answer: ${Math.round(slowest.ms)} ms (${slowest.request})`);
    }
    const methods = Object.entries(client.methods[surface] ?? {}).sort(([, a], [, b]) => b - a);
    if (methods.length) {
      console.log(
        `  ${"".padEnd(11)} JMAP answers: ${methods.map(([name, n]) => `${name} ${n}`).join(", ")}`,
      );
    }
  }
  if (failures.length) {
    console.log(`fuzz FAILED (seed ${opts.seed}, ${seconds} s): ${failures.length} failure(s):`);
    for (const f of failures) console.log(`  ${f.surface} round ${f.round}: ${f.kind}`);
    return 1;
  }
  console.log(`fuzz passed (seed ${opts.seed}, ${seconds} s): no 5xx, serverFail, hang or integrity problem`);
  return 0;
}

if (import.meta.main) Deno.exit(await main());
