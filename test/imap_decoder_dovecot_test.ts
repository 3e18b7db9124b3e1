/**
 * Differential test of the IMAP command parser against Dovecot (Debian `dovecot-imapd`), the
 * reference server: each command goes to a private Dovecot `imap` process (run PREAUTH on a pipe,
 * a Maildir in a temp dir, a mailbox with three messages selected) and to Postern's decoder, and
 * both must agree on whether it is well-formed: Dovecot's tagged BAD against the decoder's `bad`.
 * Only commands of extensions both implement are compared (Dovecot 2.3 without plugins has no
 * QUOTA, ACL, COMPRESS or OBJECTID); the few places where Postern is stricter on purpose are listed
 * with their reason in STRICTER.
 *
 * Skipped unless /usr/lib/dovecot/imap exists and the test runs as root (Dovecot drops to nobody).
 */
import assert from "node:assert/strict";
import { createCommandDecoder } from "../src/imap/decoder.ts";

const IMAP = "/usr/lib/dovecot/imap";
const canRun = Deno.uid() === 0 && await Deno.stat(IMAP).then(() => true, () => false);
const enc = new TextEncoder();

/** Well-formed commands (Dovecot answers OK or NO, never BAD). */
const VALID = [
  "NOOP",
  "CHECK",
  "NAMESPACE",
  "ENABLE QRESYNC",
  "ID NIL",
  'ID ("name" "postern" "version" NIL)',
  "ID ()",
  "FETCH 1 FAST",
  "FETCH 1:2 ALL",
  "FETCH 1:* FULL",
  "FETCH 1:* (FLAGS UID INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY MODSEQ)",
  "FETCH 1 (BODY.PEEK[HEADER.FIELDS (DATE FROM)] BODY.PEEK[HEADER.FIELDS.NOT (SUBJECT)] BODY.PEEK[TEXT])",
  "FETCH 1 (BODY.PEEK[]<0.10> BODY.PEEK[1] BODY.PEEK[1.MIME] RFC822.HEADER)",
  "FETCH 2 (BINARY.PEEK[1] BINARY.SIZE[1] BINARY.PEEK[]<5.10>)",
  "FETCH *:1 UID",
  "UID FETCH 1:4294967295 (FLAGS) (CHANGEDSINCE 1)",
  "UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)",
  "STORE 1 +FLAGS (\\Seen)",
  "STORE 1:2 -FLAGS.SILENT (\\Seen $Junk)",
  "STORE 3 FLAGS \\Flagged \\Draft",
  "UID STORE 1:* (UNCHANGEDSINCE 99999) +FLAGS.SILENT ($Label1)",
  "SEARCH ALL",
  'SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"',
  "SEARCH OR (SEEN UNDRAFT) NOT (LARGER 10 SMALLER 100000) UID 1:*",
  'SEARCH HEADER X-Test "" BODY hello TEXT {5+}\r\nworld',
  "SEARCH SENTBEFORE 1-Jan-2030 SENTON 2-Jan-2000 SENTSINCE 3-Jan-2000 BEFORE 4-Jan-2030 ON 5-Jan-2000",
  "SEARCH KEYWORD $Junk UNKEYWORD $Label1 ANSWERED UNANSWERED DELETED UNDELETED NEW OLD RECENT",
  "SEARCH CHARSET UTF-8 SUBJECT x",
  "SEARCH RETURN (MIN MAX COUNT ALL) ALL",
  "SEARCH RETURN () 1:2",
  'SEARCH MODSEQ "/flags/\\\\draft" all 1',
  "SEARCH MODSEQ 0",
  "UID SEARCH RETURN (SAVE) ALL",
  "SEARCH $",
  "SORT (SUBJECT REVERSE DATE) UTF-8 ALL",
  "SORT (ARRIVAL CC FROM SIZE TO DISPLAYFROM DISPLAYTO) US-ASCII SEEN",
  "SORT RETURN (COUNT) (DATE) UTF-8 ALL",
  "UID THREAD REFERENCES UTF-8 ALL",
  "THREAD ORDEREDSUBJECT US-ASCII SINCE 5-MAR-2000",
  'LIST "" "*"',
  'LIST "" %',
  'LIST (SUBSCRIBED) "" "*" RETURN (CHILDREN STATUS (MESSAGES UNSEEN))',
  'LIST () "" ("INBOX" "x*")',
  'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"',
  'LSUB "" "*"',
  "STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN RECENT HIGHESTMODSEQ SIZE)",
  "CREATE Entw&APw-rfe",
  'RENAME "Entw&APw-rfe" Drafts2',
  "SUBSCRIBE Drafts2",
  "UNSUBSCRIBE Drafts2",
  "DELETE Drafts2",
  "COPY 1:2 INBOX",
  "UID COPY 1 INBOX",
  'APPEND INBOX (\\Seen) " 7-Feb-1994 21:52:25 -0800" {14+}\r\nSubject: x\r\n\r\n',
  "APPEND INBOX {14+}\r\nSubject: y\r\n\r\n",
  "SELECT INBOX (CONDSTORE)",
];

/** Malformed commands (Dovecot answers BAD). */
const INVALID = [
  "FROB",
  "NOOP(",
  "FETCH 1 (FLAGS",
  "FETCH 1 FLAGS)",
  "FETCH 0 FLAGS",
  "FETCH 1 BODY[MIME]",
  "FETCH 1 FROB",
  "FETCH 1 (ALL)",
  "FETCH 1 BODY[]<0>",
  "FETCH 1 BINARY[1.TEXT]",
  "FETCH 1:: UID",
  "FETCH",
  "STORE 1 FLAGS.LOUD (\\Seen)",
  "STORE 1 +FLAGS (\\Seen",
  "STORE 1",
  "SEARCH FROB",
  "SEARCH (ALL",
  "SEARCH ALL)",
  "SEARCH OR ALL",
  "SEARCH SINCE 1-Fbr-2024",
  "SEARCH SINCE 2024-01-01",
  "SEARCH LARGER x",
  "SEARCH RETURN (FROB) ALL",
  "SEARCH",
  "SORT () UTF-8 ALL",
  "SORT (WEIGHT) UTF-8 ALL",
  "SORT (DATE) UTF-8",
  "THREAD X-MAGIC UTF-8 ALL",
  'LIST (FROB) "" "*"',
  'LIST "" "*" RETURN (FROB)',
  'LIST ""',
  "STATUS INBOX (FROB)",
  "STATUS INBOX",
  "CREATE",
  "RENAME INBOX",
  "COPY 1",
  "UID FROB 1",
  "ENABLE",
  "ID (",
  'ID ("name")',
  "SELECT",
  'LOGIN "fred',
  "APPEND INBOX",
  "APPEND INBOX (\\Seen)",
  'APPEND INBOX "1-Feb-2024 00:00:00" {1+}\r\nx',
];

/**
 * Where Postern refuses what Dovecot lets through, on purpose. Dovecot is lenient here; RFC 9051's
 * grammar is not, and a strict parser gives one meaning to each command.
 */
const STRICTER: Record<string, string> = {
  "FETCH 1 BODY[]<0>":
    "a partial is <offset.length> (RFC 9051 §9 `partial`); Dovecot reads <0> as from 0 to the end",
  "FETCH 1 BINARY[1.TEXT]": "BINARY takes a part number only (RFC 3516 `section-binary`)",
  "ENABLE": "ENABLE names at least one capability (RFC 5161 §3)",
  'ID ("name")': "ID takes field and value pairs (RFC 2971 §4)",
};

/** A private Dovecot imap process on a pipe (PREAUTH), a Maildir in `dir`. */
async function startImap(dir: string) {
  await Deno.mkdir(`${dir}/Maildir`, { recursive: true });
  await Deno.mkdir(`${dir}/run`);
  await Deno.chmod(dir, 0o755);
  await Deno.chown(`${dir}/Maildir`, 65534, 65534);
  await Deno.writeTextFile(
    `${dir}/dovecot.conf`,
    [
      `mail_location = maildir:${dir}/Maildir`,
      "ssl = no",
      `log_path = ${dir}/dovecot.log`,
      `base_dir = ${dir}/run`,
      `state_dir = ${dir}/run`,
      "mail_uid = 65534",
      "mail_gid = 65534",
      "first_valid_uid = 1",
    ].join("\n") + "\n",
  );
  const child = new Deno.Command(IMAP, {
    args: ["-c", `${dir}/dovecot.conf`],
    env: { USER: "me", HOME: dir },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  /** Sends one tagged command and returns Dovecot's tagged answer's status. */
  async function send(tag: string, command: string): Promise<string> {
    await writer.write(enc.encode(`${tag} ${command}\r\n`));
    const tagged = new RegExp(`^${tag} (OK|NO|BAD)`, "m");
    const deadline = Date.now() + 20_000;
    while (!tagged.test(output)) {
      if (Date.now() > deadline) throw new Error(`Dovecot did not answer ${tag}: ${output}`);
      const { value, done } = await reader.read();
      if (done) throw new Error(`Dovecot closed: ${output}`);
      output += value;
    }
    const status = tagged.exec(output)![1];
    output = output.slice(output.search(tagged)).replace(/^.*\r?\n/, "");
    return status;
  }
  return {
    send,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await writer.close().catch(() => undefined);
      await reader.cancel().catch(() => undefined);
      await child.status;
    },
  };
}

/** What Postern's decoder makes of one command: "BAD" or "ok". */
function posternVerdict(tag: string, command: string): string {
  const decoder = createCommandDecoder({ maxLine: 65536, maxAppendLiteral: 1 << 20, maxLiteral: 65536 });
  const events = decoder.push(enc.encode(`${tag} ${command}\r\n`)).filter((e) => e.type !== "continue");
  assert.equal(events.length, 1, `${command}: ${Deno.inspect(events)}`);
  return events[0].type === "command" ? "ok" : "BAD";
}

Deno.test({
  name: "the decoder agrees with Dovecot on which commands are well-formed",
  ignore: !canRun,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "postern-dovecot-imap-" });
    const imap = await startImap(dir);
    try {
      for (const subject of ["one", "two", "three"]) {
        const message =
          `Subject: ${subject}\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\n\r\nbody ${subject}\r\n`;
        assert.equal(await imap.send("s", `APPEND INBOX {${message.length}+}\r\n${message}`), "OK");
      }
      assert.equal(await imap.send("s", "SELECT INBOX"), "OK");
      const disagreements: string[] = [];
      let n = 0;
      for (const [expected, commands] of [["ok", VALID], ["BAD", INVALID]] as const) {
        for (const command of commands) {
          const tag = `t${++n}`;
          const dovecot = (await imap.send(tag, command)) === "BAD" ? "BAD" : "ok";
          const postern = posternVerdict(tag, command);
          if (dovecot !== expected && !(command in STRICTER)) {
            disagreements.push(`Dovecot says ${dovecot} to ${JSON.stringify(command)}`);
          }
          if (command in STRICTER && postern !== "BAD") disagreements.push(`Postern accepts ${command}`);
          if (postern !== dovecot && !(command in STRICTER)) {
            disagreements.push(`Postern says ${postern}, Dovecot ${dovecot}, to ${JSON.stringify(command)}`);
          }
          // Dovecot hangs up after a run of BADs; a good command resets its count.
          if (dovecot === "BAD") assert.equal(await imap.send("r", "NOOP"), "OK");
        }
      }
      assert.deepEqual(disagreements, []);
    } finally {
      await imap.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
