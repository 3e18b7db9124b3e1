/**
 * SearchSnippet/get reads a bounded amount of mail per call (SNIPPET_LIMITS in src/mail/emails.ts):
 * past the budget a matching email's preview is null, which RFC 8621 §5 allows ("preview:
 * String|null ... null if the server cannot produce a snippet") instead of parsing up to 500 emails
 * of 50 MB each in one call.
 */
import assert from "node:assert/strict";
import { imported, message } from "./email_helpers.ts";
import { mailCall, type Obj, withAliceAndBob } from "./mail_helpers.ts";
import { SNIPPET_LIMITS } from "../src/mail/mod.ts";

Deno.test("SearchSnippet/get past its parse budget answers null previews, subjects still marked", () =>
  withAliceAndBob(async (t, alice) => {
    // Three messages of 40% of the budget each: the first two fit, the third does not.
    const size = Math.ceil(SNIPPET_LIMITS.maxParsedBytes * 0.4);
    const line = "a haystack line of plain words\n";
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const body = line.repeat(Math.ceil(size / line.length));
      const email = await imported(
        t,
        alice,
        message(`From: a@example.org\nSubject: haystack ${n}\n\n${body}`),
      );
      ids.push(email.id as string);
    }
    const answer = await mailCall(
      t,
      "SearchSnippet/get",
      { filter: { text: "haystack" }, emailIds: ids },
      alice,
    );
    const list = answer.list as Obj[];
    assert.deepEqual(list.map((s) => s.emailId), ids);
    assert.match(list[0].preview as string, /<mark>haystack<\/mark>/);
    assert.match(list[1].preview as string, /<mark>haystack<\/mark>/);
    assert.equal(list[2].preview, null);
    assert.equal(list[2].subject, "<mark>haystack</mark> 3");
    assert.equal(answer.notFound, null);
  }));
