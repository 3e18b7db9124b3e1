/**
 * SMTP submission against a real `postern serve` process with real clients: nodemailer and Python's
 * smtplib submit with PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER over 587 (STARTTLS) and 465 (implicit
 * TLS), with the account password, an app password and an OAuth access token of the submission
 * scope. Each message is then in the sender's Sent (EmailSubmission/query lists it) and in the local
 * recipient's Inbox; /healthz lists the listeners and /metrics counts the AUTH results.
 */
import assert from "node:assert/strict";
import { PASSWORD, until } from "./helpers.ts";
import { managementCall } from "./live_connection_helpers.ts";
import { createUsers, type Obj, serverTarget, userAccessToken } from "./mail_helpers.ts";
import { registerClientWithCli, TestBrowser } from "./oauth_helpers.ts";
import { call, SUBMISSION } from "./submission_helpers.ts";
import {
  eventually,
  nodemailerSubmit,
  pythonSubmit,
  receivedFieldsIn,
  SmtpTalk,
  startSubmissionProcess,
  subjectsIn,
  submissionPeersMissing,
  type SubmitResult,
} from "./smtp_submission_helpers.ts";

const ignore = submissionPeersMissing("SMTP submission with nodemailer and smtplib", true);

Deno.test({
  name: "mail clients submit with every mechanism on 587 and 465; JMAP shows each message sent and delivered",
  ignore,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-submission-" });
    const server = await startSubmissionProcess(dataDir);
    try {
      const target = serverTarget(server.url);
      const [alice, bob] = await createUsers(target, ["alice", "bob"]);
      const made = await managementCall(target, alice.auth, "x:AppPassword/set", {
        accountId: alice.accountId,
        create: { k: { description: "mail client" } },
      });
      const appPassword = (made.created as Record<string, Obj>).k.secret as string;
      const client = await registerClientWithCli(dataDir, { requireConsent: false });
      const token = await userAccessToken(target, new TestBrowser(server.url), client, {
        username: alice.emailAddress,
        scope: SUBMISSION,
      });
      const ports = [
        { name: "587", port: server.submissionPort, implicitTls: false },
        { name: "465", port: server.submissionsPort, implicitTls: true },
      ];
      const subjects: string[] = [];
      const expectAccepted = (result: SubmitResult, subject: string) => {
        assert.deepEqual(result, { ok: true }, subject);
        subjects.push(subject);
      };
      const message = (subject: string) =>
        `From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: ${subject}\r\n` +
        `Message-ID: <${crypto.randomUUID()}@example.org>\r\nDate: ${
          new Date().toUTCString()
        }\r\n\r\nHi Bob.\r\n`;

      await t.step("healthz lists both submission listeners", async () => {
        const health = await (await fetch(`${server.url}/healthz`)).json();
        assert.equal(health.listeners.submission, `127.0.0.1:${server.submissionPort}`);
        assert.equal(health.listeners.submissions, `127.0.0.1:${server.submissionsPort}`);
        assert.match(server.startup, /submission on 127\.0\.0\.1:\d+ \(STARTTLS\)/);
      });

      for (const { name, port, implicitTls } of ports) {
        await t.step(
          `nodemailer on ${name}: PLAIN and LOGIN with the password, XOAUTH2 with a token`,
          async () => {
            for (const method of ["PLAIN", "LOGIN"] as const) {
              const subject = `nodemailer ${method} ${name}`;
              expectAccepted(
                await nodemailerSubmit(port, {
                  implicitTls,
                  auth: { user: alice.emailAddress, pass: PASSWORD, method },
                  from: alice.emailAddress,
                  to: [bob.emailAddress],
                  raw: message(subject),
                }),
                subject,
              );
            }
            const subject = `nodemailer XOAUTH2 ${name}`;
            expectAccepted(
              await nodemailerSubmit(port, {
                implicitTls,
                auth: { user: alice.emailAddress, accessToken: token },
                from: alice.emailAddress,
                to: [bob.emailAddress],
                raw: message(subject),
              }),
              subject,
            );
          },
        );

        await t.step(`smtplib on ${name}: PLAIN, LOGIN (app password), XOAUTH2 and OAUTHBEARER`, async () => {
          const jobs = [
            { mechanism: "PLAIN", secret: PASSWORD },
            { mechanism: "LOGIN", secret: appPassword },
            { mechanism: "XOAUTH2", secret: token },
            { mechanism: "OAUTHBEARER", secret: token },
          ] as const;
          for (const { mechanism, secret } of jobs) {
            const subject = `smtplib ${mechanism} ${name}`;
            expectAccepted(
              await pythonSubmit({
                port,
                tls: implicitTls ? "implicit" : "starttls",
                mechanism,
                user: alice.emailAddress,
                secret,
                mail_from: alice.emailAddress,
                rcpt_to: [bob.emailAddress],
                message: message(subject),
              }),
              subject,
            );
          }
        });
      }

      await t.step(
        "every message is in alice's Sent and bob's Inbox, and listed by EmailSubmission/query",
        async () => {
          const expected = [...subjects].sort();
          assert.deepEqual(await subjectsIn(server, alice, "Sent"), expected);
          await eventually(async () => assert.deepEqual(await subjectsIn(server, bob, "Inbox"), expected));
          const query = await call(target as never, alice, "EmailSubmission/query", {});
          assert.equal((query.ids as string[]).length, expected.length, JSON.stringify(query));
          await eventually(async () => {
            const got = await call(target as never, alice, "EmailSubmission/get", { ids: query.ids });
            for (const submission of got.list as Obj[]) {
              assert.equal(submission.undoStatus, "final", JSON.stringify(submission));
              const status = (submission.deliveryStatus as Record<string, Obj>)[bob.emailAddress];
              assert.equal(status?.delivered, "yes", JSON.stringify(submission));
            }
          });
        },
      );

      await t.step(
        "each message carries one Received field: client address, TLS, ESMTPSA, an id, no account or recipient",
        async () => {
          const received = await receivedFieldsIn(server, alice, "Sent");
          assert.equal(received.length, subjects.length);
          const ids = new Set<string>();
          for (const fields of received) {
            assert.equal(fields.length, 1, JSON.stringify(fields));
            const field = fields[0];
            assert.match(
              field,
              /^ from \S+ \(\[127\.0\.0\.1\]\)\r\n\tby example\.org \(Postern\) with ESMTPSA\r\n\t\(using TLSv1\.[23] with cipher [A-Z0-9_-]+\)\r\n\tid (\S+); \w{3}, \d{2} \w{3} \d{4} [\d:]{8} \+0000$/,
            );
            ids.add(/\tid (\S+);/.exec(field)![1]);
            assert.doesNotMatch(
              field,
              /alice|bob|for </i,
              "neither the account nor a (Bcc) recipient is named",
            );
          }
          assert.equal(ids.size, subjects.length, "one id per message");
        },
      );

      await t.step("a hostile EHLO name cannot add a line or a comment to the Received field", async () => {
        const talk = await SmtpTalk.open(server.submissionsPort, {
          implicitTls: true,
          certPem: server.certPem,
        });
        try {
          assert.match(await talk.command("EHLO evil(by);x\\y<z>"), /^250/);
          assert.match(await talk.authPlain(alice.emailAddress, PASSWORD), /^235 /);
          const raw = message("hostile ehlo");
          assert.match(await talk.mail(alice.emailAddress, [bob.emailAddress], raw), /^250 /);
        } finally {
          talk.close();
        }
        subjects.push("hostile ehlo");
        const fields = (await receivedFieldsIn(server, alice, "Sent")).flat();
        assert.ok(
          fields.some((f) => f.startsWith(" from evil?by??x?y?z? ([127.0.0.1])\r\n\tby ")),
          fields.join("\n"),
        );
      });

      await t.step(
        "metrics count the AUTH results by mechanism, the submitted messages and connections by listener",
        async () => {
          const text = await (await fetch(`${server.url}/metrics`)).text();
          for (const mechanism of ["PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER"]) {
            assert.match(
              text,
              new RegExp(`postern_smtp_auth_total\\{mechanism="${mechanism}",outcome="success"\\} [1-9]`),
            );
          }
          assert.match(text, new RegExp(`postern_smtp_messages_submitted_total ${subjects.length}\\b`));
          for (const listener of ["submission", "submissions"]) {
            assert.match(
              text,
              new RegExp(`^postern_smtp_connections_total\\{listener="${listener}"\\} [1-9]`, "m"),
            );
            assert.match(
              text,
              new RegExp(`^postern_smtp_connections\\{listener="${listener}"\\} \\d+$`, "m"),
            );
          }
          assert.doesNotMatch(text, /listener="mx"/, "the MX is off in this server");
        },
      );

      await t.step(
        "one JSON log line per transaction names the account and mechanism, never the content",
        async () => {
          const submissions = () =>
            server.stderr().split("\n").filter((l) => l.includes('"smtp.submission"'));
          // Info lines are written in batches (up to 25 ms after they are logged).
          await until(() => submissions().length >= subjects.length, "a line per submission");
          const lines = submissions();
          assert.equal(lines.length, subjects.length, server.stderr().slice(-2000));
          const properties = JSON.parse(lines[0]).properties;
          assert.equal(properties.outcome, "accepted");
          assert.equal(properties.account, "alice");
          assert.equal(properties.mechanism, "PLAIN");
          assert.equal(properties.tls, true);
          assert.ok(!lines.some((l) => l.includes("Hi Bob")));
        },
      );

      await t.step("shutdown ends an idle session at once with 421 4.3.2", async () => {
        const talk = await SmtpTalk.open(server.submissionsPort, {
          implicitTls: true,
          certPem: server.certPem,
        });
        try {
          assert.match(await talk.command("EHLO client.test"), /^250/);
          const reply = talk.next();
          server.kill("SIGTERM");
          assert.match(await reply, /^421 4\.3\.2 /);
        } finally {
          talk.close();
        }
        assert.equal((await server.status).code, 0);
      });
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
