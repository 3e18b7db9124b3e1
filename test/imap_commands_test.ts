/**
 * The IMAP session's own commands on the wire (a raw dialogue over 993): ID, NAMESPACE, ENABLE
 * UTF8=ACCEPT (names in UTF-8 after it), IDLE framing, AUTHENTICATE with SASL-IR, a cancelled
 * exchange, OAUTHBEARER's JSON error challenge, a literal in LOGIN, and an OAuth grant revoked
 * mid-session ending the session with BYE, and an idle session ended as soon as its account is
 * disabled (the credential watch of every long-lived connection).
 */
import assert from "node:assert/strict";
import { PASSWORD } from "./helpers.ts";
import { imapPeersMissing, ImapTalk, startImapProcess } from "./imap_helpers.ts";
import { managementCall } from "./live_connection_helpers.ts";
import {
  adminSetAccounts,
  createMailbox,
  createUsers,
  type Obj,
  serverTarget,
  userAccessToken,
} from "./mail_helpers.ts";
import { registerClientWithCli, TestBrowser } from "./oauth_helpers.ts";

const ignore = imapPeersMissing("IMAP session commands");
const b64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));

Deno.test({
  name: "IMAP: ID, NAMESPACE, ENABLE, IDLE, SASL exchanges and a token revoked mid-session",
  ignore,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-imap-commands-" });
    const server = await startImapProcess(dataDir);
    const open = () => ImapTalk.open(server.imapsPort, { implicitTls: true, certPem: server.certPem });
    try {
      const target = serverTarget(server.url);
      const [alice] = await createUsers(target, ["alice"]);
      await createMailbox(target, alice, { name: "Grüße" });

      await t.step("AUTHENTICATE PLAIN with SASL-IR; ID, NAMESPACE, ENABLE UTF8=ACCEPT, IDLE", async () => {
        const talk = await open();
        try {
          const auth = await talk.command(`AUTHENTICATE PLAIN ${b64(`\0alice\0${PASSWORD}`)}`);
          assert.match(auth.at(-1)!, /^t1 OK \[CAPABILITY .*IDLE.*\] Logged in/);
          const id = await talk.command('ID ("name" "test client")');
          assert.match(id[0], /^\* ID \("name" "Postern" "version" "[^"]+"\)/);
          const ns = await talk.command("NAMESPACE");
          assert.equal(ns[0], '* NAMESPACE (("" "/")) (("Other Users/" "/")) NIL');
          const before = await talk.command('LIST "" "Gr*"');
          assert.equal(before[0], '* LIST (\\HasNoChildren) "/" "Gr&APwA3w-e"');
          const enable = await talk.command("ENABLE UTF8=ACCEPT CONDSTORE X-UNKNOWN");
          assert.equal(enable[0], "* ENABLED UTF8=ACCEPT CONDSTORE");
          const after = await talk.command('LIST "" "Gr*"');
          assert.equal(after[0], '* LIST (\\HasNoChildren) "/" "Grüße"');
          await talk.write("t9 IDLE\r\n");
          assert.equal(await talk.line(), "+ idling");
          await talk.write("DONE\r\n");
          assert.match(await talk.line(), /^t9 OK IDLE terminated/);
          await talk.write("t10 IDLE\r\n");
          assert.equal(await talk.line(), "+ idling");
          await talk.write("NOT DONE\r\n");
          assert.match(await talk.line(), /^t10 BAD /);
          assert.match((await talk.command("NOOP")).at(-1)!, /OK/);
        } finally {
          talk.close();
        }
      });

      await t.step("AUTHENTICATE LOGIN over continuations; * cancels; a LOGIN with literals", async () => {
        const talk = await open();
        try {
          await talk.write("a1 AUTHENTICATE LOGIN\r\n");
          assert.equal(await talk.line(), `+ ${btoa("Username:")}`);
          await talk.write("*\r\n");
          assert.match(await talk.line(), /^a1 BAD .*cancelled/);
          await talk.write("a2 AUTHENTICATE LOGIN\r\n");
          assert.equal(await talk.line(), `+ ${btoa("Username:")}`);
          await talk.write(`${b64("alice")}\r\n`);
          assert.equal(await talk.line(), `+ ${btoa("Password:")}`);
          await talk.write(`${b64("wrong")}\r\n`);
          assert.match(await talk.line(), /^a2 NO \[AUTHENTICATIONFAILED\]/);
          await talk.write(`a3 LOGIN {5}\r\n`);
          assert.match(await talk.line(), /^\+ /);
          await talk.write(`alice {${PASSWORD.length}+}\r\n${PASSWORD}\r\n`);
          assert.match(await talk.line(), /^a3 OK /);
        } finally {
          talk.close();
        }
      });

      const client = await registerClientWithCli(dataDir, { requireConsent: false });
      const token = await userAccessToken(target, new TestBrowser(server.url), client, {
        username: alice.emailAddress,
        scope: "urn:ietf:params:jmap:mail",
      });

      await t.step("OAUTHBEARER: a bad token gets RFC 7628's JSON challenge, then NO", async () => {
        const talk = await open();
        try {
          await talk.write(
            `o1 AUTHENTICATE OAUTHBEARER ${b64(`n,a=alice,\x01auth=Bearer nope\x01\x01`)}\r\n`,
          );
          const challenge = await talk.line();
          assert.match(challenge, /^\+ /);
          const error = JSON.parse(atob(challenge.slice(2)));
          assert.deepEqual(error, { status: "invalid_token", scope: "urn:ietf:params:jmap:mail" });
          await talk.write(`${b64("\x01")}\r\n`);
          assert.match(await talk.line(), /^o1 NO \[AUTHENTICATIONFAILED\]/);
        } finally {
          talk.close();
        }
      });

      await t.step("a token whose OAuth grant is revoked mid-session ends the session with BYE", async () => {
        const talk = await open();
        try {
          const login = await talk.command(
            `AUTHENTICATE XOAUTH2 ${b64(`user=alice\x01auth=Bearer ${token}\x01\x01`)}`,
          );
          assert.match(login.at(-1)!, /OK/);
          const grants = await managementCall(target, alice.auth, "x:OAuthGrant/get", {
            accountId: alice.accountId,
          });
          const ids = (grants.list as Obj[]).map((g) => g.id);
          await managementCall(target, alice.auth, "x:OAuthGrant/set", {
            accountId: alice.accountId,
            destroy: ids,
          });
          await talk.write("r1 NOOP\r\n");
          assert.match(await talk.line(), /^\* BYE /);
          assert.ok(await talk.closed());
        } finally {
          talk.close();
        }
      });

      await t.step(
        "an idle session (IDLE, no command) ends with BYE as soon as its account is disabled",
        async () => {
          const [carol] = await createUsers(target, ["carol"]);
          const talk = await open();
          try {
            assert.match((await talk.command(`LOGIN carol "${PASSWORD}"`)).at(-1)!, /OK/);
            await talk.write("i1 IDLE\r\n");
            assert.equal(await talk.line(), "+ idling");
            await adminSetAccounts(target, { update: { [carol.accountId]: { enabled: false } } });
            assert.match(await talk.line(), /^\* BYE /);
            assert.ok(await talk.closed());
          } finally {
            talk.close();
          }
        },
      );
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
