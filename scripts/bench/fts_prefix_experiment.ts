/**
 * What an FTS5 prefix index costs and buys (the measurement behind migrations/049_search_prefix.ts):
 * the full-text index built in variants side by side from the bench corpus's generated messages (their
 * real search text, src/mail/message_facts.ts), batches of 500 inserted into each in alternating order;
 * insert CPU per message, file size, and the CPU of word and prefix queries (newest 50) on each.
 *
 *   deno run -A scripts/bench/fts_prefix_experiment.ts [COUNT] [DIR]
 *   VARIANTS='{"plain": "", "p3": ", prefix = \u00273\u0027"}' deno run -A scripts/bench/fts_prefix_experiment.ts
 */
import { DatabaseSync } from "node:sqlite";
import { cpuUsage } from "node:process";
import { messageFacts } from "../../src/mail/message_facts.ts";
import { generatedMessage, WORDS } from "./email_store.ts";

const count = Number(Deno.args[0] ?? 100000);
const dir = Deno.args[1] ?? await Deno.makeTempDir({ prefix: "postern-fts-prefix-" });
const variants: Record<string, string> = JSON.parse(
  Deno.env.get("VARIANTS") ??
    '{"plain": "", "p3": ", prefix = \u00273\u0027", "p23": ", prefix = \u00272 3\u0027"}',
);
const dbs: Record<string, DatabaseSync> = {};
const insertCpu: Record<string, number> = Object.fromEntries(Object.keys(variants).map((k) => [k, 0]));
for (const [name, prefix] of Object.entries(variants)) {
  try {
    Deno.removeSync(`${dir}/fts_${name}.db`);
  } catch { /* none */ }
  const db = new DatabaseSync(`${dir}/fts_${name}.db`);
  db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  db.exec(
    `CREATE VIRTUAL TABLE s USING fts5(subject, from_text, to_text, cc_text, bcc_text, body, attachments,
    tokenize = 'unicode61 remove_diacritics 2', detail = column, content = '', contentless_delete = 1${prefix});
    INSERT INTO s (s, rank) VALUES ('automerge', 8);`,
  );
  dbs[name] = db;
}
const cpu = () => {
  const u = cpuUsage();
  return u.user + u.system;
};
for (let start = 0; start < count; start += 500) {
  const batch = [];
  for (let i = start; i < Math.min(count, start + 500); i++) {
    batch.push({ id: i + 1, s: messageFacts(generatedMessage(i)).search });
  }
  const names = Object.keys(variants);
  const order = (start / 500) % 2 ? names : [...names].reverse();
  for (const name of order) {
    const db = dbs[name];
    const t = cpu();
    db.exec("BEGIN");
    const stmt = db.prepare(
      "INSERT INTO s (rowid, subject, from_text, to_text, cc_text, bcc_text, body, attachments) VALUES (?,?,?,?,?,?,?,?)",
    );
    for (const { id, s } of batch) stmt.run(id, s.subject, s.from, s.to, s.cc, s.bcc, s.body, s.attachments);
    db.exec("COMMIT");
    insertCpu[name] += cpu() - t;
  }
  if (start % 20000 === 0) console.log(start);
}
for (const name of Object.keys(variants)) {
  dbs[name].exec("PRAGMA wal_checkpoint(TRUNCATE)");
  console.log(
    `${name}: insert ${(insertCpu[name] / count).toFixed(1)} µs CPU/msg, file ${
      (Deno.statSync(`${dir}/fts_${name}.db`).size / 1e6).toFixed(1)
    } MB`,
  );
}
const kinds: Record<string, (i: number) => string> = {
  "common word": (i) => `"${WORDS.common[i % 40]}"*`,
  "rarer word": (i) => `"${WORDS.rarer[(i * 37) % 2000]}"*`,
  "rare word": (i) => `"${WORDS.rare[(i * 37) % 2000]}"*`,
  "3-letter prefix": (i) => `"${WORDS.rarer[(i * 37) % 2000].slice(0, 3)}"*`,
  "rarer + common": (i) => `"${WORDS.rarer[(i * 37) % 2000]}"* AND "${WORDS.common[i % 40]}"*`,
  "subject word": (i) => `subject : ("${WORDS.rarer[i % 300]}"*)`,
};
for (const [kind, expr] of Object.entries(kinds)) {
  const line: string[] = [];
  for (const name of Object.keys(variants)) {
    const stmt = dbs[name].prepare("SELECT rowid FROM s WHERE s MATCH ? ORDER BY rowid DESC LIMIT 50");
    const times: number[] = [];
    for (let i = 70; i < 70 + 7 * 30; i += 7) {
      const t = cpu();
      stmt.all(expr(i));
      times.push(cpu() - t);
    }
    times.sort((a, b) => a - b);
    line.push(`${name} median ${(times[15] / 1000).toFixed(2)} p90 ${(times[27] / 1000).toFixed(2)} ms`);
  }
  console.log(kind.padEnd(16), line.join(" | "));
}
