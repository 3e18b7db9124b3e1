/**
 * What the UI asks a server beyond the object client: whether it answers (/healthz), its cache and
 * login counters (/metrics), and actions (x:Action/set, which the object client has no call for).
 */
import { ACTION_INFOS, type ActionInfo, type Fact, type TuiClient } from "./backend_types.ts";
import { failedLogins } from "./format.ts";
import { count } from "./list.ts";

/** A server and the Authorization header that reaches it. */
export interface RemoteAccess {
  url: string;
  /** Absent for a server on this machine: /healthz and /metrics answer loopback clients without it. */
  authorization?: string;
}

/** The Authorization header for an API key, or for a login and password. */
export function authorizationFor(options: { apiKey?: string; user?: string; password?: string }): string {
  if (options.apiKey) return `Bearer ${options.apiKey}`;
  const bytes = new TextEncoder().encode(`${options.user}:${options.password ?? ""}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

const TIMEOUT_MS = 3000;

async function call(access: RemoteAccess, path: string, init: RequestInit = {}): Promise<Response> {
  return await fetch(`${access.url.replace(/\/+$/, "")}${path}`, {
    ...init,
    headers: {
      ...(access.authorization ? { authorization: access.authorization } : {}),
      "content-type": "application/json",
    },
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
}

/** How the dashboard names the listeners /healthz reports (another name is shown as it is). */
const LISTENER_NAMES: Record<string, string> = {
  http: "HTTP",
  https: "HTTPS",
  smtp: "SMTP (MX)",
  submission: "Submission",
  submissions: "Submission (TLS)",
  imap: "IMAP",
  imaps: "IMAP (TLS)",
};

/** Dashboard lines: reachable or not, the listeners, cache hit rates, invalidations and logins since the server started. */
export async function remoteFacts(access: RemoteAccess): Promise<Fact[]> {
  let health: { version?: string; listeners?: Record<string, string>; processes?: number };
  try {
    const response = await call(access, "/healthz");
    if (!response.ok) throw new Error(`answered ${response.status}`);
    health = await response.json();
  } catch (error) {
    return [{ label: "Server", value: `NOT reachable at ${access.url}: ${(error as Error).message}` }];
  }
  const facts = [{ label: "Server", value: `reachable at ${access.url} · version ${health.version ?? "?"}` }];
  const listeners = Object.entries(health.listeners ?? {});
  if (listeners.length) {
    facts.push({
      label: "Listeners",
      value: listeners.map(([name, address]) => `${LISTENER_NAMES[name] ?? name} ${address}`).join(" · "),
    });
  }
  if ((health.processes ?? 1) > 1) {
    facts.push({ label: "Processes", value: `${health.processes} serving, figures below summed over them` });
  }
  try {
    const response = await call(access, "/metrics");
    if (!response.ok) {
      await response.body?.cancel();
      return [...facts, { label: "Metrics", value: `not readable (${response.status})` }];
    }
    facts.push(...metricFacts(parseMetrics(await response.text())));
  } catch (error) {
    facts.push({ label: "Metrics", value: `not readable: ${(error as Error).message}` });
  }
  return facts;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format, samples only. */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    const match = /^([a-z_:][a-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/i.exec(line);
    if (!match || line.startsWith("#")) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
    out.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return out;
}

/**
 * Samples of several serving processes (a `process` label, see src/http/metrics_merge.ts) summed into
 * one per name and other labels: the dashboard shows the server, not each process.
 */
export function sumOverProcesses(samples: Sample[]): Sample[] {
  const summed = new Map<string, Sample>();
  for (const sample of samples) {
    const { process: _, ...labels } = sample.labels;
    const key = `${sample.name}${JSON.stringify(labels)}`;
    const found = summed.get(key);
    if (found) found.value += sample.value;
    else summed.set(key, { name: sample.name, labels, value: sample.value });
  }
  return [...summed.values()];
}

function metricFacts(all: Sample[]): Fact[] {
  const samples = sumOverProcesses(all);
  const by = (name: string) => samples.filter((s) => s.name === name);
  const rates = by("postern_cache_hits_total").map((hits) => {
    const cache = hits.labels.cache;
    const of = (name: string) => by(name).find((s) => s.labels.cache === cache)?.value ?? 0;
    const total = hits.value + of("postern_cache_misses_total") + of("postern_cache_negative_hits_total");
    return `${cache} ${
      total ? Math.round((100 * (hits.value + of("postern_cache_negative_hits_total"))) / total) : 0
    }%`;
  });
  const gauge = (name: string, label: string, show: (n: number) => string): Fact[] => {
    const sample = by(name)[0];
    return sample ? [{ label, value: show(sample.value) }] : [];
  };
  const invalidations = by("postern_cache_invalidations_total").reduce((n, s) => n + s.value, 0);
  const remote = by("postern_cache_remote_invalidations_total")[0]?.value ?? 0;
  const logins = by("postern_auth_results_total").filter((s) => s.value > 0)
    .map((s) => `${s.labels.result} ${s.value}`);
  return [
    { label: "Cache hits", value: rates.length ? rates.join(" · ") : "(no lookups yet)" },
    {
      label: "Invalidations",
      value: `${invalidations} entries dropped · ${remote} events from other processes`,
    },
    { label: "Logins", value: logins.length ? `${logins.join(" · ")} (since start)` : "none since start" },
    ...gauge("postern_login_failures_last_hour", "Failed logins", failedLogins),
    ...mailLine(by("postern_mailboxes")[0]?.value, by("postern_emails")[0]?.value),
  ];
}

/** "6 mailboxes · 12 messages", when the server reports them. */
function mailLine(mailboxes: number | undefined, messages: number | undefined): Fact[] {
  if (mailboxes === undefined) return [];
  return [{ label: "Mail", value: `${count(mailboxes, "mailbox")} · ${count(messages ?? 0, "message")}` }];
}

/** The actions the server's schema lists. */
export async function remoteActions(client: TuiClient): Promise<ActionInfo[]> {
  const action = (await client.schema()).find((t) => t.name === "Action");
  const fields = (action?.fields ?? []) as { name: string; enum?: string[] }[];
  const names = (action?.variants as string[] | undefined) ?? fields.find((f) => f.name === "@type")?.enum ??
    [];
  return names.map((name) => ACTION_INFOS.find((a) => a.name === name) ?? { name, description: name });
}
