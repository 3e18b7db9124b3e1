/**
 * The MX against a real SMTP client (swaks, Debian package `swaks`) and a real `postern serve`
 * process: every refusal code of the RCPT check and the limits, a multi-recipient delivery that
 * JMAP then shows (with its trace fields) and pushes, the counters on /metrics, the listener on
 * /healthz, and no AUTH and no relaying (the MX's authorization rule).
 */
import assert from "node:assert/strict";
import { until } from "./helpers.ts";
import { ADMIN } from "./jmap_helpers.ts";
import { EventStream, GENEROUS_MS, managementCall } from "./live_connection_helpers.ts";
import { createUsers, mailCall, type Obj, serverTarget, type Who } from "./mail_helpers.ts";
import { HAS_SWAKS, type MxProcess, rawDialogue, skipping, startMxProcess, swaks } from "./smtp_helpers.ts";

const ignore = !HAS_SWAKS && skipping("MX with swaks", "swaks");

/** The emails of `who`'s account with their trace fields. */
async function inbox(server: MxProcess, who: Who): Promise<Obj[]> {
  const target = serverTarget(server.url);
  const { ids } = await mailCall(target, "Email/query", { sort: [{ property: "receivedAt" }] }, who);
  const { list } = await mailCall(target, "Email/get", {
    ids,
    properties: [
      "subject",
      "header:Delivered-To:asText",
      "header:Return-Path",
      "header:Received",
    ],
  }, who);
  return list as Obj[];
}

Deno.test({
  name: "the MX checks each recipient at once, delivers to all in one go and refuses with RFC codes",
  ignore,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-mx-" });
    const server = await startMxProcess(dataDir, { POSTERN_SMTP_MAX_RECIPIENTS: "3" });
    const port = server.smtpPort;
    try {
      const target = serverTarget(server.url);
      const team = await managementCall(target, ADMIN, "x:Account/set", {
        accountId: "b",
        create: { team: { "@type": "Group", name: "team", domainId: "b" } },
      });
      const teamId = ((team.created as Obj).team as Obj).id as string;
      const [alice, bob] = await createUsers(target, ["alice", "bob"], { memberGroupIds: [teamId] });
      const [carol] = await createUsers(target, ["carol"], { aliases: ["billing@example.org"] });
      await createUsers(target, ["dave"], { enabled: false });
      const [frank] = await createUsers(target, ["frank"], { quotas: { maxDiskQuota: 3000 } });

      await t.step("healthz lists the SMTP listener", async () => {
        const health = await (await fetch(`${server.url}/healthz`)).json();
        assert.equal(health.listeners.smtp, `127.0.0.1:${port}`);
        assert.match(server.startup, new RegExp(`SMTP \\(MX\\) on 127\\.0\\.0\\.1:${port}`));
      });

      await t.step(
        "a plus address, a group and an alias in one message: one 250, every copy stored",
        async () => {
          const events = await EventStream.open(
            `${server.url}/jmap/eventsource/?types=*&closeafter=no&ping=0`,
            alice.auth,
          );
          try {
            const run = await swaks(port, [
              "--from",
              "sender@remote.test",
              "--to",
              "alice+news@example.org,team@example.org,billing@example.org",
              "--header",
              "Subject: to three",
            ]);
            assert.equal(run.code, 0, run.transcript);
            assert.match(run.replies.at(-2) ?? "", /^250 2\.6\.0 Message accepted as /, run.transcript);
            for (let i = 0; i < 100 && !events.events.includes("state"); i++) {
              await new Promise((resolve) => setTimeout(resolve, GENEROUS_MS / 100));
            }
            assert.ok(events.events.includes("state"), `no StateChange: ${events.events}`);
          } finally {
            await events.close();
          }
          const [mail] = await inbox(server, alice);
          assert.equal(mail.subject, "to three");
          // Alice is named twice (her plus address, and the group): one copy, recorded with the tag.
          assert.equal((await inbox(server, alice)).length, 1);
          assert.equal(mail["header:Delivered-To:asText"], "alice+news@example.org");
          assert.equal(String(mail["header:Return-Path"]).trim(), "<sender@remote.test>");
          assert.match(
            String(mail["header:Received"]).replace(/\s+/g, " ").trim(),
            /^from \S+ \(\[127\.0\.0\.1\]\) by example\.org \(Postern\) with ESMTP id \S+ for <alice\+news@example\.org>; /,
          );
          assert.equal((await inbox(server, bob))[0]["header:Delivered-To:asText"], "team@example.org");
          assert.equal((await inbox(server, carol))[0]["header:Delivered-To:asText"], "billing@example.org");
        },
      );

      // The RCPT reply: the one before QUIT's 221.
      const rcpt = async (to: string) => {
        const run = await swaks(port, ["--from", "sender@remote.test", "--to", to, "--quit-after", "RCPT"]);
        return run.replies.at(-2) ?? run.transcript;
      };
      await t.step("unknown 550 5.1.1, disabled 550 5.2.1, another domain 550 5.7.1", async () => {
        assert.match(await rcpt("nobody@example.org"), /^550 5\.1\.1 /);
        assert.match(await rcpt("dave@example.org"), /^550 5\.2\.1 /);
        assert.match(await rcpt("someone@elsewhere.test"), /^550 5\.7\.1 /);
        // The tag of a plus address never makes an unknown user known.
        assert.match(await rcpt("nobody+tag@example.org"), /^550 5\.1\.1 /);
      });

      await t.step("the fourth recipient gets 452 4.5.3; the three before it are accepted", async () => {
        const reply = await rawDialogue(port, [
          "EHLO client.test\r\n",
          "MAIL FROM:<sender@remote.test>\r\n",
          "RCPT TO:<alice@example.org>\r\n",
          "RCPT TO:<bob@example.org>\r\n",
          "RCPT TO:<carol@example.org>\r\n",
          "RCPT TO:<frank@example.org>\r\n",
          "QUIT\r\n",
        ]);
        assert.equal(reply.match(/^250 2\.1\.5 /gm)?.length, 3, reply);
        assert.match(reply, /^452 4\.5\.3 /m);
      });

      await t.step(
        "SIZE over the limit 552 at MAIL; over the quota 552 5.2.2; no room now 452 4.2.2",
        async () => {
          const session = (size: number, to: string) =>
            rawDialogue(port, [
              "EHLO client.test\r\n",
              `MAIL FROM:<sender@remote.test> SIZE=${size}\r\n`,
              `RCPT TO:<${to}>\r\n`,
              "QUIT\r\n",
            ]);
          assert.match(await session(20_000_000, "alice@example.org"), /^552 5\.3\.4 /m);
          assert.match(await session(5000, "frank@example.org"), /^552 5\.2\.2 /m);
          // Frank's mailbox takes a first message of about 2 KB…
          const first = await swaks(port, [
            "--from",
            "sender@remote.test",
            "--to",
            "frank@example.org",
            "--body",
            "x".repeat(1500),
          ]);
          assert.equal(first.code, 0, first.transcript);
          // …so a declared 1500 bytes no longer fit (452 at RCPT), and an undeclared one fails at DATA.
          assert.match(await session(1500, "frank@example.org"), /^452 4\.2\.2 /m);
          const second = await swaks(port, [
            "--from",
            "sender@remote.test",
            "--to",
            "frank@example.org",
            "--body",
            "y".repeat(1500),
          ]);
          assert.match(second.replies.at(-2) ?? second.transcript, /^452 4\.2\.2 /, second.transcript);
          assert.equal((await inbox(server, frank)).length, 1);
        },
      );

      await t.step("a message over the size limit without SIZE is refused at DATA", async () => {
        const line = "z".repeat(998) + "\r\n";
        const big = await rawDialogue(port, [
          "EHLO client.test\r\n",
          "MAIL FROM:<sender@remote.test>\r\n",
          "RCPT TO:<alice@example.org>\r\n",
          "DATA\r\n",
          "Subject: big\r\n\r\n" + line.repeat(10_400) + ".\r\n",
          "QUIT\r\n",
        ]);
        assert.match(big, /^552 5\.3\.4 /m);
        assert.equal((await inbox(server, alice)).length, 1);
      });

      await t.step("no AUTH is offered or taken, and nothing is relayed", async () => {
        const ehlo = await rawDialogue(port, [
          "EHLO client.test\r\n",
          "AUTH PLAIN AGFkbWluAHg=\r\n",
          "QUIT\r\n",
        ]);
        assert.doesNotMatch(ehlo, /^250[- ]AUTH/m);
        assert.match(ehlo, /^50[02] 5\.5\.[12] /m);
        const relay = await swaks(port, [
          "--from",
          "admin@example.org",
          "--to",
          "victim@elsewhere.test",
          "--auth",
          "PLAIN",
          "--auth-user",
          "admin@example.org",
          "--auth-password",
          "admin password for tests",
        ]);
        assert.notEqual(relay.code, 0);
        assert.doesNotMatch(relay.transcript, /^<- {2}235/m);
      });

      await t.step("STARTTLS is not offered without certificate files", async () => {
        const ehlo = await rawDialogue(port, ["EHLO client.test\r\n", "STARTTLS\r\n", "QUIT\r\n"]);
        assert.doesNotMatch(ehlo, /^250[- ]STARTTLS/m);
        assert.match(ehlo, /^50[02] 5\.5\.[12] /m);
      });

      await t.step(
        "/metrics counts connections, accepted messages (and their time by stage) and refusals by listener and reason",
        async () => {
          const metrics = await (await fetch(`${server.url}/metrics`)).text();
          assert.match(metrics, /^postern_smtp_connections_total\{listener="mx"\} [1-9]\d*$/m);
          assert.doesNotMatch(metrics, /listener="submissions?"/, "no series of listeners that are off");
          assert.match(metrics, /^postern_smtp_messages_accepted_total 2$/m);
          // The two accepted messages' time by stage (refused ones add none).
          for (const stage of ["receive", "authenticate", "store"]) {
            const value = new RegExp(
              `^postern_smtp_message_stage_seconds_total\\{stage="${stage}"\\} (\\S+)$`,
              "m",
            )
              .exec(metrics)?.[1];
            // Receiving and storing take event loop turns; the checks are only required to be counted.
            const least = stage === "authenticate" ? 0 : Number.MIN_VALUE;
            assert.ok(Number(value) >= least && Number(value) < 60, `${stage}: ${value}`);
          }
          for (
            const reason of [
              "unknownRecipient",
              "disabled",
              "relayDenied",
              "tooManyRecipients",
              "mailboxFull",
            ]
          ) {
            assert.match(
              metrics,
              new RegExp(`^postern_smtp_refusals_total\\{listener="mx",reason="${reason}"\\} \\d+$`, "m"),
            );
          }
        },
      );

      await t.step("one JSON log line per transaction, without the message content", async () => {
        const transactions = () =>
          server.stderr().split("\n").filter((l) => l.includes('"smtp.transaction"'));
        // Info lines are written in batches (up to 25 ms after they are logged).
        await until(() => transactions().length >= 3, "three transaction lines");
        const lines = transactions();
        const accepted = lines.map((l) => JSON.parse(l).properties).find((p) => p.recipients === 3);
        assert.equal(accepted.outcome, "accepted");
        assert.equal(accepted.client, "127.0.0.1");
        assert.equal(accepted.mailFrom, "sender@remote.test");
        assert.ok(accepted.size > 0 && typeof accepted.messageId === "string");
        assert.ok(!lines.some((l) => l.includes("x".repeat(50))), "message content logged");
      });
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
