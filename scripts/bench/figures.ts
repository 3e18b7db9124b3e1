/** The summary figures, each a value against its baseline from the same run. */
import { LOGINS_PER_ROUND, type ProbeRounds } from "./cold_logins.ts";
import { type Figure, median, micros, ms, percent, quantile, rps } from "./report.ts";
import { cpuPerRequest, type Subject } from "./throughput.ts";

/** Turns the measurements into the summary rows, with PASS/FAIL against the targets. */
export function figures(
  subjects: Subject[],
  probes: ProbeRounds,
  extra: { syncMicros: number; accessLog: { lines: number; requests: number } },
): Figure[] {
  const by = (key: string) => subjects.find((s) => s.key === key)!;
  const throughput = (figure: string, key: string, baseKey: string, target: number): Figure[] => {
    const subject = by(key).results.map((r) => r.rps);
    const base = by(baseKey).results.map((r) => r.rps);
    // Rounds are paired (run back to back), so the median of per-round ratios cancels slow drifts.
    const ratio = median(subject.map((v, i) => v / base[i]));
    const cpu = cpuPerRequest(by(key));
    const baseCpu = cpuPerRequest(by(baseKey));
    return [{
      figure,
      value: rps(median(subject)),
      baseline: rps(median(base)),
      ratio: percent(ratio),
      target: Number.isNaN(target) ? "—" : `≥ ${percent(target)}`,
      result: Number.isNaN(target) ? "info" : ratio >= target ? "PASS" : "FAIL",
    }, {
      figure: "   same, as server CPU per request",
      value: micros(cpu),
      baseline: micros(baseCpu),
      ratio: percent(baseCpu / cpu),
      target: "—",
      result: "info",
    }];
  };
  const during = probes.logins.flatMap((p) => p.samples);
  const without = probes.baseline.flatMap((p) => p.samples);
  const p99 = quantile(during, 0.99);
  const baseP99 = quantile(without, 0.99);
  const loginTimes = probes.logins.flatMap((p) => p.logins);
  const loginsOk = loginTimes.filter((l) => l.status === 200).length;
  const { lines, requests } = extra.accessLog;
  return [
    ...throughput("1. /api/account vs bare", "postern", "bare", 0.5),
    ...throughput("   with --log-level debug (access log) vs bare", "debug", "bare", NaN),
    {
      figure: "   access log lines written at debug level",
      value: `${lines.toLocaleString("en-US")} lines`,
      baseline: `${requests.toLocaleString("en-US")} requests`,
      ratio: percent(lines / requests),
      target: "—",
      result: "info",
    },
    ...throughput("2. coherence check on vs off", "on", "off", 0.95),
    {
      figure: "   sync() in a tight loop / CPU per request",
      value: micros(extra.syncMicros),
      baseline: micros(cpuPerRequest(by("on"))),
      ratio: percent(extra.syncMicros / cpuPerRequest(by("on"))),
      target: "—",
      result: "info",
    },
    throughput("   app_server (sync on) vs postern serve", "on", "postern", NaN)[0],
    {
      figure: `3. /healthz p99 during ${LOGINS_PER_ROUND} cold logins`,
      value: ms(p99),
      baseline: ms(baseP99),
      ratio: `${(p99 / baseP99).toFixed(1)}×`,
      target: "< 20 ms",
      result: p99 < 20 && loginsOk === loginTimes.length ? "PASS" : "FAIL",
    },
    {
      figure: "   /healthz p50 / max during cold logins",
      value: `${ms(quantile(during, 0.5))} / ${ms(Math.max(...during))}`,
      baseline: `${ms(quantile(without, 0.5))} / ${ms(Math.max(...without))}`,
      ratio: "",
      target: "—",
      result: "info",
    },
    {
      figure: "   cold login time, median / max",
      value: `${ms(median(loginTimes.map((l) => l.ms)))} / ${ms(Math.max(...loginTimes.map((l) => l.ms)))}`,
      baseline: "",
      ratio: "",
      target: `${loginTimes.length} × 200`,
      result: loginsOk === loginTimes.length ? "info" : "FAIL",
    },
  ];
}
