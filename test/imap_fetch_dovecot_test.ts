/**
 * FETCH responses compared with Dovecot's (Debian `dovecot-core`, `dovecot-imapd`) for the same
 * messages with the same flags and internal dates: the render fixtures are put in a private
 * Dovecot's Maildir and APPENDed to Postern's store, then one FETCH of facts (FLAGS, INTERNALDATE,
 * RFC822.SIZE) and one of renderings (ENVELOPE, BODYSTRUCTURE, BODY[1], BINARY[1], partials, a part
 * that does not exist, a partial past the end) go to both, through the session's FETCH handler on
 * our side. Answers are read as structures and compared item by item, except the differences in
 * DELIBERATE. Skips without Dovecot or root.
 */
import assert from "node:assert/strict";
import { canRunDovecotImap, startDovecotImap } from "./imap_dovecot_helpers.ts";
import { append, selectedSession } from "./imap_fetch_helpers.ts";
import { readFetchResponses, type ReadValue } from "./imap_response_reader.ts";
import { corpus } from "./imap_render_helpers.ts";
import { withApp } from "./jmap_helpers.ts";
import { createUsers } from "./mail_helpers.ts";

/** Flags given to message i (i modulo the list); Dovecot's \Recent is not compared (RFC 9051 drops it). */
const FLAGS = [[], ["\\Seen"], ["\\Flagged", "$Forwarded"], ["\\Answered", "\\Draft", "$Junk"]];

const FACTS = "FLAGS INTERNALDATE RFC822.SIZE";
const RENDERED = "ENVELOPE BODYSTRUCTURE BODY.PEEK[1] BODY.PEEK[]<0.100> BODY.PEEK[1]<3.5> " +
  "BODY.PEEK[]<100000.10> BODY.PEEK[99] BODY.PEEK[HEADER] RFC822.SIZE";
/** One message at a time: an UNKNOWN-CTE NO ends the whole command. */
const BINARY = "BINARY.PEEK[1] BINARY.SIZE[1] BINARY.PEEK[1]<2.3>";

/** Where Postern answers differently on purpose: message, item, why. */
const DELIBERATE: { message: RegExp; item: RegExp; reason: string }[] = [
  {
    message: /barelf\.eml$/,
    item: /^RFC822\.SIZE$/,
    reason: "RFC822.SIZE without the message at hand is the stored size; a message stored with bare LFs " +
      "(only an import of such a blob makes one: SMTP and IMAP APPEND send CRLF) is served with CRLF, " +
      "so only a FETCH that also reads it reports the served size",
  },
  {
    message: /unknowncte\.eml$|weirdheaders\.eml$/,
    item: /^BINARY/,
    reason: "see test/imap_render_dovecot_test.ts: BINARY of an unknown or broken encoding",
  },
];

/** The messages Dovecot can serve (see imap_render_dovecot_test.ts's NOT_WITH_DOVECOT). */
function messages(): { name: string; bytes: Uint8Array }[] {
  return corpus().filter((m) => m.name.startsWith("test/fixtures/") && !/barecr\.eml$/.test(m.name));
}

function sortedFlags(value: ReadValue | undefined): ReadValue | undefined {
  if (!Array.isArray(value)) return value;
  return value.filter((f) => JSON.stringify(f) !== '{"atom":"\\\\Recent"}').map((f) => JSON.stringify(f))
    .sort();
}

Deno.test({
  name: "FETCH answers as Dovecot does for the same messages, flags and internal dates",
  ignore: !canRunDovecotImap(),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withApp(async (t) => {
      const [alice] = await createUsers(t, ["alice"]);
      const list = messages();
      const dates = list.map((_, i) => Date.UTC(2025, i % 12, 1 + i, i % 24, i, 7));
      for (let i = 0; i < list.length; i++) {
        await append(t, alice, "INBOX", {
          message: list[i].bytes,
          flags: FLAGS[i % FLAGS.length],
          internalDate: dates[i],
        });
      }
      const s = await selectedSession(t, alice);
      assert.equal(s.session.selected!.exists, list.length, "every message is its own email");
      const dovecot = await startDovecotImap(list.map((m) => m.bytes), { internalDates: dates });
      const mismatches: string[] = [];
      let compared = 0;
      try {
        for (let i = 0; i < list.length; i++) {
          const flags = FLAGS[i % FLAGS.length];
          if (flags.length) await dovecot.command(`STORE ${i + 1} FLAGS (${flags.join(" ")})`);
        }
        const commands = [
          `1:* (${FACTS})`,
          `1:* (${RENDERED})`,
          ...list.map((_, i) => `${i + 1} (${BINARY})`),
        ];
        for (const command of commands) {
          const raw = await dovecot.command(`FETCH ${command}`);
          const theirs = readFetchResponses(raw);
          const text = await s.run(`a FETCH ${command}`);
          const status = (answer: string) => /\r\n\S+ (OK|NO|BAD)[^\r]*\r\n$/.exec("\r\n" + answer)?.[1];
          const theirStatus = status(new TextDecoder("latin1").decode(raw.slice(-300)));
          const label = /^\d+ /.test(command) ? list[Number(command.split(" ")[0]) - 1].name : "";
          const excused = DELIBERATE.some((d) => d.message.test(label) && d.item.test("BINARY"));
          if (status(text) !== theirStatus && !excused) {
            mismatches.push(`FETCH ${command}: ${status(text)} vs Dovecot's ${theirStatus}`);
          }
          const ours = readFetchResponses(Uint8Array.from(text, (c) => c.charCodeAt(0)));
          for (let seq = 1; seq <= list.length; seq++) {
            const label = list[seq - 1].name;
            const a = ours.get(seq) ?? new Map();
            const b = theirs.get(seq) ?? new Map();
            // Dovecot adds UID to a message's answer when the command ends in NO; it was not asked.
            b.delete("UID");
            for (const name of new Set([...a.keys(), ...b.keys()])) {
              if (DELIBERATE.some((d) => d.message.test(label) && d.item.test(name))) continue;
              compared++;
              const x = name === "FLAGS" ? sortedFlags(a.get(name)) : a.get(name);
              const y = name === "FLAGS" ? sortedFlags(b.get(name)) : b.get(name);
              if (JSON.stringify(x) !== JSON.stringify(y)) {
                mismatches.push(
                  `${label} ${name}\n  ours:    ${JSON.stringify(x)}\n  dovecot: ${JSON.stringify(y)}`,
                );
              }
            }
          }
        }
      } finally {
        await dovecot.stop();
      }
      assert.ok(compared > list.length * 10, `only ${compared} items compared`);
      assert.deepEqual(mismatches, [], `${mismatches.length} of ${compared} items differ from Dovecot's`);
    }),
});
