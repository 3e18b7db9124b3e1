/** `postern db check [--repair]` and `postern cache stats`. */
import { configFrom, type GlobalOptions, output } from "./io.ts";
import { exit, say } from "./streams.ts";
import { withLocalServices } from "./local.ts";

/**
 * Reports dangling rows, integrity problems and wrong used bytes; with --repair removes dangling rows
 * and recounts used bytes. Exit 1 if problems remain.
 */
export async function dbCheckCommand(options: GlobalOptions & { repair?: boolean }): Promise<void> {
  const report = await withLocalServices(
    configFrom(options),
    (s) => s.store.integrity.check({ repair: options.repair }),
  );
  const remaining = options.repair
    ? report.integrity.length
    : report.integrity.length + report.dangling.length + report.usage.length;
  if (options.json) output(report, options);
  else {
    if (report.ok) say("Database OK: integrity check passed, no dangling references, used bytes right");
    for (const line of report.integrity) say(`integrity: ${line}`);
    for (const row of report.dangling) say(`dangling: ${row.detail}`);
    for (const row of report.usage) say(`usage: ${row.detail}`);
    if (options.repair && report.repaired) {
      say(`Repaired ${report.repaired} rows (dangling rows removed, used bytes recounted)`);
    } else if (report.dangling.length || report.usage.length) {
      say("Run `postern db check --repair` to remove dangling rows and recount used bytes");
    }
  }
  if (remaining > 0) exit(1);
}

/** Shows the cache settings and this process's view of the log (a fresh process has empty caches). */
export async function cacheStatsCommand(options: GlobalOptions): Promise<void> {
  const stats = await withLocalServices(configFrom(options), async (s) => ({
    settings: await s.settings.get("Cache"),
    pendingInvalidations: s.store.invalidations.lastId(),
    namespaces: s.caches.stats().namespaces,
  }));
  if (options.json) output(stats, options);
  else {
    output(stats.settings, options);
    say(`Invalidation log position: ${stats.pendingInvalidations}`);
    say("Live hit rates of a running server: GET /metrics (postern_cache_*).");
  }
}
