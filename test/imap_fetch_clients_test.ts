/**
 * FETCH and STORE on the wire with real clients, against IMAP listeners in process on a test app
 * (so JMAP and its EventSource answer from the same store): a raw dialogue over 993 (literals
 * byte for byte, a streamed `1:*`, UID FETCH, STORE), and the npm client imapflow (fetch, fetchOne,
 * download of a part, messageFlagsAdd/Remove) with each change checked over JMAP and a StateChange
 * pushed on the EventSource. SELECT comes from test/imap_fetch_helpers.ts while the dispatch table
 * has none of its own.
 */
import assert from "node:assert/strict";
import { ImapFlow } from "imapflow";
import { decodeId, encodeId } from "../src/model/ids.ts";
import { PASSWORD, startTestApp } from "./helpers.ts";
import { append, mail, registerTestSelect, startImapOnApp } from "./imap_fetch_helpers.ts";
import { imapPeersMissing, ImapTalk } from "./imap_helpers.ts";
import { EventStream } from "./live_connection_helpers.ts";
import { createUsers, mailCall } from "./mail_helpers.ts";

const ignore = imapPeersMissing("IMAP FETCH with clients");

Deno.test({
  name: "FETCH and STORE over the wire: a raw dialogue and imapflow, changes seen over JMAP and pushed",
  ignore,
  async fn(t) {
    registerTestSelect();
    const app = await startTestApp();
    const http = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (request, info) => app.app.handler(request, info),
    );
    const imap = await startImapOnApp(app);
    try {
      const [alice] = await createUsers(app, ["alice"]);
      const body = mail("Parts", "x".repeat(70_000));
      await append(app, alice, "INBOX", { message: body });
      for (let i = 0; i < 30; i++) await append(app, alice, "INBOX");

      await t.step("a raw dialogue: FETCH 1:*, a large literal byte for byte, UID FETCH, STORE", async () => {
        const talk = await ImapTalk.open(imap.imapsPort, { implicitTls: true, certPem: imap.certPem });
        try {
          assert.match((await talk.command(`LOGIN alice "${PASSWORD}"`)).at(-1)!, / OK /);
          assert.match((await talk.command("SELECT INBOX")).at(-1)!, / OK \[READ-WRITE\]/);
          const all = await talk.command("FETCH 1:* (UID FLAGS)");
          assert.equal(all.length, 32);
          assert.equal(all[30], "* 31 FETCH (UID 31 FLAGS ())");
          const big = await talk.command("UID FETCH 1 (BODY.PEEK[] RFC822.SIZE)");
          assert.equal(big[0], `* 1 FETCH (UID 1 BODY[] {${body.length}}`);
          assert.equal(big.at(-2), ` RFC822.SIZE ${body.length})`);
          assert.ok(big.join("\r\n").includes(new TextDecoder().decode(body)), "the literal is the message");
          const stored = await talk.command("STORE 2:3 +FLAGS (\\Answered)");
          assert.deepEqual(stored, [
            "* 2 FETCH (FLAGS (\\Answered))",
            "* 3 FETCH (FLAGS (\\Answered))",
            stored.at(-1)!,
          ]);
          assert.match(stored.at(-1)!, /^t\d+ OK STORE completed/);
          assert.match((await talk.command("FETCH 40 (FLAGS)")).at(-1)!, /^t\d+ BAD /);
        } finally {
          talk.close();
        }
      });

      await t.step(
        "imapflow: fetch, fetchOne, download, flags added and removed, seen over JMAP",
        async () => {
          const client = new ImapFlow({
            host: "127.0.0.1",
            port: imap.imapsPort,
            secure: true,
            tls: { rejectUnauthorized: false },
            auth: { user: alice.emailAddress, pass: PASSWORD },
            logger: false,
          });
          await client.connect();
          const events = await EventStream.open(
            `http://127.0.0.1:${http.addr.port}/jmap/eventsource/?types=*&closeafter=no&ping=0`,
            alice.auth,
          );
          try {
            await client.mailboxOpen("INBOX");
            let count = 0;
            for await (const m of client.fetch("1:*", { uid: true, flags: true })) {
              count++;
              assert.equal(m.uid, m.seq);
            }
            assert.equal(count, 31);
            const one = await client.fetchOne("1", {
              envelope: true,
              bodyStructure: true,
              source: true,
              size: true,
              internalDate: true,
            });
            assert.ok(one, "fetchOne answered");
            assert.match(one.envelope?.subject ?? "", /^Parts \d+$/);
            assert.equal(one.envelope?.from?.[0]?.address, "carol@example.net");
            assert.equal(one.bodyStructure?.type, "text/plain");
            assert.equal(one.size, body.length);
            assert.deepEqual(new Uint8Array(one.source!), body);
            const download = await client.download("2", "1");
            const chunks: Uint8Array[] = [];
            for await (const chunk of download.content!) chunks.push(chunk);
            assert.match(new TextDecoder().decode(chunks[0]), /^Body \d+\r\n$/);
            assert.ok(await client.messageFlagsAdd("1", ["\\Flagged", "$Label"]));
            const selection = await app.services.imapMailboxes.select(decodeId(alice.accountId)!, "INBOX");
            const emailId = encodeId(selection.messages[0].emailId);
            const got = await mailCall(app, "Email/get", { ids: [emailId], properties: ["keywords"] }, alice);
            assert.deepEqual((got.list as { keywords: unknown }[])[0].keywords, {
              $flagged: true,
              $label: true,
            });
            for (let i = 0; i < 100 && !events.events.includes("state"); i++) {
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
            assert.ok(events.events.includes("state"), `no StateChange: ${events.events}`);
            assert.ok(await client.messageFlagsRemove("1", ["$Label"]));
            const after = await mailCall(
              app,
              "Email/get",
              { ids: [emailId], properties: ["keywords"] },
              alice,
            );
            assert.deepEqual((after.list as { keywords: unknown }[])[0].keywords, { $flagged: true });
          } finally {
            await events.close();
            await client.logout();
          }
        },
      );
    } finally {
      await imap.close();
      await http.shutdown();
      await app.close();
    }
  },
});
