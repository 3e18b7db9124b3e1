/**
 * The blob collector is a timer (src/server.ts); here it is called directly, racing Email/import of
 * an upload it is about to collect (expired by the clock it is given). Whichever wins, the outcome is
 * consistent: an imported Email's message can be read and downloaded, a refused import names the
 * blobId (invalidProperties), and nothing fails with serverFail.
 */
import assert from "node:assert/strict";
import { getEmail, message, uploadBlob } from "./email_helpers.ts";
import { mailboxesByName, mailCall, type Obj, withAliceAndBob } from "./mail_helpers.ts";

const TWO_HOURS_LATER = () => Date.now() + 2 * 60 * 60 * 1000;

Deno.test("Email/import racing the blob collector either keeps a readable message or refuses the blobId", () =>
  withAliceAndBob(async (t, alice) => {
    const inbox = (await mailboxesByName(t, alice)).Inbox.id as string;
    const outcomes: string[] = [];
    // The collector starts after 0 to 5 turns of the event loop: it meets the import at each stage.
    for (let round = 0; round < 12; round++) {
      const blobId = await uploadBlob(t, alice, message(`Subject: race ${round}\n\nbody ${round}\n`));
      const collecting = (async () => {
        for (let i = 0; i < round % 6; i++) await new Promise((resolve) => setTimeout(resolve, 0));
        return await t.services.blobs.collect(TWO_HOURS_LATER());
      })();
      const importing = mailCall(t, "Email/import", {
        emails: { m: { blobId, mailboxIds: { [inbox]: true } } },
      }, alice);
      const [result] = await Promise.all([importing, collecting]);
      const created = (result.created as Record<string, Obj> | null)?.m;
      if (created) {
        const email = await getEmail(t, alice, created.id as string, { properties: ["subject", "blobId"] });
        assert.equal(email.subject, `race ${round}`);
        const download = await t.fetch(`/jmap/download/${alice.accountId}/${email.blobId}/m.eml`, {
          headers: { authorization: alice.auth },
        });
        assert.equal(download.status, 200, `round ${round}: the imported message's blob is gone`);
        assert.match(await download.text(), new RegExp(`body ${round}`));
        outcomes.push("imported");
      } else {
        const error = (result.notCreated as Record<string, Obj>).m;
        // RFC 8621 §4.8: a blobId that is not found is invalidProperties naming it.
        assert.deepEqual(
          [error.type, error.properties],
          ["invalidProperties", ["blobId"]],
          JSON.stringify(error),
        );
        outcomes.push("collected first");
      }
      // Whatever happened, a later collection keeps the message the Email holds.
      await t.services.blobs.collect(TWO_HOURS_LATER());
      if (created) {
        const again = await t.fetch(`/jmap/download/${alice.accountId}/${created.blobId}/m.eml`, {
          headers: { authorization: alice.auth },
        });
        assert.equal(again.status, 200);
        await again.body?.cancel();
      }
    }
    assert.equal(outcomes.length, 12);
  }));
