/**
 * SELECT, EXAMINE, EXPUNGE, UID EXPUNGE, CLOSE, UNSELECT, CHECK, ENABLE QRESYNC and a QRESYNC
 * SELECT's VANISHED (EARLIER) answered by Postern and by a private Dovecot on the same three
 * messages, compared line by line once the parts that legitimately differ are normalised:
 * UIDVALIDITY and MODSEQ values, tags, the
 * human-readable text after a response code, and the order of the FLAGS list. Two answers differ
 * on purpose and are left out: SELECT of a missing mailbox (Postern adds RFC 5530's [NONEXISTENT]),
 * and EXPUNGE in a read-only mailbox (Postern answers NO [READ-ONLY], Dovecot 2.3 a silent OK).
 * A message is marked \Deleted over JMAP on Postern's side and with STORE on Dovecot's.
 */
import assert from "node:assert/strict";
import { PASSWORD } from "./helpers.ts";
import { canRunDovecotImap, startDovecotImap } from "./imap_dovecot_helpers.ts";
import { imapPeersMissing, ImapTalk, startImapProcess } from "./imap_helpers.ts";
import { createUsers, mailboxesByName, mailCall, serverTarget } from "./mail_helpers.ts";
import { imported, message } from "./email_helpers.ts";

const ignore = imapPeersMissing("IMAP SELECT against Dovecot") || !canRunDovecotImap();

const MESSAGES = [1, 2, 3].map((i) =>
  message(`From: carol@example.net\nSubject: m${i}\nMessage-ID: <d${i}@example.net>\n\nBody ${i}\n`)
);

/** What both servers are asked, in order; `mark` marks the 2nd message \Deleted outside the session. */
const STEPS = [
  "SELECT INBOX",
  "EXAMINE INBOX",
  "UNSELECT",
  "CLOSE",
  "SELECT INBOX",
  "CHECK",
  "NOOP",
  "mark",
  "EXPUNGE",
  "mark",
  "UID EXPUNGE 1:4294967295",
  "ENABLE QRESYNC",
  "SELECT INBOX (QRESYNC (1 1))",
  "EXAMINE INBOX",
  "CLOSE",
  "EXPUNGE",
];

/** One answer made comparable: tags as `T`, no text after a code, numbers of identity as N, flags sorted. */
function normalise(answer: string): string[] {
  return answer.split("\r\n").filter((l) => l).map((line) =>
    line
      .replace(/^t\d+ /, "T ")
      .replace(/\[(UIDVALIDITY|HIGHESTMODSEQ) \d+\]/, "[$1 N]")
      .replace(/^(\* |T )(OK|NO|BAD)( \[[^\]]*(\([^)]*\))?[^\]]*\])?.*$/, "$1$2$3")
      .replace(/\(((?:\\[A-Za-z*]+ ?)+)\)/g, (_, flags: string) =>
        `(${flags.trim().split(" ").sort().join(" ")})`)
  );
}

Deno.test({
  name: "SELECT, EXAMINE, EXPUNGE, CLOSE and friends answer as Dovecot does",
  ignore,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-imap-select-dovecot-" });
    const server = await startImapProcess(dataDir);
    const dovecot = await startDovecotImap(MESSAGES);
    let talk: ImapTalk | undefined;
    try {
      const target = serverTarget(server.url);
      const [alice] = await createUsers(target, ["alice"]);
      const inbox = (await mailboxesByName(target, alice)).Inbox.id as string;
      const ids: string[] = [];
      for (const m of MESSAGES) {
        ids.push((await imported(target, alice, m, { mailboxIds: [inbox] } as never)).id as string);
      }
      talk = await ImapTalk.open(server.imapsPort, { implicitTls: true, certPem: server.certPem });
      await talk.command(`LOGIN ${alice.emailAddress} "${PASSWORD}"`);
      // Dovecot's helper starts with INBOX selected: so does Postern's session.
      await talk.command("SELECT INBOX");
      // Each server's own UIDVALIDITY and HIGHESTMODSEQ before the expunges, for QRESYNC at the end.
      const status = "STATUS INBOX (UIDVALIDITY HIGHESTMODSEQ)";
      const resyncFrom = (answer: string) => {
        const found = /UIDVALIDITY (\d+) HIGHESTMODSEQ (\d+)/.exec(answer);
        assert.ok(found, answer);
        return `SELECT INBOX (QRESYNC (${found[1]} ${found[2]} 1:10))`;
      };
      const ourResync = resyncFrom((await talk.command(status)).join("\n"));
      const theirResync = resyncFrom(new TextDecoder().decode(await dovecot.command(status)));
      let position = 2;
      for (const step of STEPS) {
        if (step === "mark") {
          await dovecot.command(`STORE ${position} +FLAGS.SILENT (\\Deleted)`);
          const id = ids.splice(position - 1, 1)[0];
          await mailCall(target, "Email/set", { update: { [id]: { "keywords/$deleted": true } } }, alice);
          position = 2;
          continue;
        }
        const ours = normalise((await talk.command(step)).join("\r\n"));
        const theirs = normalise(new TextDecoder().decode(await dovecot.command(step)));
        assert.deepEqual(
          ours,
          theirs,
          `${step}\nPostern:\n${ours.join("\n")}\nDovecot:\n${theirs.join("\n")}`,
        );
      }
      // QRESYNC from before the expunges: the same VANISHED (EARLIER) on both.
      const ours = normalise((await talk.command(ourResync)).join("\r\n"));
      const theirs = normalise(new TextDecoder().decode(await dovecot.command(theirResync)));
      assert.ok(ours.includes("* VANISHED (EARLIER) 2:3"), ours.join("\n"));
      assert.deepEqual(ours, theirs, `QRESYNC\nPostern:\n${ours.join("\n")}\nDovecot:\n${theirs.join("\n")}`);
    } finally {
      talk?.close();
      await dovecot.stop();
      await server.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
    }
  },
});
