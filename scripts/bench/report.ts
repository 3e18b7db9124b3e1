/** Statistics and the printed table of the benchmark. */

/** The median of values (mean of the middle two for an even count), or NaN for none. */
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The q-quantile of values (nearest rank), or NaN for none. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** One line of the summary. */
export interface Figure {
  figure: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
  /** PASS, FAIL, or "info" for a figure without a target. */
  result: "PASS" | "FAIL" | "info";
}

/** Prints rows as an aligned plain-text table. */
export function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  console.log(line(headers));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of rows) console.log(line(row));
}

/** Prints the summary table of figures. */
export function printSummary(figures: Figure[]): void {
  printTable(
    ["figure", "value", "baseline", "ratio", "target", "result"],
    figures.map((f) => [f.figure, f.value, f.baseline, f.ratio, f.target, f.result]),
  );
}

/** Requests per second, rounded for reading. */
export function rps(value: number): string {
  return `${Math.round(value).toLocaleString("en-US")} req/s`;
}

/** Milliseconds with two decimals. */
export function ms(value: number): string {
  return `${value.toFixed(2)} ms`;
}

/** A fraction as a percentage. */
export function percent(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

/** Microseconds with one decimal. */
export function micros(value: number): string {
  return `${value.toFixed(1)} µs`;
}
