/**
 * The IMAP session against a real `postern serve` with its listeners on 143 (STARTTLS) and 993
 * (implicit TLS): the greeting and capabilities by state, STARTTLS and what is pipelined after it,
 * LOGIN and AUTHENTICATE with each mechanism and credential (password, app password, OAuth token
 * of the mail scope) through Python's imaplib, the refusals (wrong password, disabled account,
 * token of another scope), a credential revoked mid-session ending it with BYE, and bad input.
 */
import assert from "node:assert/strict";
import { PASSWORD } from "./helpers.ts";
import { imaplib, imapPeersMissing, ImapTalk, startImapProcess } from "./imap_helpers.ts";
import { managementCall } from "./live_connection_helpers.ts";
import { adminSetAccounts, createUsers, type Obj, serverTarget, userAccessToken } from "./mail_helpers.ts";
import { registerClientWithCli, TestBrowser } from "./oauth_helpers.ts";

const ignore = imapPeersMissing("IMAP session with imaplib", true);
const MAIL = "urn:ietf:params:jmap:mail";
const SUBMISSION = "urn:ietf:params:jmap:submission";

Deno.test({
  name: "IMAP: STARTTLS and implicit TLS, every login mechanism, revocation and bad input",
  ignore,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-imap-" });
    const server = await startImapProcess(dataDir);
    try {
      const target = serverTarget(server.url);
      const [alice, bob] = await createUsers(target, ["alice", "bob"]);
      const made = await managementCall(target, alice.auth, "x:AppPassword/set", {
        accountId: alice.accountId,
        create: { k: { description: "mail client" } },
      });
      const appPassword = (made.created as Record<string, Obj>).k.secret as string;
      const client = await registerClientWithCli(dataDir, { requireConsent: false });
      const browser = new TestBrowser(server.url);
      const token = await userAccessToken(target, browser, client, {
        username: alice.emailAddress,
        scope: MAIL,
      });
      const submitOnly = await userAccessToken(target, new TestBrowser(server.url), client, {
        username: alice.emailAddress,
        scope: SUBMISSION,
      });
      const plain = { implicitTls: false, certPem: server.certPem };

      await t.step("healthz and the start line list both IMAP listeners", async () => {
        const health = await (await fetch(`${server.url}/healthz`)).json();
        assert.equal(health.listeners.imap, `127.0.0.1:${server.imapPort}`);
        assert.equal(health.listeners.imaps, `127.0.0.1:${server.imapsPort}`);
        assert.match(
          server.startup,
          /IMAP on 127\.0\.0\.1:\d+ \(STARTTLS\), IMAP on 127\.0\.0\.1:\d+ \(implicit TLS\)/,
        );
      });

      await t.step("before TLS: LOGINDISABLED and STARTTLS, no AUTH=; LOGIN is refused", async () => {
        const talk = await ImapTalk.open(server.imapPort, plain);
        try {
          assert.match(talk.greeting, /^\* OK \[CAPABILITY IMAP4rev2 IMAP4rev1 .*LOGINDISABLED STARTTLS\]/);
          assert.doesNotMatch(talk.greeting, /AUTH=/);
          const login = await talk.command(`LOGIN alice "${PASSWORD}"`);
          assert.match(login.at(-1)!, /^t1 NO \[PRIVACYREQUIRED\]/);
          const auth = await talk.command("AUTHENTICATE PLAIN AGFsaWNlAHB3");
          assert.match(auth.at(-1)!, /^t2 NO \[PRIVACYREQUIRED\]/);
          const list = await talk.command("DELETE foo");
          assert.match(list.at(-1)!, /^t3 BAD .*login first/);
        } finally {
          talk.close();
        }
      });

      await t.step(
        "commands pipelined after STARTTLS are discarded, not run after the handshake",
        async () => {
          const talk = await ImapTalk.open(server.imapPort, plain);
          try {
            await talk.startTls(`x1 LOGIN alice "${PASSWORD}"\r\nx2 CAPABILITY\r\n`);
            const caps = await talk.command("CAPABILITY");
            // Had x1 or x2 run, their answers would come first.
            assert.match(
              caps[0],
              /^\* CAPABILITY IMAP4rev2 IMAP4rev1 .*AUTH=PLAIN AUTH=LOGIN AUTH=OAUTHBEARER AUTH=XOAUTH2/,
            );
            assert.doesNotMatch(caps.join("\n"), /LOGINDISABLED|STARTTLS|^x[12] /m);
            assert.match(caps.at(-1)!, /^t\d+ OK/);
          } finally {
            talk.close();
          }
        },
      );

      for (
        const [name, port, tls] of [
          ["143 STARTTLS", server.imapPort, "starttls"],
          ["993 implicit TLS", server.imapsPort, "implicit"],
        ] as const
      ) {
        await t.step(
          `imaplib on ${name}: LOGIN and each AUTHENTICATE mechanism with each credential`,
          async () => {
            const cases: [string, unknown[]][] = [
              ["login password", ["login", alice.emailAddress, PASSWORD]],
              ["login app password", ["login", "alice", appPassword]],
              ["PLAIN", ["authenticate", "PLAIN", alice.emailAddress, PASSWORD]],
              ["LOGIN app password", ["authenticate", "LOGIN", "alice", appPassword]],
              ["XOAUTH2", ["authenticate", "XOAUTH2", alice.emailAddress, token]],
              ["OAUTHBEARER", ["authenticate", "OAUTHBEARER", alice.emailAddress, token]],
            ];
            for (const [what, step] of cases) {
              const [login, caps, logout] = await imaplib({
                port,
                tls,
                steps: [step, ["capability"], ["logout"]],
              }) as Obj[];
              assert.equal(login.typ, "OK", `${what}: ${JSON.stringify(login)}`);
              assert.match(String((caps.data as string[])[0]), /IMAP4rev2 .*NAMESPACE/, what);
              assert.equal(logout.typ, "BYE", what);
            }
          },
        );
      }

      await t.step("refusals: wrong password, token without the mail scope, API-key-less junk", async () => {
        const port = server.imapsPort;
        const results = await imaplib({
          port,
          tls: "implicit",
          steps: [
            ["login", "alice", "wrong password"],
            ["authenticate", "XOAUTH2", alice.emailAddress, submitOnly],
            ["authenticate", "OAUTHBEARER", alice.emailAddress, "not-a-token"],
            ["authenticate", "XOAUTH2", bob.emailAddress, token],
          ],
        }) as Obj[];
        for (const result of results) {
          assert.match(String(result.error), /AUTHENTICATIONFAILED/, JSON.stringify(results));
        }
      });

      await t.step("a disabled account cannot log in, and one disabled mid-session gets BYE", async () => {
        const talk = await ImapTalk.open(server.imapsPort, { implicitTls: true, certPem: server.certPem });
        try {
          const login = await talk.command(`LOGIN bob "${PASSWORD}"`);
          assert.match(login.at(-1)!, /^t1 OK \[CAPABILITY /);
          await adminSetAccounts(target, { update: { [bob.accountId]: { enabled: false } } });
          await talk.write("t2 NOOP\r\n");
          assert.match(await talk.line(), /^\* BYE /);
          assert.ok(await talk.closed());
          const again = await imaplib({
            port: server.imapsPort,
            tls: "implicit",
            steps: [["login", "bob", PASSWORD]],
          }) as Obj[];
          assert.match(String(again[0].error), /AUTHENTICATIONFAILED/);
        } finally {
          talk.close();
        }
      });

      await t.step("an app password deleted mid-session ends that session with BYE", async () => {
        const talk = await ImapTalk.open(server.imapsPort, { implicitTls: true, certPem: server.certPem });
        try {
          assert.match((await talk.command(`LOGIN alice "${appPassword}"`)).at(-1)!, /^t1 OK/);
          assert.match((await talk.command("NOOP")).at(-1)!, /^t2 OK/);
          const id = (made.created as Record<string, Obj>).k.id as string;
          await managementCall(target, alice.auth, "x:AppPassword/set", {
            accountId: alice.accountId,
            destroy: [id],
          });
          await talk.write("t3 NOOP\r\n");
          assert.match(await talk.line(), /^\* BYE /);
        } finally {
          talk.close();
        }
      });

      await t.step("bad input is answered BAD, never a dropped connection, until the error cap", async () => {
        const talk = await ImapTalk.open(server.imapsPort, { implicitTls: true, certPem: server.certPem });
        try {
          await talk.write("\x00\xff garbage\r\n");
          assert.match(await talk.line(), /^\* BAD /);
          assert.match((await talk.command("FROBNICATE")).at(-1)!, /^t1 BAD /);
          assert.match((await talk.command("UNSELECT")).at(-1)!, /^t2 BAD .*login first/);
          assert.match((await talk.command(`LOGIN alice "${PASSWORD}"`)).at(-1)!, /^t3 OK/);
          assert.match((await talk.command("UNSELECT")).at(-1)!, /^t4 BAD No mailbox selected/);
          assert.match((await talk.command("CLOSE")).at(-1)!, /^t5 BAD No mailbox selected/);
          assert.match(
            (await talk.command(`LOGIN alice "${PASSWORD}"`)).at(-1)!,
            /^t6 BAD .*only valid before login/,
          );
          const huge = await talk.command("GETQUOTAROOT {999999999}");
          assert.match(huge.at(-1)!, /^t7 (BAD|NO) /);
          assert.match((await talk.command("NOOP")).at(-1)!, /^t8 OK/);
          for (let i = 0; i < 30; i++) {
            await talk.write(`e${i} FROBNICATE\r\n`);
            const line = await talk.line().catch(() => "closed");
            if (/^\* BYE /.test(line)) return;
          }
          assert.fail("the error cap never closed the session");
        } finally {
          talk.close();
        }
      });
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
