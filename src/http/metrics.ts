/** Prometheus text exposition: request counters and a latency histogram, plus gauges supplied by callers. */

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A sample supplied at scrape time by another part of the program. */
export interface MetricSample {
  name: string;
  help: string;
  type: "counter" | "gauge";
  labels?: Record<string, string>;
  value: number;
}

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

/** Counts requests by route and status, and their latency by route. */
export class HttpMetrics {
  readonly #requests = new Map<string, number>();
  readonly #latency = new Map<string, Histogram>();

  /** Records one finished request. */
  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method}\u0000${route}\u0000${status}`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    let histogram = this.#latency.get(route);
    if (!histogram) {
      histogram = { counts: new Array(BUCKETS.length).fill(0), sum: 0, count: 0 };
      this.#latency.set(route, histogram);
    }
    // Count only the first bucket that holds the value; render() sums them into cumulative buckets.
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]) i++;
    if (i < BUCKETS.length) histogram.counts[i]++;
    histogram.sum += seconds;
    histogram.count++;
  }

  /** The full exposition text, with `extra` samples from other parts of the program. */
  render(extra: MetricSample[]): string {
    const lines: string[] = [
      "# HELP postern_http_requests_total HTTP requests by method, route and status",
      "# TYPE postern_http_requests_total counter",
    ];
    for (const [key, value] of this.#requests) {
      const [method, route, status] = key.split("\u0000");
      lines.push(`postern_http_requests_total${labels({ method, route, status })} ${value}`);
    }
    lines.push(
      "# HELP postern_http_request_duration_seconds Time to answer a request",
      "# TYPE postern_http_request_duration_seconds histogram",
    );
    for (const [route, h] of this.#latency) {
      let cumulative = 0;
      BUCKETS.forEach((le, i) => {
        cumulative += h.counts[i];
        lines.push(
          `postern_http_request_duration_seconds_bucket${labels({ route, le: String(le) })} ${cumulative}`,
        );
      });
      lines.push(`postern_http_request_duration_seconds_bucket${labels({ route, le: "+Inf" })} ${h.count}`);
      lines.push(`postern_http_request_duration_seconds_sum${labels({ route })} ${h.sum}`);
      lines.push(`postern_http_request_duration_seconds_count${labels({ route })} ${h.count}`);
    }
    const seen = new Set<string>();
    for (const sample of extra) {
      if (!seen.has(sample.name)) {
        seen.add(sample.name);
        lines.push(`# HELP ${sample.name} ${sample.help}`, `# TYPE ${sample.name} ${sample.type}`);
      }
      lines.push(`${sample.name}${labels(sample.labels ?? {})} ${sample.value}`);
    }
    return lines.join("\n") + "\n";
  }
}

function labels(values: Record<string, string>): string {
  const parts = Object.entries(values).map(([k, v]) =>
    `${k}="${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")}"`
  );
  return parts.length ? `{${parts.join(",")}}` : "";
}
