/**
 * COPY, MOVE and APPEND answered as Dovecot answers them: the same script against a private Dovecot
 * and against Postern's session (in process, INBOX selected, the same four messages), compared line
 * by line on what a client reads: status, response code and its values (UIDVALIDITY masked), and
 * the EXPUNGEs of MOVE and UID EXPUNGE in order (an APPEND of octets INBOX holds is a new message). The texts after the codes are each server's own.
 */
import assert from "node:assert/strict";
import { withApp } from "./jmap_helpers.ts";
import { createUsers } from "./mail_helpers.ts";
import { canRunDovecotImap, startDovecotImap } from "./imap_dovecot_helpers.ts";
import { appendCommand, InProcessSession } from "./imap_inprocess_helpers.ts";

const MESSAGES = [1, 2, 3, 4].map((n) =>
  `From: a@example.net\r\nSubject: m${n}\r\nMessage-ID: <m${n}@dovecot.test>\r\n\r\nBody ${n}\r\n`
);

const SCRIPT: string[] = [
  "UID COPY 1:2 Archive",
  "COPY 3 Archive",
  "MOVE 2,4 Trash",
  "UID MOVE 1 Trash",
  "COPY 5 Trash",
  "UID COPY 50:60 Trash",
  "COPY 1 Nowhere",
  "MOVE 1 Nowhere",
  appendCommand("INBOX", "Subject: appended\r\n\r\nHello\r\n", '(\\Seen $Work) "14-Jul-2024 02:44:25 +0200"'),
  // Octets INBOX already holds (UID 3) make a new message, which the client then expunges as its own.
  appendCommand("INBOX", MESSAGES[2]),
  "UID STORE 6 +FLAGS.SILENT (\\Deleted)",
  "UID EXPUNGE 6",
  appendCommand("Archive", "Subject: appended 2\r\n\r\nHello\r\n"),
  appendCommand("Nowhere", "Subject: lost\r\n\r\nHello\r\n"),
  appendCommand("INBOX", "Subject: recent\r\n\r\nHello\r\n", "(\\Recent)"),
  "APPEND INBOX {0+}\r\n",
  'APPEND INBOX "31-Feb-2024 10:00:00 +0000" {5+}\r\nHello',
  'APPEND INBOX "14-Foo-2024 10:00:00 +0000" {5+}\r\nHello',
];

/** What a client acts on: tagged and untagged status lines without their text, and EXPUNGEs. */
function normalize(answer: string): string[] {
  const out: string[] = [];
  for (const line of answer.split("\r\n")) {
    const status = line.match(/^(\*|t\d+) (OK|NO|BAD)(?: \[([^\]]*)\])?/);
    if (status) {
      const code = status[3]?.replace(/^(COPYUID|APPENDUID) \d+/, "$1 V");
      // An untagged OK without a code is commentary, not an answer; PERMANENTFLAGS after an APPEND
      // that brought a new keyword is the selected mailbox's sync (the session's, after any command).
      if (status[1] === "*" && (!code || code.startsWith("PERMANENTFLAGS"))) continue;
      out.push(`${status[1] === "*" ? "*" : "tag"} ${status[2]}${code ? ` [${code}]` : ""}`);
    } else if (/^\* \d+ EXPUNGE$/.test(line)) out.push(line);
  }
  return out;
}

/** Where the two servers are known to differ, why, and what Postern answers there. */
const DELIBERATE: { command: RegExp; ours: string; reason: string }[] = [
  {
    command: /^APPEND INBOX \{0\+\}/,
    ours: "tag NO [CANNOT]",
    reason: "both refuse an empty message with NO; Postern adds the code [CANNOT], Dovecot none",
  },
  {
    command: /^APPEND INBOX "31-Feb-2024/,
    ours: "tag BAD",
    reason: "Dovecot takes 31-Feb as 2-Mar; Postern's parser refuses a day the month does not have",
  },
];

Deno.test({
  name: "COPY, MOVE and APPEND answer as Dovecot does (codes, COPYUID/APPENDUID sets, MOVE's EXPUNGEs)",
  ignore: !canRunDovecotImap(),
  async fn() {
    const dovecot = await startDovecotImap(MESSAGES.map((m) => new TextEncoder().encode(m)));
    try {
      for (const name of ["Archive", "Trash"]) await dovecot.command(`CREATE ${name}`);
      await withApp(async (t) => {
        const [alice] = await createUsers(t, ["alice"]);
        const imap = new InProcessSession(t, alice);
        for (const message of MESSAGES) {
          assert.match((await imap.command(appendCommand("INBOX", message))).at(-1)!, /OK/);
        }
        await imap.select("INBOX");
        const mismatches: string[] = [];
        for (const command of SCRIPT) {
          const ours = normalize((await imap.command(command)).join("\r\n"));
          const theirs = normalize(new TextDecoder().decode(await dovecot.command(command)));
          const deliberate = DELIBERATE.find((d) => d.command.test(command));
          if (deliberate) {
            assert.deepEqual(ours, [deliberate.ours], `${command}: ${deliberate.reason}`);
            continue;
          }
          if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
            mismatches.push(
              `${command.split("\r\n")[0]}\n  ours:    ${ours.join(" | ")}\n  dovecot: ${theirs.join(" | ")}`,
            );
          }
        }
        assert.deepEqual(mismatches, [], mismatches.join("\n"));
      });
    } finally {
      await dovecot.stop();
    }
  },
});
