/**
 * Latency probe for the cold-login figure, run as its own process: one keep-alive connection sends
 * `GET /healthz` one after another, a new one every `--interval-ms`, and records each latency. With
 * `--logins-file` (a JSON array of Authorization headers) it fires one `GET /api/account` per header,
 * all at once on their own connections, and keeps the probe samples that overlap the time until the
 * last login answered. Without it, the window is `--window-ms` long: the no-login baseline.
 *
 * Prints one JSON line: the window, the probe latencies in it, and the logins' statuses and times.
 */
import { parseArgs } from "node:util";
import { getRequest, RawConnection } from "./http_client.ts";

/** What one probe run saw. */
export interface ProbeResult {
  windowMs: number;
  /** /healthz latencies (ms) of the requests that overlapped the window. */
  samples: number[];
  /** Each login's status and time (ms); empty for the baseline. */
  logins: { status: number; ms: number }[];
}

interface ProbeOptions {
  base: URL;
  logins: string[];
  intervalMs: number;
  windowMs: number;
  leadMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the probe, firing the logins (if any) after a short lead-in. */
export async function runProbe(options: ProbeOptions): Promise<ProbeResult> {
  const healthUrl = new URL("/healthz", options.base);
  const accountUrl = new URL("/api/account", options.base);
  const probe = await RawConnection.open(healthUrl);
  const healthRequest = getRequest(healthUrl);
  for (let i = 0; i < 50; i++) await probe.send(healthRequest);
  const loginConnections = await Promise.all(options.logins.map(() => RawConnection.open(accountUrl)));

  const records: { at: number; ms: number }[] = [];
  let stop = false;
  const probing = (async () => {
    while (!stop) {
      const at = performance.now();
      const answer = await probe.send(healthRequest);
      const ms = performance.now() - at;
      if (answer.status !== 200) throw new Error(`/healthz answered ${answer.status}`);
      records.push({ at, ms });
      const wait = options.intervalMs - (performance.now() - at);
      if (wait > 0) await sleep(wait);
    }
  })();

  await sleep(options.leadMs);
  const from = performance.now();
  const logins = await Promise.all(options.logins.map(async (header, i) => {
    const started = performance.now();
    const answer = await loginConnections[i].send(getRequest(accountUrl, { authorization: header }));
    return { status: answer.status, ms: performance.now() - started };
  }));
  if (options.logins.length === 0) await sleep(options.windowMs);
  const to = performance.now();
  await sleep(options.leadMs);
  stop = true;
  await probing;
  probe.close();
  loginConnections.forEach((c) => c.close());
  return {
    windowMs: to - from,
    samples: records.filter((r) => r.at < to && r.at + r.ms > from).map((r) => r.ms),
    logins,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      url: { type: "string" },
      "logins-file": { type: "string" },
      "interval-ms": { type: "string", default: "2" },
      "window-ms": { type: "string", default: "800" },
      "lead-ms": { type: "string", default: "100" },
    },
  });
  if (!values.url) throw new Error("login_probe.ts needs --url");
  const logins = values["logins-file"]
    ? JSON.parse(await Deno.readTextFile(values["logins-file"])) as string[]
    : [];
  const result = await runProbe({
    base: new URL(values.url),
    logins,
    intervalMs: Number(values["interval-ms"]),
    windowMs: Number(values["window-ms"]),
    leadMs: Number(values["lead-ms"]),
  });
  console.log(JSON.stringify(result));
}
