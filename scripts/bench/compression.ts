/**
 * Compressed responses (figures 21–22): what br and gzip cost and save on the response a mail client
 * asks most, a page of 50 emails (Email/query of the Inbox, newest first, with Email/get of the list
 * properties by result reference), on an Inbox of generated ~10 KB messages.
 *
 * 1. The levels: the page's bytes compressed in-process at each brotli quality (0–6) and gzip level
 *    (1–9): median µs per compression and the size. The defaults (src/http/compression.ts) are the
 *    levels past which the size hardly shrinks while the time grows; gzip is chosen on a tie.
 * 2. Throughput: the same request with `Accept-Encoding: identity`, `gzip` and `br` on one
 *    `postern serve`, interleaved rounds of the load generator (scripts/bench/throughput.ts);
 *    br/identity throughput, and the bytes on the wire per response.
 *
 *   deno run -A scripts/bench/compression.ts [--messages 500] [--rounds 3] [--duration-ms 3000]
 */
import { parseArgs } from "node:util";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { DEFAULT_COMPRESSION } from "../../src/http/mod.ts";
import {
  ADMIN_PASSWORD,
  DOMAIN,
  growMailbox,
  LISTED_PROPERTIES,
  mailAccount,
  newestPage,
  PASSWORD,
  USER,
  withServices,
} from "./email_store.ts";
import { ProcessGroup } from "./processes.ts";
import { type Figure, median, percent, printTable } from "./report.ts";
import { basic, bootstrapData } from "./setup_data.ts";
import { type Settings, type Subject, throughputRounds } from "./throughput.ts";

/** Figures 21 (throughput with br against none) and 22 (bytes saved), after the level table. */
export async function compressionFigures(
  group: ProcessGroup,
  options: { tmp: string; messages: number; settings: Settings },
): Promise<Figure[]> {
  const dataDir = `${options.tmp}/compression-data`;
  await bootstrapData(dataDir, { domain: DOMAIN, adminPassword: ADMIN_PASSWORD });
  await withServices(dataDir, async (services) => {
    const domain = await services.domains.getByName(DOMAIN);
    await services.accounts.create({ type: "User", name: USER, domainId: domain!.id, password: PASSWORD });
  });
  await growMailbox(dataDir, { from: 0, total: options.messages });
  const server = await group.startPostern("postern-compression", {
    dataDir,
    logLevel: "warning",
    logPath: `${options.tmp}/compression.log`,
    env: { POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD },
  });
  const authorization = basic(`${USER}@${DOMAIN}`, PASSWORD);
  const { accountId, role } = await mailAccount(server.url, authorization);
  const inbox = role("inbox");
  const body = JSON.stringify(
    newestPage(accountId, { inMailbox: inbox }, [...LISTED_PROPERTIES, "to", "hasAttachment"]),
  );
  const bodyFile = `${options.tmp}/compression-request.json`;
  await Deno.writeTextFile(bodyFile, body);
  const page = new Uint8Array(
    await (await fetch(`${server.url}/jmap`, {
      method: "POST",
      headers: { authorization, "content-type": "application/json", "accept-encoding": "identity" },
      body,
    })).arrayBuffer(),
  );
  levelTable(page);

  const wire: Record<string, number> = {};
  for (const coding of ["identity", "gzip", "br"]) {
    const response = await fetch(`${server.url}/jmap`, {
      method: "POST",
      headers: { authorization, "content-type": "application/json", "accept-encoding": coding },
      body,
    });
    const encoding = response.headers.get("content-encoding") ?? "identity";
    if (encoding !== coding) throw new Error(`asked ${coding}, got ${encoding}`);
    // fetch decodes: the wire size is the Content-Length the server sent (a large identity body is
    // chunked: its size is the body's).
    const decoded = (await response.arrayBuffer()).byteLength;
    wire[coding] = Number(response.headers.get("content-length") ?? decoded);
  }
  const subject = (key: string, label: string): Subject => ({
    key,
    label,
    server,
    results: [],
    request: {
      path: "/jmap",
      method: "POST",
      bodyFile,
      headers: { authorization, "content-type": "application/json", "accept-encoding": key },
    },
  });
  const subjects = [subject("identity", "no compression"), subject("gzip", "gzip"), subject("br", "br")];
  await throughputRounds(options.settings, group, subjects, {
    title: `POST /jmap Email/query + Email/get of 50 (${
      page.length.toLocaleString("en-US")
    } bytes) throughput`,
  });
  const rate = (key: string) => median(subjects.find((s) => s.key === key)!.results.map((r) => r.rps));
  console.log(
    `bytes per response: identity ${wire.identity}, gzip ${wire.gzip} (${
      percent(1 - wire.gzip / wire.identity)
    } saved), ` +
      `br ${wire.br} (${percent(1 - wire.br / wire.identity)} saved)`,
  );
  return [
    {
      figure: "21 Email page throughput, br / none",
      value: `${Math.round(rate("br"))} req/s`,
      baseline: `${Math.round(rate("identity"))} req/s`,
      ratio: (rate("br") / rate("identity")).toFixed(2),
      target: "info",
      result: "info",
    },
    {
      figure: "22 Email page bytes saved by br",
      value: `${wire.br} B`,
      baseline: `${wire.identity} B`,
      ratio: percent(1 - wire.br / wire.identity),
      target: "info",
      result: "info",
    },
  ];
}

/** Prints µs per compression and size of `page` at each level, the defaults marked. */
function levelTable(page: Uint8Array): void {
  const time = (compress: () => Uint8Array) => {
    const runs: number[] = [];
    let size = 0;
    for (let i = 0; i < 60; i++) {
      const started = performance.now();
      size = compress().length;
      runs.push((performance.now() - started) * 1000);
    }
    return { micros: median(runs.slice(10)), size };
  };
  const rows: string[][] = [];
  for (let quality = 0; quality <= 6; quality++) {
    const { micros, size } = time(() =>
      brotliCompressSync(page, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: quality,
          [constants.BROTLI_PARAM_SIZE_HINT]: page.length,
          [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        },
      })
    );
    const chosen = quality === DEFAULT_COMPRESSION.brotliQuality ? " (default)" : "";
    rows.push([`br ${quality}${chosen}`, micros.toFixed(0), String(size), percent(1 - size / page.length)]);
  }
  for (let level = 1; level <= 9; level++) {
    const { micros, size } = time(() => gzipSync(page, { level }));
    const chosen = level === DEFAULT_COMPRESSION.gzipLevel ? " (default)" : "";
    rows.push([`gzip ${level}${chosen}`, micros.toFixed(0), String(size), percent(1 - size / page.length)]);
  }
  console.log(`\nCompression levels on the page of 50 emails (${page.length} bytes), median of 50`);
  printTable(["level", "µs", "bytes", "saved"], rows);
}

async function main() {
  const { values } = parseArgs({
    options: {
      messages: { type: "string", default: "500" },
      rounds: { type: "string", default: "3" },
      "duration-ms": { type: "string", default: "3000" },
      connections: { type: "string", default: "8" },
    },
  });
  const group = new ProcessGroup();
  const tmp = await Deno.makeTempDir({ prefix: "postern-bench-compression-" });
  try {
    const figures = await compressionFigures(group, {
      tmp,
      messages: Number(values.messages),
      settings: {
        rounds: Number(values.rounds),
        durationMs: Number(values["duration-ms"]),
        warmupMs: 500,
        connections: Number(values.connections),
        loginRounds: 0,
        queryRequests: 0,
        client: "raw",
      },
    });
    console.log("");
    printTable(
      ["figure", "value", "baseline", "ratio"],
      figures.map((f) => [f.figure, f.value, f.baseline, f.ratio]),
    );
  } finally {
    await group.stopAll();
    await Deno.remove(tmp, { recursive: true }).catch(() => undefined);
  }
}

if (import.meta.main) await main();
