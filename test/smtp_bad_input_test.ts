/**
 * Bad input at the MX, over a raw TCP socket (bytes no well-behaved client sends): the published SMTP
 * smuggling variants (SEC Consult, 2023: `\n.\n`, `\n.\r\n`, `\r.\r`, `\r.\r\n`, `\r\n.\r`,
 * `\r\n\x00.\r\n` as a fake end of data followed by a second transaction) never split a message in
 * two; NUL bytes, over-long lines, 8-bit data and UTF-8 addresses each get an answer; a bounded
 * fuzz of random commands and a pipelining flood leave the server serving, with nothing half-stored.
 */
import assert from "node:assert/strict";
import { createUsers, serverTarget } from "./mail_helpers.ts";
import { rawDialogue, smtpMessage, startMxProcess, subjects } from "./smtp_helpers.ts";
import { Random } from "../scripts/fuzz/random.ts";

const enc = new TextEncoder();

/** One complete delivery to alice; the server's replies. */
function deliver(port: number, data: string | Uint8Array): Promise<string> {
  return rawDialogue(port, [
    "EHLO client.test\r\n",
    "MAIL FROM:<sender@remote.test>\r\n",
    "RCPT TO:<alice@example.org>\r\n",
    "DATA\r\n",
    data,
    "QUIT\r\n",
  ]);
}

const SMUGGLING_ENDS = ["\n.\n", "\n.\r\n", "\r.\r", "\r.\r\n", "\r\n.\r", "\r\n\x00.\r\n", ".\n", "\n..\n"];

Deno.test("the MX never splits one message into two and survives random and flooding input", async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-mx-bad-" });
  const server = await startMxProcess(dataDir, { POSTERN_SMTP_MAX_ERRORS: "1000" });
  const port = server.smtpPort;
  try {
    const [alice] = await createUsers(serverTarget(server.url), ["alice"]);
    let accepted = 0;

    await t.step("every smuggling variant is refused whole with 550 5.6.0, nothing smuggled", async () => {
      for (const end of SMUGGLING_ENDS) {
        const data = "Subject: carrier\r\n\r\nFirst part" + end +
          "MAIL FROM:<admin@example.org>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n" +
          "Subject: smuggled\r\n\r\nSecond part\r\n.\r\n";
        const replies = await deliver(port, data);
        assert.match(replies, /^550 5\.6\.0 /m, JSON.stringify(end) + "\n" + replies);
        assert.doesNotMatch(replies, /^250 2\.6\.0/m, JSON.stringify(end));
      }
      assert.deepEqual(await subjects(server, alice), []);
    });

    await t.step("dot-stuffing is undone and a lone dot line inside stays content", async () => {
      const replies = await deliver(port, "Subject: dots\r\n\r\n..\r\n...x\r\n.\r\n");
      assert.match(replies, /^250 2\.6\.0 /m, replies);
      accepted++;
      assert.deepEqual(await subjects(server, alice), ["dots"]);
    });

    await t.step(
      "NUL, over-long lines, 8-bit without 8BITMIME and UTF-8 addresses each get an answer",
      async () => {
        const nul = await deliver(port, enc.encode("Subject: nul\r\n\r\na\x00b\r\n.\r\n"));
        assert.match(nul, /^550 5\.6\.0 /m);
        // An over-long command line is refused and the session closed; a long data line is content.
        const longCommand = await rawDialogue(port, [
          "EHLO client.test\r\n",
          `NOOP ${"a".repeat(20_000)}\r\n`,
        ]);
        assert.match(longCommand, /^(421 4\.4\.2|500 5\.5\.2) /m, longCommand);
        const longLine = await deliver(port, `Subject: long line\r\n\r\n${"b".repeat(5000)}\r\n.\r\n`);
        assert.match(longLine, /^250 2\.6\.0 /m);
        accepted++;
        const eightBit = await deliver(port, enc.encode("Subject: 8bit\r\n\r\ncaf\xc3\xa9\r\n.\r\n"));
        assert.match(eightBit, /^250 2\.6\.0 /m);
        accepted++;
        const utf8 = await rawDialogue(port, [
          "EHLO client.test\r\n",
          "MAIL FROM:<sénder@remote.test> SMTPUTF8\r\n",
          "RCPT TO:<ålice@example.org>\r\n",
          "QUIT\r\n",
        ]);
        assert.match(utf8, /^250 2\.1\.0 /m, utf8);
        assert.match(utf8, /^550 5\.1\.1 /m, utf8);
      },
    );

    await t.step("a bounded fuzz of random commands and huge lines: answered, never a crash", async () => {
      const random = new Random(22);
      const verbs = [
        "HELO",
        "EHLO",
        "MAIL FROM:",
        "RCPT TO:",
        "DATA",
        "RSET",
        "NOOP",
        "VRFY",
        "EXPN",
        "BDAT",
        "AUTH",
        "STARTTLS",
        "HELP",
        "XCLIENT",
        "",
      ];
      for (let session = 0; session < 30; session++) {
        const lines: string[] = [];
        for (let i = 0; i < 12; i++) {
          const verb = verbs[Math.floor(random.next() * verbs.length)];
          const length = Math.floor(random.next() ** 4 * 3000);
          const arg = Array.from({ length }, () => String.fromCharCode(32 + Math.floor(random.next() * 224)))
            .join("");
          lines.push(`${verb} ${arg}\r\n`);
        }
        const replies = await rawDialogue(port, [lines.join("")], { quietMs: 100 });
        assert.match(replies, /^220 /, `session ${session}`);
      }
    });

    await t.step("a pipelining flood of 5000 commands after MAIL FROM is answered in order", async () => {
      const flood = "EHLO client.test\r\nMAIL FROM:<flood@remote.test>\r\n" +
        "NOOP\r\nRSET\r\n".repeat(2500) + "QUIT\r\n";
      const replies = await rawDialogue(port, [flood], { quietMs: 2000 });
      assert.match(replies, /^221 /m);
      assert.ok((replies.match(/^250 /gm)?.length ?? 0) >= 5000, replies.slice(-200));
    });

    await t.step(
      "the same flood before any MAIL FROM is cut off at the command cap (421 4.7.0)",
      async () => {
        const flood = "EHLO client.test\r\n" + "NOOP\r\nRSET\r\n".repeat(2500) + "QUIT\r\n";
        const replies = await rawDialogue(port, [flood], { quietMs: 2000 });
        assert.match(replies, /^421 4\.7\.0 Too many commands before MAIL FROM/m);
        assert.doesNotMatch(replies, /^221 /m);
        // The default cap (Postfix's smtpd_junk_command_limit): EHLO and 99 more are answered.
        assert.equal(replies.match(/^250 /gm)?.length, 100, replies.slice(-200));
      },
    );

    await t.step(
      "afterwards the server still delivers, and only the acknowledged messages are stored",
      async () => {
        const replies = await deliver(port, smtpMessage("after the storm") + ".\r\n");
        assert.match(replies, /^250 2\.6\.0 /m);
        accepted++;
        const stored = await subjects(server, alice);
        assert.equal(stored.length, accepted, stored.join(", "));
        assert.ok(!stored.includes("smuggled") && !stored.includes("carrier"));
      },
    );
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
