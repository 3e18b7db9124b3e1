/**
 * Where an imported message's main-thread CPU goes, without HTTP: generated messages (those of
 * import_rounds.ts) uploaded through the blob service in groups of {@link UPLOADERS} at once (the
 * group commit of the HTTP bench's four connections) and imported {@link IMPORT_BATCH} per
 * Email/import call through the email service, in this process, on a new data directory.
 *
 * The figure is the main thread's CPU time, read from /proc/thread-self/schedstat (nanoseconds, not
 * the 10 ms ticks of /proc/PID/stat), per message, for the uploads and for the imports apart; the
 * whole process's CPU beside it shows what other threads (the facts worker, the checkpointer) did.
 * With `--statements`, every SQLite statement (and each BEGIN, COMMIT, SAVEPOINT) is also timed in
 * thread CPU and the costliest are listed per message: each reading costs about 10 µs of its own,
 * subtracted, but the timing still slows the run, so compare the statements with one another rather
 * than with a run without it. The first 500 messages warm up and are not counted.
 *
 *   deno run -A scripts/bench/import_cost.ts [--messages 3000] [--statements]
 */
import { DatabaseSync, StatementSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { ADMIN_PASSWORD, DOMAIN, generatedMessage, PASSWORD, USER, withServices } from "./email_store.ts";
import { IMPORT_BATCH, UPLOADERS } from "./import_rounds.ts";
import { bootstrapData } from "./setup_data.ts";

const WARM_UP = 500;

/** CPU nanoseconds of the calling thread so far (the first field of its schedstat). */
function threadCpu(): () => number {
  const file = Deno.openSync("/proc/thread-self/schedstat");
  const buffer = new Uint8Array(128);
  const decoder = new TextDecoder();
  return () => {
    const n = file.readSync(buffer) ?? 0;
    file.seekSync(0, Deno.SeekMode.Start);
    return Number(decoder.decode(buffer.subarray(0, n)).split(" ")[0]);
  };
}

/** CPU nanoseconds of the whole process (user + system, in ticks of 10 ms). */
function processCpu(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 1e7;
}

/** What is being measured when a statement runs. */
let phase: "setup" | "upload" | "import" = "setup";
/** Thread CPU (ns) by phase and statement. */
const statements = new Map<string, number>();

/** Times every statement of every connection of this thread by its SQL (see the module comment). */
function timeStatements(cpu: () => number): void {
  const first = cpu();
  for (let i = 0; i < 1000; i++) cpu();
  const overhead = (cpu() - first) / 1001;
  const note = (sql: string, started: number) => {
    if (phase === "setup") return;
    const key = `${phase}: ${sql.replace(/\s+/g, " ").trim().slice(0, 72)}`;
    statements.set(key, (statements.get(key) ?? 0) + cpu() - started - overhead);
  };
  const statement = StatementSync.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const method of ["run", "get", "all"]) {
    const original = statement[method];
    statement[method] = function (this: StatementSync, ...args: unknown[]) {
      const started = cpu();
      try {
        return original.apply(this, args);
      } finally {
        note(this.sourceSQL, started);
      }
    };
  }
  const exec = DatabaseSync.prototype.exec;
  DatabaseSync.prototype.exec = function (this: DatabaseSync, sql: string) {
    const started = cpu();
    try {
      return exec.call(this, sql);
    } finally {
      note(sql, started);
    }
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "3000" },
      statements: { type: "boolean", default: false },
    },
  });
  const count = Number(values.messages);
  const cpu = threadCpu();
  if (values.statements) timeStatements(cpu);
  const dataDir = await Deno.makeTempDir({ prefix: "postern-import-cost-" });
  const load = () => Deno.loadavg().map((l) => l.toFixed(1)).join(" ");
  console.log(`load ${load()}`);
  try {
    await bootstrapData(dataDir, { domain: DOMAIN, adminPassword: ADMIN_PASSWORD });
    await withServices(dataDir, async (services) => {
      const domain = await services.domains.getByName(DOMAIN);
      await services.accounts.create({ type: "User", name: USER, domainId: domain!.id, password: PASSWORD });
      const id = (await services.accounts.idByLogin(`${USER}@${DOMAIN}`))!;
      const inbox = (await services.mailboxes.list(id, id)).find((m) => m.role === "inbox")!.id;
      const messages = Array.from({ length: WARM_UP + count }, (_, i) => generatedMessage(i));
      const spent = { upload: 0, import: 0, uploadAll: 0, importAll: 0 };
      for (let start = 0; start < messages.length; start += IMPORT_BATCH) {
        const counted = start >= WARM_UP;
        const batch = messages.slice(start, start + IMPORT_BATCH);
        const items = [];
        let thread = cpu(), all = processCpu();
        phase = counted ? "upload" : "setup";
        for (let i = 0; i < batch.length; i += UPLOADERS) {
          const uploads = await Promise.all(
            batch.slice(i, i + UPLOADERS).map((data) =>
              services.blobs.upload(id, id, { data, type: "message/rfc822" })
            ),
          );
          for (const { blobId } of uploads) items.push({ blobId, mailboxIds: [inbox], keywords: [] });
        }
        if (counted) {
          spent.upload += cpu() - thread;
          spent.uploadAll += processCpu() - all;
        }
        thread = cpu();
        all = processCpu();
        phase = counted ? "import" : "setup";
        for (const result of await services.emails.import(id, id, items)) {
          if ("type" in result) throw new Error(`import failed: ${JSON.stringify(result)}`);
        }
        if (counted) {
          spent.import += cpu() - thread;
          spent.importAll += processCpu() - all;
        }
        phase = "setup";
      }
      const us = (ns: number) => (ns / 1000 / count).toFixed(0);
      console.log(
        `${count} messages of ~10 KB, ${UPLOADERS} uploads at once, ${IMPORT_BATCH} per Email/import, main thread ` +
          `CPU per message: uploads ${us(spent.upload)} µs, imports ${us(spent.import)} µs ` +
          `(whole process: ${us(spent.uploadAll)} and ${us(spent.importAll)} µs)`,
      );
      if (values.statements) {
        const top = [...statements].sort((a, b) => b[1] - a[1]).slice(0, 16);
        for (const [sql, ns] of top) console.log(`  ${us(ns).padStart(5)} µs  ${sql}`);
      }
    });
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
  }
  console.log(`load ${load()}`);
}
