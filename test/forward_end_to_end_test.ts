/**
 * Forwarding end to end: a message the MX receives for an account that forwards reaches the outside
 * receiver (Postfix's smtp-sink behind a relay route) once, with an SRS envelope sender and an ARC
 * set that mailauth validates (cv=none on the first hop, cv=pass after a second forward), the
 * original DKIM signature intact, and the local copy kept or not as the account says. A message that
 * comes back is not forwarded again; a bounce to the SRS address reaches the original sender; a
 * forged SRS address is 550 5.1.1; a forward the receiver refuses bounces to the original sender.
 */
import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { authenticate } from "mailauth";
import { SMTP_DEFAULTS } from "../src/config/mod.ts";
import { dkimRecordText, MailAuthenticator } from "../src/mail/mod.ts";
import { SmtpMetrics, startMxServer } from "../src/smtp/mod.ts";
import { freePort, startTestApp, type TestApp, until } from "./helpers.ts";
import { ADMIN } from "./jmap_helpers.ts";
import { managementCall } from "./live_connection_helpers.ts";
import { createUsers, mailCall, type Who } from "./mail_helpers.ts";
import { HAS_SMTP_SINK, startSink } from "./outbound_helpers.ts";
import { skipping } from "./smtp_helpers.ts";
import { dkimKey, message, send, signed } from "./smtp_mailauth_helpers.ts";

const ignore = !HAS_SMTP_SINK && skipping("forwarding end to end", "smtp-sink (postfix)");

/** A resolver answering from a table, as mailauth expects (ENOTFOUND for the rest). */
function tableResolver(txt: Record<string, string>) {
  return (name: string, type: string) => {
    const value = type === "TXT" ? txt[name.toLowerCase()] : undefined;
    if (value === undefined) {
      return Promise.reject(Object.assign(new Error(`${name} ${type}: not found`), { code: "ENOTFOUND" }));
    }
    return Promise.resolve([[value]]);
  };
}

async function inboxCount(t: TestApp, who: Who): Promise<number> {
  return ((await mailCall(t, "Email/query", {}, who)).ids as string[]).length;
}

Deno.test({
  name: "forwarding: SRS envelope, ARC set, the original DKIM intact, loops stopped, bounces relayed back",
  ignore,
  async fn(t) {
    const app = await startTestApp();
    const sinkPort = freePort();
    const sink = await startSink("127.0.0.1", sinkPort);
    const origin = dkimKey();
    const txt: Record<string, string> = {
      "sel._domainkey.origin.test": origin.record,
      "origin.test": "v=spf1 ip4:127.0.0.1 -all",
      "_dmarc.origin.test": "v=DMARC1; p=none",
    };
    const domain = await app.services.domains.getByName("example.org");
    for (const key of await app.services.dkimKeys.ofDomain(domain!.id)) {
      txt[`${key.selector}._domainkey.example.org`] = dkimRecordText(key);
    }
    const resolver = tableResolver(txt);
    const mx = await startMxServer({
      hostname: "127.0.0.1",
      port: 0,
      serverName: "mx.example.org",
      inbound: app.services.inbound,
      authenticator: new MailAuthenticator({ authservId: "mx.example.org", resolver }),
      limits: SMTP_DEFAULTS,
      metrics: new SmtpMetrics(),
      log: getLogger(["postern", "smtp"]),
    });
    const received = async (count: number) => {
      let got: string[] = [];
      await until(async () => {
        await app.services.queue.runDue(Date.now());
        got = await sink.received();
        return got.length >= count;
      }, `${count} messages at the receiver`);
      return got;
    };
    try {
      const [alice, bob] = await createUsers(app, ["alice", "bob"]);
      const route = (d: string) => ({ domain: d, host: "127.0.0.1", port: sinkPort, security: "none" });
      const outbound = await managementCall(app, ADMIN, "x:Outbound/set", {
        accountId: "b",
        update: { singleton: { relays: [route("elsewhere.test"), route("origin.test")] } },
      });
      assert.equal(outbound.notUpdated, null, JSON.stringify(outbound));
      for (const [who, to] of [[alice, "ann@elsewhere.test"], [bob, "bea@elsewhere.test"]] as const) {
        const set = await managementCall(app, ADMIN, "x:Account/set", {
          accountId: "b",
          update: { [who.accountId]: { forwardTo: [to] } },
        });
        assert.equal(set.notUpdated, null, JSON.stringify(set));
      }
      const original = await signed(
        message("news@origin.test", "Forward me"),
        "origin.test",
        "sel",
        origin.privateKey,
      );
      const first = await send(
        mx.addr.port,
        { from: "news@origin.test", to: ["alice@example.org"] },
        original,
      );
      assert.equal(first.code, 250, first.response);
      let srsSender = "";
      let forwarded = "";

      await t.step("the forward arrives once with an SRS sender and a valid ARC set (cv=none)", async () => {
        const [dump] = await received(1);
        srsSender = /X-Mail-Args: <([^>]*)>/.exec(dump)?.[1] ?? "";
        assert.match(srsSender, /^SRS0=[^=]{4}=[A-Z2-7]{2}=origin\.test=news@example\.org$/);
        assert.match(dump, /X-Rcpt-Args: <ann@elsewhere\.test>/);
        forwarded = dump.slice(dump.search(/^ARC-Seal:/im)).replace(/\r?\n/g, "\r\n");
        assert.match(forwarded, /^ARC-Seal: i=1; .*cv=none/s);
        assert.match(forwarded, /^Delivered-To: alice@example\.org$/m);
        const verdict = await authenticate(forwarded, {
          ip: "127.0.0.1",
          helo: "mx.example.org",
          sender: srsSender,
          mta: "receiver.test",
          resolver: resolver as never,
          disableBimi: true,
        });
        assert.equal(verdict.arc && verdict.arc.status.result, "pass", JSON.stringify(verdict.arc));
        const originDkim = verdict.dkim.results.find((r) => r.signingDomain === "origin.test");
        assert.equal(originDkim?.status.result, "pass", "the original signature still verifies");
        assert.match(forwarded, /^ARC-Authentication-Results: i=1; mx\.example\.org;[^]*?spf=pass/m);
        assert.equal(await inboxCount(app, alice), 1, "alice kept her copy");
        assert.equal((await sink.received()).length, 1, "once");
      });

      await t.step("forwarded again by another account: a second ARC set with cv=pass", async () => {
        const again = await send(mx.addr.port, { from: srsSender, to: ["bob@example.org"] }, forwarded);
        assert.equal(again.code, 250, again.response);
        const dumps = await received(2);
        const second = dumps.find((d) => d.includes("X-Rcpt-Args: <bea@elsewhere.test>"))!;
        const text = second.slice(second.search(/^ARC-Seal:/im)).replace(/\r?\n/g, "\r\n");
        assert.match(text, /^ARC-Seal: i=2; .*cv=pass/s);
        const verdict = await authenticate(text, {
          ip: "127.0.0.1",
          helo: "mx.example.org",
          sender: /X-Mail-Args: <([^>]*)>/.exec(second)?.[1] ?? "",
          mta: "receiver.test",
          resolver: resolver as never,
          disableBimi: true,
        });
        assert.equal(verdict.arc && verdict.arc.status.result, "pass", JSON.stringify(verdict.arc));
      });

      await t.step("a forward that comes back to alice is stored, not forwarded again", async () => {
        const loop = await send(mx.addr.port, { from: srsSender, to: ["alice@example.org"] }, forwarded);
        assert.equal(loop.code, 250, loop.response);
        await app.services.queue.runDue(Date.now());
        assert.equal((await sink.received()).length, 2);
        assert.equal(await inboxCount(app, alice), 2);
      });

      await t.step(
        "a bounce to the SRS address reaches the original sender; a forged one is 550 5.1.1",
        async () => {
          const bounce = "From: MAILER-DAEMON@elsewhere.test\r\nTo: <" + srsSender + ">\r\n" +
            "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <b1@elsewhere.test>\r\n\r\nNo such user.\r\n";
          const sent = await send(mx.addr.port, { from: "", to: [srsSender] }, bounce);
          assert.equal(sent.code, 250, sent.response);
          const dumps = await received(3);
          const back = dumps.find((d) => d.includes("X-Rcpt-Args: <news@origin.test>"));
          assert.ok(back, "relayed to the original sender");
          assert.match(back, /X-Mail-Args: <>/);
          const forged = srsSender.replace("=news@", "=boss@");
          const refused = await send(mx.addr.port, { from: "", to: [forged] }, bounce);
          assert.equal(refused.code, 550, refused.response);
          assert.match(refused.response, /5\.1\.1/);
        },
      );

      await t.step("forwardKeepCopy false: forwarded, and no copy kept", async () => {
        await managementCall(app, ADMIN, "x:Account/set", {
          accountId: "b",
          update: { [alice.accountId]: { forwardKeepCopy: false } },
        });
        const text = await signed(
          message("news@origin.test", "Only forward"),
          "origin.test",
          "sel",
          origin.privateKey,
        );
        const sent = await send(mx.addr.port, { from: "news@origin.test", to: ["alice@example.org"] }, text);
        assert.equal(sent.code, 250, sent.response);
        const dumps = await received(4);
        assert.ok(dumps.some((d) => d.includes("Subject: Only forward")));
        assert.equal(await inboxCount(app, alice), 2);
      });

      await t.step(
        "a forward refused by the receiver bounces to the original sender, not the SRS address",
        async () => {
          const refusing = await startSink("127.0.0.2", sinkPort, ["-f", "RCPT"]);
          try {
            await managementCall(app, ADMIN, "x:Outbound/set", {
              accountId: "b",
              update: {
                singleton: {
                  relays: [route("elsewhere.test"), route("origin.test"), {
                    ...route("refuses.test"),
                    host: "127.0.0.2",
                  }],
                },
              },
            });
            await managementCall(app, ADMIN, "x:Account/set", {
              accountId: "b",
              update: { [bob.accountId]: { forwardTo: ["nobody@refuses.test"] } },
            });
            const text = message("news@origin.test", "Refused forward");
            const sent = await send(
              mx.addr.port,
              { from: "news@origin.test", to: ["bob@example.org"] },
              text,
            );
            assert.equal(sent.code, 250, sent.response);
            let report: string | undefined;
            await until(async () => {
              await app.services.queue.runDue(Date.now());
              report = (await sink.received()).find((d) =>
                d.includes("X-Rcpt-Args: <news@origin.test>") && /nobody@refuses\.test/.test(d) &&
                /multipart\/report/i.test(d)
              );
              return report !== undefined;
            }, "the bounce at the original sender");
            assert.match(report!, /X-Mail-Args: <>/);
          } finally {
            await refusing.stop();
          }
        },
      );
    } finally {
      await mx.close(1000);
      await sink.stop();
      await app.services.queue.idle();
      await app.close();
    }
  },
});
