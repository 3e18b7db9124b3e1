/** The checks of `postern dns check` as text, for the CLI and the TUI's DNS screen. */
import type { RecordCheck } from "./check_common.ts";

/** A status line per record and, for one not ok, what is expected against what is published. */
export function checkReport(checks: readonly RecordCheck[]): string[] {
  return checks.flatMap((c) => {
    const lines = [`${c.status.padEnd(7)} ${c.name} ${c.type}${c.detail ? `: ${c.detail}` : ""}`];
    if (c.status !== "ok") {
      lines.push(`        expected:  ${c.expected}`);
      for (const p of c.published) lines.push(`        published: ${p}`);
      if (!c.published.length && c.status !== "error") lines.push("        published: nothing");
    }
    return lines;
  });
}
