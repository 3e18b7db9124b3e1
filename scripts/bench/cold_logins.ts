/** Cold-login rounds: /healthz latency without logins and during 20 concurrent cold logins. */
import type { ProbeResult } from "./login_probe.ts";
import type { ProcessGroup, Server } from "./processes.ts";
import { median, ms, quantile } from "./report.ts";
import type { Settings } from "./throughput.ts";

/** Cold logins fired at once in each round. */
export const LOGINS_PER_ROUND = 20;

/** The probes of every round, without and with logins. */
export interface ProbeRounds {
  baseline: ProbeResult[];
  logins: ProbeResult[];
}

/** Alternates no-login probes and probes during 20 cold logins, each round with fresh accounts. */
export async function loginRounds(
  settings: Settings,
  context: { tmp: string; group: ProcessGroup; server: Server; loginHeaders: string[] },
): Promise<ProbeRounds> {
  const out: ProbeRounds = { baseline: [], logins: [] };
  const probe = (args: string[]) =>
    context.group.runJson<ProbeResult>("scripts/bench/login_probe.ts", [
      "--url",
      context.server.url,
      ...args,
    ]);
  console.log(`\n/healthz latency every 2 ms, without and during ${LOGINS_PER_ROUND} cold logins`);
  await probe(["--window-ms", "300"]);
  let windowMs = 600;
  for (let round = 0; round < settings.loginRounds; round++) {
    const file = `${context.tmp}/logins-${round}.json`;
    const headers = context.loginHeaders.slice(round * LOGINS_PER_ROUND, (round + 1) * LOGINS_PER_ROUND);
    await Deno.writeTextFile(file, JSON.stringify(headers));
    const steps = [
      async () => out.baseline.push(await probe(["--window-ms", String(Math.round(windowMs))])),
      async () => {
        const result = await probe(["--logins-file", file]);
        windowMs = result.windowMs;
        out.logins.push(result);
      },
    ];
    if (round % 2) steps.reverse();
    for (const step of steps) await step();
    const b = out.baseline.at(-1)!;
    const l = out.logins.at(-1)!;
    const failed = l.logins.filter((x) => x.status !== 200).length;
    console.log(
      `round ${round + 1}: no logins p99 ${ms(quantile(b.samples, 0.99))} (${b.samples.length} samples)  ` +
        `logins p50 ${ms(quantile(l.samples, 0.5))} p99 ${ms(quantile(l.samples, 0.99))} max ${
          ms(Math.max(...l.samples))
        } (${l.samples.length} samples in ${l.windowMs.toFixed(0)} ms)  ` +
        `login times ${ms(median(l.logins.map((x) => x.ms)))} median, ${
          ms(Math.max(...l.logins.map((x) => x.ms)))
        } max${failed ? `, ${failed} NOT 200` : ""}`,
    );
  }
  return out;
}
