/**
 * The idle timeout of a logged-in IMAP session (RFC 9051 §5.4), in-process with a one-second
 * timeout: a silent session is logged out with `* BYE`, a session that keeps talking outlives the
 * timeout many times over and is logged out once it falls silent.
 */
import assert from "node:assert/strict";
import { PASSWORD, startTestApp } from "./helpers.ts";
import { startImapOnApp } from "./imap_fetch_helpers.ts";
import { imapPeersMissing, ImapTalk } from "./imap_helpers.ts";
import { createUsers } from "./mail_helpers.ts";

const ignore = imapPeersMissing("IMAP idle timeout");

Deno.test({
  name: "IMAP: a logged-in session silent for the idle timeout is logged out; one that talks stays",
  ignore,
  async fn(t) {
    const app = await startTestApp();
    const imap = await startImapOnApp(app, { idleTimeoutSeconds: 1 });
    const open = async () => {
      const talk = await ImapTalk.open(imap.imapsPort, { implicitTls: true, certPem: imap.certPem });
      assert.match((await talk.command(`LOGIN alice "${PASSWORD}"`)).at(-1)!, / OK /);
      return talk;
    };
    try {
      await createUsers(app, ["alice"]);

      await t.step("a silent session is logged out with BYE and closed", async () => {
        const talk = await open();
        try {
          assert.match((await talk.command("SELECT INBOX")).at(-1)!, / OK /);
          assert.equal(await talk.line(), "* BYE Autologout; idle for too long");
          assert.ok(await talk.closed());
        } finally {
          talk.close();
        }
      });

      await t.step("each command restarts the timer; silence after the last ends the session", async () => {
        const talk = await open();
        try {
          // Eight NOOPs 300 ms apart: more than twice the timeout in all, never a second of silence.
          for (let i = 0; i < 8; i++) {
            await new Promise((resolve) => setTimeout(resolve, 300));
            assert.match((await talk.command("NOOP")).at(-1)!, / OK /);
          }
          assert.equal(await talk.line(), "* BYE Autologout; idle for too long");
          assert.ok(await talk.closed());
        } finally {
          talk.close();
        }
      });
    } finally {
      await imap.close();
      await app.close();
    }
  },
});
