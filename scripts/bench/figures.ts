/** The summary figures, each a value against its baseline from the same run. */
import { LOGINS_PER_ROUND, type ProbeRounds } from "./cold_logins.ts";
import type { QueryLatency } from "./jmap_query.ts";
import type { MailboxLatency } from "./mailbox_latency.ts";
import { type Figure, median, micros, ms, percent, quantile, rps } from "./report.ts";
import { cpuPerRequest, type Subject } from "./throughput.ts";
import type { TokenVerifyResult } from "./token_verify.ts";

/** Every measurement of the run; a section left out with `--only` leaves its fields empty. */
export interface Measurements {
  /** GET /api/account subjects (figures 1 and 2). */
  subjects: Subject[];
  /** POST /jmap Core/echo subjects (figure 4). */
  echoSubjects?: Subject[];
  probes?: ProbeRounds;
  queryLatency?: QueryLatency;
  /** NaN when the coherence-check section did not run. */
  syncMicros: number;
  accessLog?: { lines: number; requests: number };
  /** refresh_token grant subjects: Postern, node-oidc-provider on Node.js and on Deno (figure 6). */
  refreshSubjects?: Subject[];
  /** refresh_token with a fresh token per request, Postern and the baseline (figure 6b). */
  freshRefreshSubjects?: Subject[];
  /** client_credentials grant, Postern and the baseline (figure 6c). */
  clientCredentialsSubjects?: Subject[];
  /** Core/echo with Bearer and with Basic on one server (figure 7). */
  bearerSubjects?: Subject[];
  /** Cold access-token checks (figure 8). */
  tokenVerify?: TokenVerifyResult;
  /** GET /jmap/session with and without shared accounts, each with its bare server (figure 9). */
  session?: { sharedAccounts: number; subjects: Subject[] };
  /** Mailbox/get of a large account against Core/echo (figure 10). */
  mailboxLatency?: MailboxLatency;
}

/** A ratio as a multiple, for figures whose target is one (e.g. "≥ 1.50×"). */
const times = (value: number) => `${value.toFixed(2)}×`;

/** Turns the measurements into the summary rows, with PASS/FAIL against the targets. */
export function figures(m: Measurements): Figure[] {
  const { subjects } = m;
  const has = (among: Subject[], ...keys: string[]) => keys.every((k) => among.some((s) => s.key === k));
  const throughput = (
    figure: string,
    key: string,
    baseKey: string,
    target: number,
    among = subjects,
    format = percent,
  ): Figure[] => {
    const by = (key: string) => among.find((s) => s.key === key)!;
    const subject = by(key).results.map((r) => r.rps);
    const base = by(baseKey).results.map((r) => r.rps);
    // Rounds are paired (run back to back), so the median of per-round ratios cancels slow drifts.
    // Subjects measured in different passes have different round counts: pair what exists.
    const paired = subject.slice(0, Math.min(subject.length, base.length));
    const ratio = median(paired.map((v, i) => v / base[i]));
    const cpu = cpuPerRequest(by(key));
    const baseCpu = cpuPerRequest(by(baseKey));
    return [{
      figure,
      value: rps(median(subject)),
      baseline: rps(median(base)),
      ratio: format(ratio),
      target: Number.isNaN(target) ? "—" : `≥ ${format(target)}`,
      result: Number.isNaN(target) ? "info" : ratio >= target ? "PASS" : "FAIL",
    }, {
      figure: "   same, as server CPU per request",
      value: micros(cpu),
      baseline: micros(baseCpu),
      ratio: format(baseCpu / cpu),
      target: "—",
      result: "info",
    }];
  };
  return [
    ...(has(subjects, "postern", "bare", "debug") ? accountFigures(m, throughput) : []),
    ...(has(subjects, "on", "off") ? syncFigures(m, throughput) : []),
    ...(m.probes ? loginFigures(m.probes) : []),
    ...(m.echoSubjects
      ? throughput("4. JMAP Core/echo vs bare (POST /jmap)", "postern", "bare", 0.4, m.echoSubjects)
      : []),
    ...(m.queryLatency ? queryFigures(m.queryLatency) : []),
    ...(m.refreshSubjects
      ? [
        ...throughput(
          "6. refresh_token grant vs node-oidc-provider",
          "postern",
          "oidc",
          1.5,
          m.refreshSubjects,
          times,
        ),
        ...(has(m.refreshSubjects, "oidc-deno")
          ? throughput(
            "   vs oidc-provider under Deno",
            "postern",
            "oidc-deno",
            NaN,
            m.refreshSubjects,
            times,
          )
          : []),
      ]
      : []),
    ...(m.freshRefreshSubjects
      ? throughput(
        "6b. refresh_token, fresh token per request",
        "postern",
        "oidc",
        1.5,
        m.freshRefreshSubjects,
        times,
      )
      : []),
    ...(m.clientCredentialsSubjects
      ? throughput(
        "6c. client_credentials vs node-oidc-provider",
        "postern",
        "oidc",
        1.5,
        m.clientCredentialsSubjects,
        times,
      )
      : []),
    ...(m.bearerSubjects
      ? throughput("7. JMAP Core/echo, Bearer vs Basic (cached)", "bearer", "basic", 0.9, m.bearerSubjects)
      : []),
    ...(m.tokenVerify ? tokenFigures(m.tokenVerify) : []),
    ...(m.session
      ? [
        ...throughput(
          `9. /jmap/session, ${m.session.sharedAccounts} shared accounts, vs bare`,
          "shared",
          "bare-shared",
          0.4,
          m.session.subjects,
        ),
        ...throughput("   no shared account, vs bare", "alone", "bare-alone", NaN, m.session.subjects),
      ]
      : []),
    ...(m.mailboxLatency ? mailboxFigures(m.mailboxLatency) : []),
  ];
}

type Throughput = (figure: string, key: string, baseKey: string, target: number) => Figure[];

/** Figure 1 and its access-log lines. */
function accountFigures(m: Measurements, throughput: Throughput): Figure[] {
  const rows = [
    ...throughput("1. /api/account vs bare", "postern", "bare", 0.5),
    ...throughput("   with --log-level debug vs bare", "debug", "bare", NaN),
  ];
  if (m.accessLog) {
    const { lines, requests } = m.accessLog;
    rows.push({
      figure: "   access log lines written at debug level",
      value: `${lines.toLocaleString("en-US")} lines`,
      baseline: `${requests.toLocaleString("en-US")} requests`,
      ratio: percent(lines / requests),
      target: "—",
      result: "info",
    });
  }
  return rows;
}

/** Figure 2: the coherence check priced. */
function syncFigures(m: Measurements, throughput: Throughput): Figure[] {
  const on = cpuPerRequest(m.subjects.find((s) => s.key === "on")!);
  return [
    ...throughput("2. coherence check on vs off", "on", "off", 0.95),
    {
      figure: "   sync() in a tight loop / CPU per request",
      value: micros(m.syncMicros),
      baseline: micros(on),
      ratio: percent(m.syncMicros / on),
      target: "—",
      result: "info",
    },
    ...(m.subjects.some((s) => s.key === "postern")
      ? [throughput("   app_server (sync on) vs postern serve", "on", "postern", NaN)[0]]
      : []),
  ];
}

/** Figure 3: /healthz latency during cold logins. */
function loginFigures(probes: ProbeRounds): Figure[] {
  const during = probes.logins.flatMap((p) => p.samples);
  const without = probes.baseline.flatMap((p) => p.samples);
  const p99 = quantile(during, 0.99);
  const baseP99 = quantile(without, 0.99);
  const loginTimes = probes.logins.flatMap((p) => p.logins);
  const loginsOk = loginTimes.filter((l) => l.status === 200).length;
  return [
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

/**
 * Figure 8: a cold access-token check against its crypto alone (the floor without database reads or
 * awaits), then the parts and, for information, the authenticator's whole cold Bearer path.
 */
function tokenFigures(t: TokenVerifyResult): Figure[] {
  const verify = median(t.verifyAccess);
  const open = median(t.openToken);
  const blake3 = median(t.blake3);
  const aes = median(t.aesOpen);
  const reads = median(t.databaseReads);
  const authenticator = median(t.authenticator);
  return [{
    figure: "8. cold access-token check (verifyAccess)",
    value: micros(verify),
    baseline: `${micros(open)} (crypto)`,
    ratio: `${(verify / open).toFixed(1)}×`,
    target: "< 100 µs",
    result: verify < 100 ? "PASS" : "FAIL",
  }, {
    figure: "   crypto: BLAKE3 derive / AES-GCM-SIV open",
    value: `${micros(blake3)} / ${micros(aes)}`,
    baseline: `${micros(open)} openToken`,
    ratio: percent((blake3 + aes) / open),
    target: "—",
    result: "info",
  }, {
    figure: "   database reads (credential secret, grant)",
    value: micros(reads),
    baseline: `${micros(verify)} verifyAccess`,
    ratio: percent(reads / verify),
    target: "—",
    result: "info",
  }, {
    figure: "   authenticator, cold Bearer header",
    value: micros(authenticator),
    baseline: `${micros(verify)} verifyAccess`,
    ratio: `${(authenticator / verify).toFixed(1)}×`,
    target: "—",
    result: "info",
  }];
}

/** Figure 5: query + get latency against Core/echo on the same kind of connection. */
function queryFigures(q: QueryLatency): Figure[] {
  const figure = `5. x:Account/query + /get, ${q.limit} of ${q.accounts.toLocaleString("en-US")}, p50`;
  if (!q.result) {
    return [{ figure, value: "error", baseline: "", ratio: "", target: "< 3 ms", result: "FAIL" }];
  }
  const { query, echo, cache } = q.result;
  const p50 = quantile(query, 0.5);
  const echoP50 = quantile(echo, 0.5);
  const pair = (values: number[]) => `${ms(quantile(values, 0.9))} / ${ms(quantile(values, 0.99))}`;
  return [{
    figure,
    value: ms(p50),
    baseline: `${ms(echoP50)} (Core/echo)`,
    ratio: `${(p50 / echoP50).toFixed(1)}×`,
    target: "< 3 ms",
    result: p50 < 3 ? "PASS" : "FAIL",
  }, {
    figure: "   same, p90 / p99",
    value: pair(query),
    baseline: pair(echo),
    ratio: "",
    target: "—",
    result: "info",
  }, {
    // Every miss is a /get one: the caller's own account is always cached by then.
    figure: "   objects /get read past the account cache",
    value: cache ? `${cache.misses.toLocaleString("en-US")} misses` : "?",
    baseline: `${(query.length * q.limit).toLocaleString("en-US")} objects`,
    ratio: cache ? percent(cache.misses / (query.length * q.limit)) : "",
    target: "—",
    result: "info",
  }];
}

/** Figure 10: Mailbox/get of every mailbox against Core/echo on the same connection. */
function mailboxFigures(l: MailboxLatency): Figure[] {
  const figure = `10. Mailbox/get of ${l.mailboxes} mailboxes, p50`;
  if (!l.result) {
    return [{ figure, value: "error", baseline: "", ratio: "", target: "< 2 ms", result: "FAIL" }];
  }
  const { get, echo } = l.result;
  const p50 = quantile(get, 0.5);
  const echoP50 = quantile(echo, 0.5);
  const pair = (values: number[]) => `${ms(quantile(values, 0.9))} / ${ms(quantile(values, 0.99))}`;
  return [{
    figure,
    value: ms(p50),
    baseline: `${ms(echoP50)} (Core/echo)`,
    ratio: `${(p50 / echoP50).toFixed(1)}×`,
    target: "< 2 ms",
    result: p50 < 2 ? "PASS" : "FAIL",
  }, {
    figure: "    same, p90 / p99",
    value: pair(get),
    baseline: pair(echo),
    ratio: "",
    target: "—",
    result: "info",
  }];
}
