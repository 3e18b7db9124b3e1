/**
 * JMAP latency probe for the query figure, run as its own process: one keep-alive connection sends
 * POST /jmap one after another, each either an `x:Account/query` page of `--limit` accounts at a
 * pseudo-random position over the whole result (sorted by name) followed by an `x:Account/get` of its
 * `#ids`, or a `Core/echo` (the baseline: a trivial JMAP round trip on the same connection). After a
 * warm-up of both, the two kinds alternate in blocks, the order swapped each block, so drifts on the
 * machine touch both alike. Every query response must carry `--limit` ids and as many objects, and
 * every echo its echo: anything else is an error (exit code 1), not a figure.
 *
 *   deno run -A scripts/bench/jmap_probe.ts --url http://127.0.0.1:8080 --authorization "Basic …" \
 *     --requests 400 --warmup 100
 *
 * Prints one JSON line: the latencies (ms) of each kind, the total the query matched and the
 * account cache's hits and misses over the measured requests (from /metrics).
 */
import { parseArgs } from "node:util";
import { httpGet, httpRequest, RawConnection } from "./http_client.ts";

/** What one probe run saw. */
export interface JmapProbeResult {
  accountId: string;
  /** Accounts the query's filter matched. */
  total: number;
  /** Latencies (ms) of the measured query + get requests, in order. */
  query: number[];
  /** Latencies (ms) of the measured Core/echo requests, in order. */
  echo: number[];
  /** account_by_id cache counters over the measured requests (undefined if /metrics lacks them). */
  cache?: { hits: number; misses: number };
}

interface ProbeOptions {
  base: URL;
  authorization: string;
  requests: number;
  warmup: number;
  limit: number;
  block: number;
  seed: number;
}

const CORE = "urn:ietf:params:jmap:core";
const MANAGEMENT = "urn:postern:jmap";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

type Invocation = [string, Record<string, unknown>, string];

/** Runs the probe; throws on the first response that is not what was asked for. */
export async function runJmapProbe(options: ProbeOptions): Promise<JmapProbeResult> {
  const headers = { authorization: options.authorization };
  const session = JSON.parse(decoder.decode(await httpGet(new URL("/jmap/session", options.base), headers)));
  const accountId = session.primaryAccounts?.[MANAGEMENT];
  if (typeof accountId !== "string") {
    throw new Error(`The session names no primary account for ${MANAGEMENT}: ${JSON.stringify(session)}`);
  }
  const url = new URL("/jmap", options.base);
  const post = (body: unknown) =>
    httpRequest(
      "POST",
      url,
      { ...headers, "content-type": "application/json" },
      encoder.encode(JSON.stringify(body)),
    );
  const filter = { "@type": "User" };
  const sort = [{ property: "name" }];
  const connection = await RawConnection.open(url);
  try {
    const call = async (request: Uint8Array) => {
      const started = performance.now();
      const answer = await connection.send(request);
      const ms = performance.now() - started;
      if (answer.status !== 200) {
        throw new Error(`POST /jmap answered ${answer.status}: ${decoder.decode(answer.body)}`);
      }
      return { ms, body: answer.body };
    };

    const first = await call(post({
      using: [CORE, MANAGEMENT],
      methodCalls: [["x:Account/query", { accountId, filter, sort, limit: 1, calculateTotal: true }, "t"]],
    }));
    const total = Number(responses(first.body)[0]?.[1]?.total);
    if (!(total >= options.limit)) {
      throw new Error(`The query matched ${total} accounts, fewer than a page of ${options.limit}`);
    }

    const echoRequest = post({ using: [CORE], methodCalls: [["Core/echo", { hello: true }, "0"]] });
    const echoBody = (await call(echoRequest)).body;
    checkEcho(echoBody);
    const echo = async () => {
      const { ms, body } = await call(echoRequest);
      if (body.length !== echoBody.length) checkEcho(body);
      return ms;
    };

    let seed = options.seed >>> 0;
    const random = () => { // xorshift32: the same positions every run
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    const query = async () => {
      const position = Math.floor(random() * (total - options.limit + 1));
      const { ms, body } = await call(post({
        using: [CORE, MANAGEMENT],
        methodCalls: [
          ["x:Account/query", { accountId, filter, sort, position, limit: options.limit }, "q"],
          [
            "x:Account/get",
            { accountId, "#ids": { resultOf: "q", name: "x:Account/query", path: "/ids" } },
            "g",
          ],
        ],
      }));
      checkPage(body, position, options.limit);
      return ms;
    };

    for (let i = 0; i < options.warmup; i++) {
      await echo();
      await query();
    }
    const before = await cacheCounters(options.base, headers);
    const out = { query: [] as number[], echo: [] as number[] };
    for (let block = 0; out.query.length < options.requests; block++) {
      const n = Math.min(options.block, options.requests - out.query.length);
      const steps = [
        async () => {
          for (let i = 0; i < n; i++) out.echo.push(await echo());
        },
        async () => {
          for (let i = 0; i < n; i++) out.query.push(await query());
        },
      ];
      if (block % 2) steps.reverse();
      for (const step of steps) await step();
    }
    const after = await cacheCounters(options.base, headers);
    const cache = before && after
      ? { hits: after.hits - before.hits, misses: after.misses - before.misses }
      : undefined;
    return { accountId, total, ...out, ...(cache ? { cache } : {}) };
  } finally {
    connection.close();
  }
}

function responses(body: Uint8Array): Invocation[] {
  const parsed = JSON.parse(decoder.decode(body));
  if (!Array.isArray(parsed?.methodResponses)) {
    throw new Error(`Not a JMAP response: ${decoder.decode(body).slice(0, 500)}`);
  }
  return parsed.methodResponses;
}

function checkEcho(body: Uint8Array): void {
  const [first] = responses(body);
  if (first?.[0] !== "Core/echo" || first[1]?.hello !== true) {
    throw new Error(`Core/echo answered ${decoder.decode(body).slice(0, 500)}`);
  }
}

/** The query must return `limit` ids and the get exactly those objects. */
function checkPage(body: Uint8Array, position: number, limit: number): void {
  const list = responses(body);
  const [q, g] = list;
  const fail = (why: string) => {
    throw new Error(`Query at position ${position}: ${why}: ${decoder.decode(body).slice(0, 500)}`);
  };
  if (list.length !== 2 || q[0] !== "x:Account/query" || g[0] !== "x:Account/get") {
    fail("expected an x:Account/query and an x:Account/get response");
  }
  const ids = q[1].ids as string[];
  if (!Array.isArray(ids) || ids.length !== limit) fail(`${ids?.length} ids instead of ${limit}`);
  if (q[1].position !== position) fail(`position ${q[1].position} instead of ${position}`);
  const objects = g[1].list as { id: string }[];
  if (!Array.isArray(objects) || objects.length !== limit) {
    fail(`${objects?.length} objects instead of ${limit}`);
  }
  const notFound = g[1].notFound as string[];
  if (notFound?.length) fail(`${notFound.length} ids not found`);
  const got = new Set(objects.map((o) => o.id));
  if (!ids.every((id) => got.has(id))) fail("the objects are not the ids the query returned");
}

/** Hits and misses of the account cache so far, from /metrics. */
async function cacheCounters(
  base: URL,
  headers: Record<string, string>,
): Promise<{ hits: number; misses: number } | undefined> {
  const text = decoder.decode(await httpGet(new URL("/metrics", base), headers));
  const read = (name: string) => {
    const match = new RegExp(`^${name}\\{cache="account_by_id"\\} (\\d+)$`, "m").exec(text);
    return match ? Number(match[1]) : undefined;
  };
  const hits = read("postern_cache_hits_total");
  const misses = read("postern_cache_misses_total");
  return hits === undefined || misses === undefined ? undefined : { hits, misses };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      url: { type: "string" },
      authorization: { type: "string" },
      requests: { type: "string", default: "400" },
      warmup: { type: "string", default: "100" },
      limit: { type: "string", default: "50" },
      block: { type: "string", default: "25" },
      seed: { type: "string", default: "20260101" },
    },
  });
  if (!values.url || !values.authorization) throw new Error("jmap_probe.ts needs --url and --authorization");
  const result = await runJmapProbe({
    base: new URL(values.url),
    authorization: values.authorization,
    requests: Number(values.requests),
    warmup: Number(values.warmup),
    limit: Number(values.limit),
    block: Number(values.block),
    seed: Number(values.seed),
  });
  console.log(JSON.stringify(result));
}
