/**
 * Times the worst inputs of issue 19 (not a test: figures for commit messages and the README):
 * HTML-to-text on 64 KB of `<`, of `<!--`, of unterminated `<style` and on a 373 KB HTML body;
 * SearchSnippet on a body that is one 200 KB word; Email/import of the 373 KB message; Email/get of
 * 200 ids × 20,000 header properties; Email/query with 1,000 OR conditions (in-process app).
 *
 * Run: deno run -A scripts/worst_inputs.ts [--skip-app]
 */
import { htmlToText } from "../src/mail/mime/mod.ts";
import { searchTerms, snippet } from "../src/mail/snippets.ts";
import { startTestApp } from "../test/helpers.ts";
import { createUsers, mailboxesByName, mailRequest } from "../test/mail_helpers.ts";
import { message, uploadBlob } from "../test/email_helpers.ts";

function time<T>(label: string, run: () => T): T {
  const start = performance.now();
  const result = run();
  console.log(`${label}: ${(performance.now() - start).toFixed(1)} ms`);
  return result;
}

async function timeAsync<T>(label: string, run: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await run();
  console.log(`${label}: ${(performance.now() - start).toFixed(1)} ms`);
  return result;
}

/** The HTML of the 373 KB case: unterminated tags and comments mixed with text. */
export function bigHtml(): string {
  return ("<p>text <!-- <a href=x <style <b".repeat(12_000)).slice(0, 373_000);
}

time("htmlToText, 64 KB of <", () => htmlToText("<".repeat(65_536)));
time("htmlToText, 64 KB of <!--", () => htmlToText("<!--".repeat(16_384)));
time("htmlToText, 64 KB of <style", () => htmlToText("<style".repeat(10_923)));
time("htmlToText, 64 KB of <p", () => htmlToText("<p".repeat(32_768)));
time("htmlToText, 373 KB mixed", () => htmlToText(bigHtml()));
const word = "a".repeat(200_000);
time("snippet, one 200 KB word", () => snippet(word, searchTerms(["a"])));
time("snippet, one 200 KB word of é", () => snippet("é".repeat(200_000), searchTerms(["é"])));

if (!Deno.args.includes("--skip-app")) {
  const t = await startTestApp();
  try {
    const [alice] = await createUsers(t, ["alice"]);
    const inbox = (await mailboxesByName(t, alice)).Inbox.id as string;
    const importOne = async (bytes: Uint8Array<ArrayBuffer>) => {
      const blobId = await uploadBlob(t, alice, bytes);
      return await mailRequest(t, [[
        "Email/import",
        { accountId: alice.accountId, emails: { m: { blobId, mailboxIds: { [inbox]: true } } } },
        "c0",
      ]], alice.auth);
    };
    const html = message(
      `From: a@example.org\nSubject: big\nContent-Type: text/html\n\n${bigHtml()}\n`,
    );
    const answer = await timeAsync("Email/import, 373 KB HTML message", () => importOne(html));
    console.log("  ", JSON.stringify(answer.methodResponses[0]).slice(0, 160));
    const wordImport = await timeAsync(
      "Email/import, one 200 KB word",
      () => importOne(message(`From: a@example.org\nSubject: word\n\n${word}\n`)),
    );
    const wordId = (wordImport.methodResponses[0][1].created as Record<string, { id: string }>).m.id;
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const r = await importOne(message(`From: a@example.org\nSubject: m${i}\nX-N: ${i}\n\nbody ${i}\n`));
      ids.push((r.methodResponses[0][1].created as Record<string, { id: string }>).m.id);
    }
    const properties = Array.from({ length: 20_000 }, (_, i) => `header:X-H${i}`);
    const get = await timeAsync("Email/get, 200 ids × 20,000 header properties", () =>
      t.fetch("/jmap", {
        method: "POST",
        headers: { authorization: alice.auth, "content-type": "application/json" },
        body: JSON.stringify({
          using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
          methodCalls: [["Email/get", { accountId: alice.accountId, ids, properties }, "c0"]],
        }),
      }).then(async (r) => ({ status: r.status, text: await r.text() })));
    console.log(`   ${get.status}, ${get.text.length} bytes: ${get.text.slice(0, 160)}`);
    const allowed = await timeAsync(
      "Email/get, 200 ids × 256 header properties (the limit)",
      () =>
        mailRequest(t, [[
          "Email/get",
          { accountId: alice.accountId, ids, properties: properties.slice(0, 256) },
          "c0",
        ]], alice.auth),
    );
    console.log(`   ${JSON.stringify(allowed).length} bytes`);
    const conditions = Array.from({ length: 1_000 }, (_, i) => ({ subject: `w${i}` }));
    const query = await timeAsync("Email/query, 1,000 OR conditions", () =>
      mailRequest(t, [[
        "Email/query",
        { accountId: alice.accountId, filter: { operator: "OR", conditions } },
        "c0",
      ]], alice.auth));
    console.log("  ", JSON.stringify(query.methodResponses[0]).slice(0, 160));
    const mixedId = (answer.methodResponses[0][1].created as Record<string, { id: string }>).m.id;
    const manyWords = Array.from({ length: 1_023 }, (_, c) => ({
      text: c === 0 ? "text" : Array.from({ length: 32 }, (_, i) => `w${c}x${i}`).join(" "),
    }));
    const marked = await timeAsync(
      "SearchSnippet/get, 1,023 conditions × 32 words, the 373 KB message",
      () =>
        mailRequest(t, [[
          "SearchSnippet/get",
          {
            accountId: alice.accountId,
            filter: { operator: "OR", conditions: manyWords },
            emailIds: [mixedId],
          },
          "c0",
        ]], alice.auth),
    );
    console.log("  ", JSON.stringify(marked.methodResponses[0]).slice(0, 160));
    const snippets = await timeAsync("SearchSnippet/get, the 200 KB word", () =>
      mailRequest(t, [[
        "SearchSnippet/get",
        { accountId: alice.accountId, filter: { text: "a" }, emailIds: [wordId] },
        "c0",
      ]], alice.auth));
    console.log("  ", JSON.stringify(snippets.methodResponses[0]).slice(0, 160));
  } finally {
    await t.close();
  }
}
