/**
 * Load generator, run as its own process: N keep-alive connections each send one request after
 * another for a warm-up period and then a measured period, and the result is printed as one JSON line.
 *
 *   deno run -A scripts/bench/load.ts --url http://127.0.0.1:8080/api/account \
 *     --header "authorization: Basic …" --connections 32 --warmup-ms 500 --duration-ms 2000
 *
 * The request is a GET unless `--method` says otherwise; `--body-file` sends that file's bytes as the
 * body of every request, with its Content-Length. `--body-list` names a file of bodies, one a line, and
 * each request sends the next one (from line `--body-start`, wrapping around at the end), so every
 * request can carry its own token; the result says how many were sent and whether the list wrapped.
 *
 * `--connection-header "name: value"` (repeatable) sets a header that differs by connection: connection i
 * sends entry i modulo their number, e.g. the credentials of several users.
 *
 * `--pipeline N` (raw client) writes N requests at once on each connection and then reads their N
 * answers (HTTP/1.1 pipelining): the server still answers a connection's requests one after another, in
 * order, so each connection has one request in the server at a time as before, and an account's
 * connections count against its limits the same; what falls is the generator's own CPU per request (one
 * write and a few reads per N requests instead of per request), which on a machine whose cores the
 * generator shares with the server otherwise caps what the server can show. Latencies then include
 * the wait behind the earlier requests of the same write.
 *
 * `--client fetch` uses Deno's fetch instead of the raw client, to show which one limits the figure.
 */
import { parseArgs } from "node:util";
import { cpuSeconds, cpuWindow } from "./cpu.ts";
import { httpHead, RawConnection, withBody } from "./http_client.ts";
import { quantile } from "./report.ts";

/** What one load run measured. */
export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  /** Responses whose status was not 2xx, and transport errors. */
  failures: number;
  firstFailure?: string;
  p50Ms: number;
  p99Ms: number;
  /** With a body list: the bodies sent (warm-up included), and whether the list ran out and wrapped. */
  bodiesSent?: number;
  bodiesWrapped?: boolean;
  /** Cores used in the measured window by the server (when its pid was given) and by this generator. */
  serverCores?: number;
  generatorCores?: number;
  /** Cores used by the server's main thread alone (its event loop, without worker threads). */
  serverMainCores?: number;
}

interface LoadOptions {
  url: URL;
  headers: Record<string, string>;
  /** Headers by connection: connection i sends entry i modulo their number (see the module's doc). */
  connectionHeaders?: [string, string][];
  /** HTTP method; GET when absent. */
  method?: string;
  /** Fixed request body, sent with its Content-Length. */
  body?: Uint8Array;
  /** Bodies sent in turn, one per request, from `bodyStart` (instead of `body`). */
  bodies?: Uint8Array[];
  bodyStart?: number;
  connections: number;
  warmupMs: number;
  durationMs: number;
  client: "raw" | "fetch";
  /** Requests written at once on each connection (raw client; 1: one at a time). */
  pipeline?: number;
  serverPid?: number;
}

/** Runs the load and returns what the measured window saw. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  const fail = (why: string) => {
    failures++;
    firstFailure ??= why;
  };
  const next = bodyCursor(options);
  const send = options.client === "raw" ? await rawSender(options, next) : fetchSender(options, next);
  // The clock starts once the connections are open.
  const measureFrom = performance.now() + options.warmupMs;
  const stopAt = measureFrom + options.durationMs;
  const cpu = cpuWindow(options.serverPid, () => cpuSeconds("self"), measureFrom, stopAt);
  const loop = async (index: number) => {
    while (true) {
      const before = performance.now();
      if (before >= stopAt) return;
      const answered = (status: number) => {
        const after = performance.now();
        if (before >= measureFrom && after <= stopAt) {
          if (status >= 200 && status < 300) latencies.push(after - before);
          else fail(`HTTP ${status}`);
        }
      };
      try {
        await send(index, answered);
      } catch (error) {
        fail(String(error));
        if (performance.now() >= stopAt) return;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, (_, i) => loop(i)));
  send.close?.();
  const seconds = options.durationMs / 1000;
  const cores = await cpu;
  return {
    requests: latencies.length,
    seconds,
    rps: latencies.length / seconds,
    failures,
    ...(firstFailure ? { firstFailure } : {}),
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    ...(options.bodies ? { bodiesSent: next.sent, bodiesWrapped: next.wrapped } : {}),
    ...cores,
  };
}

/** Sends connection `index`'s next request or requests, calling `answered` with each status in turn. */
type Sender = ((index: number, answered: (status: number) => void) => Promise<void>) & { close?: () => void };

/** Which body the next request sends: the fixed one, or the body list's next (by its index). */
type BodyCursor = (() => number) & { sent: number; wrapped: boolean };

function bodyCursor(options: LoadOptions): BodyCursor {
  const count = options.bodies?.length ?? 0;
  const cursor: BodyCursor = Object.assign(() => {
    if (count === 0) return -1;
    const index = (options.bodyStart ?? 0) + cursor.sent++;
    if (index >= count) cursor.wrapped = true;
    return index % count;
  }, { sent: 0, wrapped: false });
  return cursor;
}

/** The headers connection `index` sends. */
function headersOf(options: LoadOptions, index: number): Record<string, string> {
  const own = options.connectionHeaders;
  if (!own?.length) return options.headers;
  const [name, value] = own[index % own.length];
  return { ...options.headers, [name]: value };
}

async function rawSender(options: LoadOptions, next: BodyCursor): Promise<Sender> {
  const depth = Math.max(1, options.pipeline ?? 1);
  // Each connection's request line and headers, encoded once; a body list's request adds its own
  // Content-Length and body as it is sent (building tens of thousands ahead took seconds).
  const heads = Array.from(
    { length: options.connections },
    (_, i) => httpHead(options.method ?? "GET", options.url, headersOf(options, i)),
  );
  const singles = heads.map((head) => withBody(head, options.body));
  const connections = await Promise.all(
    Array.from({ length: options.connections }, () => RawConnection.open(options.url)),
  );
  const request = (index: number) => {
    const which = next();
    return which < 0 ? singles[index] : withBody(heads[index], options.bodies![which]);
  };
  const send: Sender = async (index, answered) => {
    try {
      if (depth === 1) {
        answered((await connections[index].send(request(index))).status);
        return;
      }
      const batch = Array.from({ length: depth }, () => request(index));
      const bytes = new Uint8Array(batch.reduce((n, r) => n + r.length, 0));
      let offset = 0;
      for (const r of batch) {
        bytes.set(r, offset);
        offset += r.length;
      }
      await connections[index].pipeline(bytes, depth, answered);
    } catch (error) {
      connections[index].close();
      connections[index] = await RawConnection.open(options.url);
      throw error;
    }
  };
  send.close = () => connections.forEach((c) => c.close());
  return send;
}

function fetchSender(options: LoadOptions, next: BodyCursor): Sender {
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: options.connections, http2: false });
  const send: Sender = async (index, answered) => {
    const which = next();
    const response = await fetch(options.url, {
      method: options.method ?? "GET",
      headers: headersOf(options, index),
      body: which < 0 ? options.body?.slice() : options.bodies![which].slice(),
      client,
    });
    await response.arrayBuffer();
    answered(response.status);
  };
  send.close = () => client.close();
  return send;
}

/** The non-empty lines of a body list file, each as one request body. */
async function readBodyList(path: string): Promise<Uint8Array[]> {
  const lines = (await Deno.readTextFile(path)).split("\n").filter((line) => line !== "");
  if (lines.length === 0) throw new Error(`--body-list ${path} holds no body`);
  const encoder = new TextEncoder();
  return lines.map((line) => encoder.encode(line));
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      url: { type: "string" },
      header: { type: "string", multiple: true, default: [] },
      "connection-header": { type: "string", multiple: true, default: [] },
      connections: { type: "string", default: "32" },
      "warmup-ms": { type: "string", default: "500" },
      "duration-ms": { type: "string", default: "2000" },
      client: { type: "string", default: "raw" },
      "server-pid": { type: "string" },
      method: { type: "string", default: "GET" },
      "body-file": { type: "string" },
      "body-list": { type: "string" },
      "body-start": { type: "string", default: "0" },
      pipeline: { type: "string", default: "1" },
    },
  });
  if (!values.url) throw new Error("load.ts needs --url");
  if (values.client !== "raw" && values.client !== "fetch") throw new Error("--client is raw or fetch");
  const split = (h: string): [string, string] => {
    const colon = h.indexOf(":");
    return [h.slice(0, colon).trim().toLowerCase(), h.slice(colon + 1).trim()];
  };
  const headers = Object.fromEntries(values.header.map(split));
  const connectionHeaders = values["connection-header"].map(split);
  const result = await runLoad({
    url: new URL(values.url),
    headers,
    connectionHeaders,
    method: values.method.toUpperCase(),
    body: values["body-file"] ? await Deno.readFile(values["body-file"]) : undefined,
    bodies: values["body-list"] ? await readBodyList(values["body-list"]) : undefined,
    bodyStart: Number(values["body-start"]),
    connections: Number(values.connections),
    warmupMs: Number(values["warmup-ms"]),
    durationMs: Number(values["duration-ms"]),
    client: values.client,
    pipeline: Number(values.pipeline),
    serverPid: values["server-pid"] ? Number(values["server-pid"]) : undefined,
  });
  console.log(JSON.stringify(result));
}
