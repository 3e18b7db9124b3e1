/** `postern backup OUT` and `postern restore IN`: a whole data directory, online (see src/backup.ts). */
import { createBackup, restoreBackup } from "../backup.ts";
import { configFrom, type GlobalOptions, output } from "./io.ts";
import { say, streams } from "./streams.ts";

const BAR_WIDTH = 30;

/** Copies the database (while the server runs) and the key to the new directory `out`. */
export async function backupCommand(out: string, options: GlobalOptions): Promise<void> {
  const bar = streams().stdoutIsTerminal && !options.json ? progressBar("Backing up") : undefined;
  const manifest = await createBackup(configFrom(options), out, { onProgress: bar?.update });
  bar?.end();
  if (options.json) output({ backup: out, ...manifest }, options);
  else {
    const size = manifest.files.find((file) => file.name === "postern.db")?.bytes ?? 0;
    say(
      `Backup written to ${out}: database schema ${manifest.schemaVersion}, ${size} bytes; ` +
        `encryption key ${manifest.encryptionKey}`,
    );
  }
}

/** Puts a backup back into the data directory (refused while a Postern process has it open). */
export async function restoreCommand(
  from: string,
  options: GlobalOptions & { force?: boolean },
): Promise<void> {
  const report = await restoreBackup(configFrom(options), from, { force: options.force });
  if (options.json) output(report, options);
  else {
    say(
      `Restored ${from} (taken ${report.manifest.createdAt} by Postern ${report.manifest.posternVersion}, ` +
        `schema ${report.manifest.schemaVersion}) into ${report.database}; encryption key: ${report.encryptionKey}`,
    );
    if (report.kept.length) say(`What it replaced is kept as ${report.kept.join(" and ")}`);
  }
}

/** A one-line bar redrawn in place on a terminal. */
function progressBar(label: string): { update: (done: number, total: number) => void; end: () => void } {
  let shown = -1;
  return {
    update(done, total) {
      const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
      if (percent === shown) return;
      shown = percent;
      const filled = Math.round((percent / 100) * BAR_WIDTH);
      const line = `\r${label} [${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${percent}%`;
      streams().stdout(line);
    },
    end: () => streams().stdout("\n"),
  };
}
