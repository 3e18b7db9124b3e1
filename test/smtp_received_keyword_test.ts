/**
 * The `with` keyword of the MX's Received field against a real `postern serve` process: RFC 3848's
 * SMTP and ESMTP, and RFC 6531 §3.7.3's UTF8SMTP when the transaction asked for SMTPUTF8 (raw
 * dialogues over TCP: the bytes of each session are the test's own).
 */
import assert from "node:assert/strict";
import { createUsers, mailCall, type Obj, serverTarget, type Who } from "./mail_helpers.ts";
import { type MxProcess, rawDialogue, startMxProcess } from "./smtp_helpers.ts";

/** The Received field of the email with this subject in `who`'s account, on one line. */
async function receivedOf(server: MxProcess, who: Who, subject: string): Promise<string> {
  const target = serverTarget(server.url);
  const { ids } = await mailCall(target, "Email/query", { filter: { subject } }, who);
  const { list } = await mailCall(target, "Email/get", { ids, properties: ["header:Received"] }, who);
  assert.equal((list as Obj[]).length, 1, `one email "${subject}"`);
  return String((list as Obj[])[0]["header:Received"]).replace(/\s+/g, " ").trim();
}

/** One transaction: the greeting command, MAIL FROM (with its parameters) and a small message. */
function session(greeting: string, mailFrom: string, subject: string): string[] {
  return [
    `${greeting} client.test\r\n`,
    `${mailFrom}\r\n`,
    "RCPT TO:<alice@example.org>\r\n",
    "DATA\r\n",
    `From: sender@remote.test\r\nTo: alice@example.org\r\nSubject: ${subject}\r\n\r\nHello.\r\n.\r\n`,
    "QUIT\r\n",
  ];
}

Deno.test("the MX's Received says UTF8SMTP for an SMTPUTF8 transaction, ESMTP or SMTP otherwise", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-received-" });
  const server = await startMxProcess(dataDir);
  try {
    const [alice] = await createUsers(serverTarget(server.url), ["alice"]);
    const cases: [string, string, string, RegExp][] = [
      ["EHLO", "MAIL FROM:<sénder@remote.test> SMTPUTF8", "utf8", / with UTF8SMTP id /],
      ["EHLO", "MAIL FROM:<sender@remote.test>", "ascii", / with ESMTP id /],
      ["HELO", "MAIL FROM:<sender@remote.test>", "helo", / with SMTP id /],
    ];
    for (const [greeting, mailFrom, subject, keyword] of cases) {
      const dialogue = await rawDialogue(server.smtpPort, session(greeting, mailFrom, subject));
      assert.match(dialogue, /^250 2\.6\.0 Message accepted as /m, dialogue);
      const received = await receivedOf(server, alice, subject);
      assert.match(received, keyword, received);
    }
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
