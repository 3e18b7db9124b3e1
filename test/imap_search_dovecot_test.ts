/**
 * SEARCH, SORT and THREAD compared with Dovecot's (Debian `dovecot-core`, `dovecot-imapd`, no FTS
 * plugin, so Dovecot matches text by substring): the crafted mailbox of test/imap_search_helpers.ts
 * is put in a private Dovecot's Maildir (internal dates as file times, flags by STORE) and in
 * Postern's store, and each command's answer must be the same set (SEARCH) or the same sequence
 * (SORT, THREAD), except the deliberate differences listed with their reasons. Skips without
 * Dovecot or root.
 */
import assert from "node:assert/strict";
import { decodeId } from "../src/model/ids.ts";
import { canRunDovecotImap, startDovecotImap } from "./imap_dovecot_helpers.ts";
import { CRAFTED, craftedBytes, SearchSession } from "./imap_search_helpers.ts";
import { withApp } from "./jmap_helpers.ts";
import { createUsers } from "./mail_helpers.ts";

/** Commands where Postern answers differently on purpose, and why. */
const DELIBERATE: Record<string, string> = {
  "SEARCH BODY udget": "text keys match by token prefix through the FTS5 index (as Email/query does, and " +
    "Dovecot with an FTS plugin); Dovecot without one matches any substring, which needs every body read",
  "SEARCH TEXT xample": "the same: a substring inside a word is not a word of the index",
  "SEARCH SENTON 9-Jan-2023": "message 8 has no Date header: Postern's sent date is then the internal date " +
    "(the stored sent instant RFC 5256 §2.2 asks for), Dovecot matches no sent date",
  "SEARCH SENTBEFORE 3-Jan-2023": "the same message 8: Dovecot takes a missing Date as the epoch, so it is " +
    "sent before every date",
  "SEARCH TEXT Message-ID":
    "TEXT looks in the indexed fields (subject, addresses, body, attachment names), " +
    "not in every header field name and value",
};

/** ~30 searches over every key family. */
const SEARCHES = [
  "ALL",
  "SEEN",
  "UNSEEN",
  "ANSWERED",
  "FLAGGED UNSEEN",
  "DELETED",
  "DRAFT",
  "KEYWORD $Important",
  "FROM bob",
  "FROM carol",
  "TO team",
  "CC carol",
  "BCC carol",
  "SUBJECT lunch",
  "SUBJECT quarterly",
  "BODY budget",
  "BODY udget",
  "TEXT budget",
  "TEXT deploy",
  "TEXT xample",
  "TEXT Message-ID",
  "HEADER X-Project apollo",
  'HEADER X-Project ""',
  "HEADER In-Reply-To h1@x",
  "LARGER 1000",
  "SMALLER 300",
  "BEFORE 4-Jan-2023",
  "ON 4-Jan-2023",
  "SINCE 12-Jan-2023",
  "SENTBEFORE 3-Jan-2023",
  "SENTON 8-Jan-2023",
  "SENTON 9-Jan-2023",
  "SENTSINCE 13-Jan-2023",
  "OR FROM bob FROM carol",
  "NOT (OR FROM bob SUBJECT lunch)",
  "OR (FLAGGED SEEN) DELETED",
  "2:5 NOT FROM dave",
  "UID 3:7 OR TEXT budget TEXT lunch",
];

const SORTS = [
  "SORT (ARRIVAL) UTF-8 ALL",
  "SORT (FROM) UTF-8 ALL",
  "SORT (TO) UTF-8 ALL",
  "SORT (CC) UTF-8 ALL",
  "SORT (SUBJECT) UTF-8 ALL",
  "SORT (REVERSE SUBJECT) UTF-8 ALL",
  "SORT (SIZE) UTF-8 ALL",
  "SORT (DATE) UTF-8 ALL",
  "SORT (REVERSE DATE) UTF-8 ALL",
  "SORT (DISPLAYFROM) UTF-8 ALL",
  "SORT (DISPLAYTO) UTF-8 ALL",
  "SORT (SUBJECT REVERSE ARRIVAL) UTF-8 NOT DELETED",
  "UID SORT (FROM DATE) UTF-8 SINCE 5-Jan-2023",
];

const THREADS = [
  "THREAD ORDEREDSUBJECT UTF-8 ALL",
  "THREAD REFERENCES UTF-8 ALL",
  "THREAD REFERENCES UTF-8 FROM bob",
  "THREAD REFERENCES UTF-8 NOT FROM bob",
  "UID THREAD ORDEREDSUBJECT UTF-8 SINCE 4-Jan-2023",
];

/** The untagged answer line `* NAME …` of a command's response text. */
function dataLine(response: string, name: string): string {
  const line = response.split("\r\n").find((l) => l === `* ${name}` || l.startsWith(`* ${name} `));
  assert.ok(line !== undefined, `no ${name} in ${response}`);
  return line;
}

const numbersOf = (line: string) => line.split(" ").slice(2).map(Number);

Deno.test({
  name: "SEARCH, SORT and THREAD answer what Dovecot answers on the same mailbox",
  ignore: !canRunDovecotImap(),
  fn: () =>
    withApp(async (t) => {
      const [alice] = await createUsers(t, ["alice"]);
      const viewer = decodeId(alice.accountId)!;
      const imap = t.services.imapMailboxes;
      const entry = (await imap.resolve(viewer, "INBOX"))!;
      for (const m of CRAFTED) {
        await imap.append(viewer, entry, {
          message: craftedBytes(m),
          flags: m.flags,
          internalDate: m.internalDate,
        });
      }
      const postern = await SearchSession.open(t, viewer, "INBOX");
      const dovecot = await startDovecotImap(CRAFTED.map(craftedBytes), {
        internalDates: CRAFTED.map((m) => m.internalDate),
      });
      const decoder = new TextDecoder();
      const ask = async (command: string) => decoder.decode(await dovecot.command(command));
      try {
        for (const [i, m] of CRAFTED.entries()) {
          if (m.flags.length) await ask(`STORE ${i + 1} +FLAGS.SILENT (${m.flags.join(" ")})`);
        }
        const mismatches: string[] = [];
        const deliberate: string[] = [];
        const compared: string[] = [];
        const compare = async (command: string, name: string, asSet: boolean) => {
          const theirs = dataLine(await ask(command), name);
          const ours = dataLine((await postern.command(command)).join("\r\n"), name);
          const normal = (line: string) =>
            asSet ? numbersOf(line).sort((a, b) => a - b).join(" ") : line.replace(/\s+$/, "");
          const same = normal(theirs) === normal(ours);
          compared.push(`${command} → ${ours}`);
          if (DELIBERATE[command]) {
            deliberate.push(
              `${command}: Dovecot ${theirs} / Postern ${ours} (${same ? "now equal" : "differs"})`,
            );
          } else if (!same) mismatches.push(`${command}\n  Dovecot: ${theirs}\n  Postern: ${ours}`);
        };
        for (const search of SEARCHES) await compare(`SEARCH ${search}`, "SEARCH", true);
        for (const sort of SORTS) await compare(sort, "SORT", false);
        for (const thread of THREADS) await compare(thread, "THREAD", false);
        console.log(`Deliberate differences:\n${deliberate.join("\n")}`);
        assert.equal(compared.length, SEARCHES.length + SORTS.length + THREADS.length);
        assert.deepEqual(mismatches, [], mismatches.join("\n"));
      } finally {
        await dovecot.stop();
      }
    }),
});
