/**
 * An acknowledged APPEND survives a crash: IMAP clients append to a real `postern serve` as fast as
 * it answers, the server is killed with SIGKILL after a random number of OKs, and a server restarted
 * on the data directory holds every message whose APPEND was answered OK (over JMAP: Email/query and
 * Email/get). A message whose OK never arrived may or may not be there (one per client at most: the
 * APPEND in flight at the kill), nothing else.
 */
import assert from "node:assert/strict";
import { PASSWORD } from "./helpers.ts";
import { imapPeersMissing, type ImapProcess, ImapTalk, startImapProcess } from "./imap_helpers.ts";
import { createUsers, mailCall, type Obj, serverTarget } from "./mail_helpers.ts";

const ignore = imapPeersMissing("APPEND acknowledged after commit");
const CLIENTS = 3;

/** Appends from one connection until the server dies; returns the subjects answered OK and the one in flight. */
async function appendUntilKilled(
  server: ImapProcess,
  client: number,
  acked: Set<string>,
  killAfter: number,
): Promise<string | undefined> {
  let talk: ImapTalk | undefined;
  let subject: string | undefined;
  try {
    talk = await ImapTalk.open(server.imapsPort, { implicitTls: true, certPem: server.certPem });
    const login = await talk.command(`LOGIN alice "${PASSWORD}"`);
    assert.match(login.at(-1)!, / OK /);
    for (let i = 0;; i++) {
      subject = `c${client}-${i}`;
      const message = `From: a@example.net\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@kill>\r\n\r\n` +
        `Body ${subject}\r\n`;
      const answer = await talk.command(`APPEND INBOX {${message.length}+}\r\n${message}`);
      assert.match(answer.at(-1)!, / OK \[APPENDUID /, answer.join("\n"));
      acked.add(subject);
      if (acked.size >= killAfter) server.kill("SIGKILL");
    }
  } catch (error) {
    // The connection failed: the server was killed (a client may not even have logged in by then).
    if (error instanceof assert.AssertionError) throw error;
    return subject !== undefined && !acked.has(subject) ? subject : undefined;
  } finally {
    talk?.close();
  }
}

Deno.test({
  name: "IMAP APPEND is answered OK only after its commit: every acknowledged message survives SIGKILL",
  ignore,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-imap-kill-" });
    let server = await startImapProcess(dataDir);
    try {
      const [alice] = await createUsers(serverTarget(server.url), ["alice"]);
      const acked = new Set<string>();
      const killAfter = 10 + Math.floor(Math.random() * 30);
      const inFlight = (await Promise.all(
        Array.from({ length: CLIENTS }, (_, c) => appendUntilKilled(server, c, acked, killAfter)),
      )).filter((s) => s !== undefined);
      await server.status;
      assert.ok(acked.size >= killAfter, `${acked.size} acknowledged`);

      server = await startImapProcess(dataDir);
      const target = serverTarget(server.url);
      const query = await mailCall(target, "Email/query", { accountId: alice.accountId }, alice);
      const got = await mailCall(target, "Email/get", {
        accountId: alice.accountId,
        ids: query.ids,
        properties: ["subject"],
      }, alice);
      const stored = new Set((got.list as Obj[]).map((e) => e.subject as string));
      for (const subject of acked) assert.ok(stored.has(subject), `acknowledged ${subject} was lost`);
      for (const subject of stored) {
        assert.ok(acked.has(subject) || inFlight.includes(subject), `${subject} was never appended`);
      }
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
