/**
 * What submission refuses, against a real `postern serve` process: AUTH before STARTTLS, MAIL
 * before AUTH, a wrong password (with the failed-login line fail2ban reads), a token without the
 * submission scope (RFC 7628's JSON error), an API key, another account's address in the envelope
 * or in From (553 5.7.1, nothing stored), a credential revoked between two messages of one session,
 * bad AUTH input, and the login throttle after repeated failures.
 */
import assert from "node:assert/strict";
import { PASSWORD } from "./helpers.ts";
import { fail2banHosts } from "./log_helpers.ts";
import { apiKey, managementCall } from "./live_connection_helpers.ts";
import { createUsers, type Obj, serverTarget, userAccessToken } from "./mail_helpers.ts";
import { registerClientWithCli, TestBrowser } from "./oauth_helpers.ts";
import {
  base64,
  eventually,
  nodemailerSubmit,
  SmtpTalk,
  startSubmissionProcess,
  subjectsIn,
  submissionPeersMissing,
  submittedMessage,
} from "./smtp_submission_helpers.ts";

const ignore = submissionPeersMissing("SMTP submission refusals");
const MAIL = "urn:ietf:params:jmap:mail";
const SUBMISSION = "urn:ietf:params:jmap:submission";

/** The server's log records (JSON lines) with `message`. */
function logMessages(stderr: string): { level: string; message: string }[] {
  return stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

/** The stderr lines (JSON) that are WARN records of a failed login or a revoked SMTP credential. */
function revocationLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) =>
    /"level":"WARN"/.test(l) && /Failed login|credential_revoked/.test(l)
  );
}

/** An OAUTHBEARER initial response (RFC 7628 §3.1). */
function oauthBearer(user: string, token: string): string {
  return base64(`n,a=${user},\x01host=127.0.0.1\x01auth=Bearer ${token}\x01\x01`);
}

Deno.test({
  name: "submission refuses what it must with RFC codes, and a revoked credential sends nothing more",
  ignore,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-submission-refusals-" });
    const server = await startSubmissionProcess(dataDir);
    const open = (implicitTls = true) =>
      SmtpTalk.open(implicitTls ? server.submissionsPort : server.submissionPort, {
        implicitTls,
        certPem: server.certPem,
      });
    /** The revocation lines after the first `before`, once there are `count` of them. */
    const eventuallyLines = async (before: number, count: number) => {
      let lines: string[] = [];
      await eventually(() => {
        lines = revocationLines(server.stderr()).slice(before);
        assert.equal(lines.length, count, server.stderr().slice(-3000));
      });
      return lines;
    };
    try {
      const target = serverTarget(server.url);
      const [alice, bob] = await createUsers(target, ["alice", "bob"]);
      const client = await registerClientWithCli(dataDir, { requireConsent: false });
      const token = (scope: string) =>
        userAccessToken(target, new TestBrowser(server.url), client, { username: alice.emailAddress, scope });

      await t.step(
        "587: AUTH before STARTTLS is 530 5.7.0; after it, MAIL before AUTH is 530 5.7.0",
        async () => {
          const talk = await open(false);
          try {
            const ehlo = await talk.command("EHLO client.test");
            assert.match(ehlo, /STARTTLS/);
            assert.doesNotMatch(ehlo, /AUTH/, `no mechanism offered before TLS: ${ehlo}`);
            assert.equal(
              await talk.authPlain(alice.emailAddress, PASSWORD),
              "530 5.7.0 Must issue a STARTTLS command first",
            );
            assert.match(await talk.startTls(), /250[- ]AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER\r\n/);
            assert.equal(
              await talk.command(`MAIL FROM:<${alice.emailAddress}>`),
              "530 5.7.0 Authentication required",
            );
          } finally {
            talk.close();
          }
        },
      );

      await t.step("a wrong password is 535 5.7.8 and logged as HTTP logs it for fail2ban", async () => {
        const result = await nodemailerSubmit(server.submissionPort, {
          implicitTls: false,
          auth: { user: alice.emailAddress, pass: "wrong password" },
          from: alice.emailAddress,
          to: [bob.emailAddress],
          raw: submittedMessage(alice.emailAddress, [bob.emailAddress], "never"),
        });
        assert.equal(result.ok, false);
        assert.match(result.ok ? "" : result.reply, /^535 5\.7\.8 /);
        await eventually(() => {
          const warned = logMessages(server.stderr()).filter((r) =>
            r.level === "WARN" &&
            r.message === `Failed login from 127.0.0.1 (password) for "alice@example.org"`
          );
          assert.equal(warned.length, 1, server.stderr().slice(-3000));
        });
      });

      await t.step("a token without the submission scope gets RFC 7628's JSON error, then 535", async () => {
        const talk = await open();
        try {
          await talk.command("EHLO client.test");
          const challenge = await talk.command(
            `AUTH OAUTHBEARER ${oauthBearer(alice.emailAddress, await token(MAIL))}`,
          );
          assert.match(challenge, /^334 /);
          const error = JSON.parse(atob(challenge.slice(4)));
          assert.deepEqual(error, { status: "insufficient_scope", scope: SUBMISSION });
          assert.equal(await talk.command(base64("\x01")), "535 5.7.8 Authentication credentials invalid");
          const xoauth = await talk.command(
            `AUTH XOAUTH2 ${base64(`user=${alice.emailAddress}\x01auth=Bearer not-a-token\x01\x01`)}`,
          );
          assert.equal(JSON.parse(atob(xoauth.slice(4))).status, "invalid_token");
          assert.match(await talk.command(""), /^535 5\.7\.8 /);
        } finally {
          talk.close();
        }
      });

      await t.step("an API key is not a mail credential: 535 5.7.8", async () => {
        const key = await apiKey(target, alice);
        const talk = await open();
        try {
          await talk.command("EHLO client.test");
          const reply = await talk.command(
            `AUTH OAUTHBEARER ${oauthBearer(alice.emailAddress, key.bearer.slice("Bearer ".length))}`,
          );
          assert.match(reply, /^334 /);
          assert.match(await talk.command(base64("\x01")), /^535 5\.7\.8 /);
        } finally {
          talk.close();
        }
      });

      await t.step(
        "another account's address in MAIL FROM or in From is 553 5.7.1, nothing stored",
        async () => {
          const talk = await open();
          try {
            await talk.command("EHLO client.test");
            assert.match(await talk.authPlain(alice.emailAddress, PASSWORD), /^235 /);
            assert.match(
              await talk.command(`MAIL FROM:<${bob.emailAddress}>`),
              /^553 5\.7\.1 Sender address not allowed/,
            );
            assert.match(await talk.command("MAIL FROM:<>"), /^553 5\.7\.1 /);
            await talk.command("RSET");
            const forged = await talk.mail(
              alice.emailAddress,
              [bob.emailAddress],
              submittedMessage(bob.emailAddress, [bob.emailAddress], "forged From"),
            );
            assert.match(forged, /^553 5\.7\.1 .*From/);
            const sender = await talk.mail(
              alice.emailAddress,
              [bob.emailAddress],
              submittedMessage(
                alice.emailAddress,
                [bob.emailAddress],
                "forged Sender",
                `Sender: ${bob.emailAddress}\r\n`,
              ),
            );
            assert.match(sender, /^553 5\.7\.1 .*Sender/);
          } finally {
            talk.close();
          }
          assert.deepEqual(await subjectsIn(server, alice, "Sent"), []);
          assert.deepEqual(await subjectsIn(server, bob, "Inbox"), []);
        },
      );

      await t.step(
        "an app password revoked between two messages of one session: the second MAIL is 535 5.7.8, logged for fail2ban",
        async () => {
          const made = await managementCall(target, alice.auth, "x:AppPassword/set", {
            accountId: alice.accountId,
            create: { k: { description: "phone" } },
          });
          const { id, secret } = (made.created as Record<string, Obj>).k;
          const before = revocationLines(server.stderr()).length;
          const talk = await open();
          try {
            await talk.command("EHLO client.test");
            assert.match(await talk.authPlain(alice.emailAddress, secret as string), /^235 /);
            const first = submittedMessage(alice.emailAddress, [bob.emailAddress], "before app revoke");
            assert.match(await talk.mail(alice.emailAddress, [bob.emailAddress], first), /^250 /);
            const revoked = await managementCall(target, alice.auth, "x:AppPassword/set", {
              accountId: alice.accountId,
              destroy: [id],
            });
            assert.deepEqual(revoked.destroyed, [id]);
            assert.match(await talk.command(`MAIL FROM:<${alice.emailAddress}>`), /^535 5\.7\.8 /);
            assert.match(await talk.command(`RCPT TO:<${bob.emailAddress}>`), /^530 5\.7\.0 /);
          } finally {
            talk.close();
          }
          // Logged as the same app password at AUTH would be: the line the shipped fail2ban filter reads.
          const lines = await eventuallyLines(before, 1);
          assert.equal(
            JSON.parse(lines[0]).message,
            `Failed login from 127.0.0.1 (password) for "alice@example.org"`,
          );
          assert.deepEqual((await fail2banHosts(lines)).hosts, ["127.0.0.1"]);
        },
      );

      await t.step("an OAuth grant revoked between two messages: the second MAIL is 535 5.7.8", async () => {
        const bearer = await token(SUBMISSION);
        const before = revocationLines(server.stderr()).length;
        const talk = await open(false);
        try {
          await talk.startTls();
          assert.match(
            await talk.command(`AUTH OAUTHBEARER ${oauthBearer(alice.emailAddress, bearer)}`),
            /^235 /,
          );
          const first = submittedMessage(alice.emailAddress, [bob.emailAddress], "before grant revoke");
          assert.match(await talk.mail(alice.emailAddress, [bob.emailAddress], first), /^250 /);
          const grants = await managementCall(target, alice.auth, "x:OAuthGrant/get", {
            accountId: alice.accountId,
          });
          const ids = (grants.list as Obj[]).map((g) => g.id);
          await managementCall(target, alice.auth, "x:OAuthGrant/set", {
            accountId: alice.accountId,
            destroy: ids,
          });
          assert.match(await talk.command(`MAIL FROM:<${alice.emailAddress}>`), /^535 5\.7\.8 /);
        } finally {
          talk.close();
        }
        // A token is not guessed: a warning, but not one fail2ban counts (as HTTP does not count it).
        const lines = await eventuallyLines(before, 1);
        const record = JSON.parse(lines[0]);
        assert.equal(record.properties.event, "smtp.credential_revoked");
        assert.equal(record.properties.mechanism, "OAUTHBEARER");
        assert.equal(record.properties.client, "127.0.0.1");
        assert.deepEqual((await fail2banHosts(lines)).hosts, []);
        const metrics = await (await fetch(`${server.url}/metrics`)).text();
        assert.match(metrics, /^postern_smtp_auth_total\{mechanism="OAUTHBEARER",outcome="revoked"\} 1$/m);
        assert.match(metrics, /^postern_smtp_auth_total\{mechanism="PLAIN",outcome="revoked"\} 1$/m);
        const sent = ["before app revoke", "before grant revoke"];
        assert.deepEqual(await subjectsIn(server, alice, "Sent"), sent);
        await eventually(async () => assert.deepEqual(await subjectsIn(server, bob, "Inbox"), sent));
      });

      await t.step(
        "bad AUTH input: garbage base64, a cancel, an unknown mechanism, an over-long line",
        async () => {
          const talk = await open();
          try {
            await talk.command("EHLO client.test");
            assert.match(await talk.command("AUTH PLAIN !!!not-base64!!!"), /^501 /);
            assert.match(await talk.command("AUTH PLAIN"), /^334/);
            assert.match(await talk.command("*"), /^501 /);
            assert.match(await talk.command("AUTH LOGIN"), /^334 /);
            assert.match(await talk.command("*"), /^501 /);
            assert.match(await talk.command("AUTH OAUTHBEARER"), /^334/);
            assert.match(await talk.command("*"), /^501 /);
            assert.match(await talk.command(`AUTH OAUTHBEARER ${base64("no gs2 header")}`), /^501 5\.5\.2 /);
            assert.match(await talk.command("AUTH OAUTHBEARER %%%"), /^501 5\.5\.2 /);
            assert.match(await talk.command("AUTH CRAM-MD5"), /^504 /);
            assert.match(await talk.command(`AUTH PLAIN ${"A".repeat(20_000)}`), /^421 /);
          } finally {
            talk.close();
          }
          // The server goes on serving.
          const again = await open();
          try {
            await again.command("EHLO client.test");
            assert.match(await again.authPlain(alice.emailAddress, PASSWORD), /^235 /);
          } finally {
            again.close();
          }
        },
      );

      await t.step(
        "recipients past an EmailSubmission's 100 are 452 4.5.3; a bad address is 501 5.1.3",
        async () => {
          const talk = await open();
          try {
            await talk.command("EHLO client.test");
            assert.match(await talk.authPlain(alice.emailAddress, PASSWORD), /^235 /);
            assert.match(await talk.command(`MAIL FROM:<${alice.emailAddress}>`), /^250 /);
            assert.match(await talk.command("RCPT TO:<no-domain>"), /^501 5\.1\.3 /);
            for (let i = 0; i < 100; i++) {
              assert.match(await talk.command(`RCPT TO:<r${i}@elsewhere.example>`), /^250 /);
            }
            assert.match(await talk.command("RCPT TO:<one-more@elsewhere.example>"), /^452 4\.5\.3 /);
          } finally {
            talk.close();
          }
        },
      );

      await t.step(
        "a login refused before its account existed works once it is created (no stale cache)",
        async () => {
          const talk = await open();
          try {
            await talk.command("EHLO client.test");
            assert.match(await talk.authPlain("carol@example.org", PASSWORD), /^535 5\.7\.8 /);
            await createUsers(target, ["carol"]);
            assert.match(await talk.authPlain("carol@example.org", PASSWORD), /^235 /);
          } finally {
            talk.close();
          }
        },
      );

      await t.step("a sender whose account is full gets 552 5.2.2 at DATA and nothing is sent", async () => {
        const [dave] = await createUsers(target, ["dave"], { quotas: { maxDiskQuota: 100 } });
        const talk = await open();
        try {
          await talk.command("EHLO client.test");
          assert.match(await talk.authPlain(dave.emailAddress, PASSWORD), /^235 /);
          const message = submittedMessage(dave.emailAddress, [bob.emailAddress], "too big for Sent");
          assert.match(await talk.mail(dave.emailAddress, [bob.emailAddress], message), /^552 5\.2\.2 /);
        } finally {
          talk.close();
        }
        assert.ok(!(await subjectsIn(server, bob, "Inbox")).includes("too big for Sent"));
      });

      await t.step(
        "repeated wrong passwords are throttled: 454 4.7.0; /metrics counts AUTH results and refusals by listener",
        async () => {
          const talk = await open();
          try {
            await talk.command("EHLO client.test");
            let reply = "";
            for (let i = 0; i < 20 && !reply.startsWith("454"); i++) {
              reply = await talk.authPlain(alice.emailAddress, `guess ${i}`);
              assert.match(reply, /^(535 5\.7\.8|454 4\.7\.0) /);
            }
            assert.match(reply, /^454 4\.7\.0 Too many failed attempts/);
          } finally {
            talk.close();
          }
          const metrics = await (await fetch(`${server.url}/metrics`)).text();
          assert.match(metrics, /postern_smtp_auth_total\{mechanism="PLAIN",outcome="rateLimited"\} [1-9]/);
          assert.match(metrics, /postern_smtp_auth_total\{mechanism="PLAIN",outcome="failure"\} [1-9]/);
          // Refusals carry the listener they happened on: 465 (implicit TLS) or 587 (STARTTLS).
          assert.match(
            metrics,
            /^postern_smtp_refusals_total\{listener="submissions",reason="forbiddenSender"\} [1-9]/m,
          );
          assert.match(
            metrics,
            /^postern_smtp_refusals_total\{listener="submissions",reason="credentialsRevoked"\} 1$/m,
          );
          assert.match(
            metrics,
            /^postern_smtp_refusals_total\{listener="submission",reason="credentialsRevoked"\} 1$/m,
          );
        },
      );
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
