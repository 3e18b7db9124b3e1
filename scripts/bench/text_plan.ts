/**
 * Where the full-text mix's time goes, in-process: each kind of query of scripts/bench/text_search.ts
 * run against the store on a corpus database, timed per kind in CPU time (median, p90, max over its rounds), with
 * the plan SQLite chose for each statement it ran. No server and no Email/get: the query alone, so a
 * change to the index or the plan shows as a change of these figures.
 *
 * The connection maps the file as a read worker does (src/store/read_worker.ts; `--mmap 0` reads
 * without a map, like the main connection).
 *
 *   deno run -A scripts/bench/text_plan.ts --db PATH [--rounds 30] [--plans] [--mmap BYTES]
 */
import { parseArgs } from "node:util";
import { DatabaseSync } from "node:sqlite";
import { cpuUsage } from "node:process";
import { Db } from "../../src/store/db.ts";
import { type EmailFilter, type EmailQuery, runEmailQuery } from "../../src/store/email_query.ts";
import { searchWords } from "../../src/model/search_words.ts";
import { KINDS, mixFilter } from "./text_search.ts";

/** The names of the mix's kinds, in the order of `mixFilter(i)` for `i % KINDS.length`. */
export { KINDS };

/** The store's filter for a wire filter of the mix (mailbox ids as numbers, text as search words). */
function storeFilter(filter: Record<string, unknown>): EmailFilter {
  if ("operator" in filter) {
    return {
      operator: filter.operator as "AND",
      conditions: (filter.conditions as Record<string, unknown>[]).map(storeFilter),
    };
  }
  const condition: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(filter)) {
    condition[key] = key === "inMailbox" ? Number(value) : searchWords(String(value));
  }
  return { condition };
}

/** Milliseconds per query of each kind, over `rounds` queries of it (the mix's own words). */
export function timeKinds(db: Db, options: { rounds: number; plans?: boolean }): Map<string, number[]> {
  const account = db.get<{ id: number }>("SELECT account_id AS id FROM emails LIMIT 1")!.id;
  const role = (name: string) =>
    String(
      db.get<{ id: number }>("SELECT id FROM mailboxes WHERE account_id = ? AND role = ?", account, name)!.id,
    );
  const [inbox, archive] = [role("inbox"), role("archive")];
  const times = new Map<string, number[]>(KINDS.map((k) => [k, []]));
  const query = (i: number): EmailQuery => ({
    accountId: Number(account),
    filter: storeFilter(mixFilter(i, inbox, archive)),
    sort: [{ property: "receivedAt", isAscending: false }],
    position: 0,
    limit: 50,
    collapseThreads: false,
    calculateTotal: false,
  } as EmailQuery);
  if (options.plans) explainKinds(db, query);
  for (let round = 0; round < options.rounds; round++) {
    for (let kind = 0; kind < KINDS.length; kind++) {
      const i = KINDS.length * (10 + round) + kind;
      // CPU time, not wall time: on a shared machine the wall clock measures the neighbours.
      const started = cpuUsage();
      runEmailQuery(db, query(i));
      const used = cpuUsage(started);
      times.get(KINDS[kind])!.push((used.user + used.system) / 1000);
    }
  }
  return times;
}

/** Prints the plan of every statement one query of each kind runs. */
function explainKinds(db: Db, query: (i: number) => EmailQuery): void {
  for (let kind = 0; kind < KINDS.length; kind++) {
    const statements: [string, unknown[]][] = [];
    const spy = Object.create(db) as Db;
    spy.all = ((sql: string, ...params: never[]) => {
      statements.push([sql, params]);
      return db.all(sql, ...params);
    }) as Db["all"];
    runEmailQuery(spy, query(KINDS.length * 10 + kind));
    console.log(`\n${KINDS[kind]}:`);
    for (const [sql, params] of statements) {
      console.log(`  ${sql.replace(/\s+/g, " ").slice(0, 260)}`);
      for (const row of db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, ...params as never[])) {
        console.log(`    ${row.detail}`);
      }
    }
  }
}

const q = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(p * values.length))];

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      db: { type: "string" },
      rounds: { type: "string", default: "30" },
      plans: { type: "boolean", default: false },
      mmap: { type: "string", default: String(0x7fff0000) },
    },
  });
  if (!values.db) throw new Error("--db PATH is required");
  const raw = new DatabaseSync(values.db, { readOnly: true });
  raw.exec(`PRAGMA mmap_size = ${Number(values.mmap)}`);
  const db = new Db(raw);
  const times = timeKinds(db, { rounds: Number(values.rounds), plans: values.plans });
  console.log("\nkind                  median     p90     max  (CPU ms, in-process, query only)");
  const all = [...times.values()].flat();
  console.log(
    `the whole mix: p50 ${q(all, 0.5).toFixed(2)} p90 ${q(all, 0.9).toFixed(2)} p99 ${
      q(all, 0.99).toFixed(2)
    } (load ${Deno.loadavg().map((l) => l.toFixed(1)).join(" ")})`,
  );
  for (const [kind, list] of times) {
    console.log(
      `${kind.padEnd(20)} ${q(list, 0.5).toFixed(2).padStart(8)} ${q(list, 0.9).toFixed(2).padStart(7)} ${
        Math.max(...list).toFixed(2).padStart(7)
      }`,
    );
  }
}
