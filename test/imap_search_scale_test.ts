/**
 * SEARCH on a large mailbox (10,000 messages; `IMAP_SEARCH_MESSAGES` sets another count): `1:*` and
 * `UID 1:*` answer every message (the sets are applied to the query's result, never turned into a
 * 10,000-id condition), text keys answer what the generated words say, and a micro measurement of
 * `UID SEARCH TEXT` (median of 20 runs through the session's handler) is printed, never asserted,
 * beside Dovecot's on the same messages when Dovecot can run (its answers must be the same).
 */
import assert from "node:assert/strict";
import { decodeId } from "../src/model/ids.ts";
import { canRunDovecotImap, startDovecotImap } from "./imap_dovecot_helpers.ts";
import { SearchSession } from "./imap_search_helpers.ts";
import { withApp } from "./jmap_helpers.ts";
import { createUsers } from "./mail_helpers.ts";

const COUNT = Number(Deno.env.get("IMAP_SEARCH_MESSAGES") ?? 10_000);
const WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"];

/** Message n: word n % 10 in its subject, word (n / 10) % 10 in its body, "rare" in every 1,000th body. */
function generated(n: number): Uint8Array {
  const body = `Report ${n}: ${WORDS[Math.floor(n / 10) % 10]} figures${n % 1000 === 0 ? " rare" : ""}.\r\n`;
  return new TextEncoder().encode(
    `From: sender${n % 50}@example.net\r\nTo: alice@example.org\r\nSubject: ${WORDS[n % 10]} ${n}\r\n` +
      `Message-ID: <n${n}@scale>\r\nDate: Mon, 02 Jan 2023 10:00:00 +0000\r\n\r\n${body}`,
  );
}

Deno.test("SEARCH on a large mailbox: 1:* and UID 1:* answer every message; UID SEARCH TEXT measured", () =>
  withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice"]);
    const viewer = decodeId(alice.accountId)!;
    const inbox = (await t.services.imapMailboxes.resolve(viewer, "INBOX"))!;
    const loadStart = performance.now();
    for (let n = 0; n < COUNT; n += 200) {
      const items = [];
      for (let i = n; i < Math.min(COUNT, n + 200); i++) {
        const blob = await t.services.blobs.upload(viewer, viewer, {
          data: generated(i),
          type: "message/rfc822",
        });
        items.push({ blobId: blob.blobId, mailboxIds: [inbox.mailboxId], keywords: i % 3 ? [] : ["$seen"] });
      }
      const results = await t.services.emails.import(viewer, viewer, items);
      assert.ok(results.every((r) => !("type" in r)), "every import succeeds");
    }
    const loaded = performance.now() - loadStart;
    const s = await SearchSession.open(t, viewer, "INBOX");
    const count = async (command: string) => {
      const { data, status } = await s.answer(command, "ESEARCH");
      assert.match(status, /^t\d+ OK/, command);
      return Number(/COUNT (\d+)/.exec(data!)![1]);
    };
    assert.equal(await count("SEARCH RETURN (COUNT) 1:*"), COUNT);
    assert.equal(await count("UID SEARCH RETURN (COUNT) UID 1:*"), COUNT);
    assert.equal(await count("SEARCH RETURN (COUNT) 1:* NOT 1:*"), 0);
    assert.equal(await count("SEARCH RETURN (COUNT) OR 1:* SEEN"), COUNT);
    assert.equal(await count("SEARCH RETURN (COUNT) UNSEEN"), COUNT - Math.ceil(COUNT / 3));
    assert.equal(await count("SEARCH RETURN (COUNT) SUBJECT bravo"), COUNT / 10);
    assert.equal(await count("UID SEARCH RETURN (COUNT) TEXT rare"), COUNT / 1000);
    const all = await s.numbers("UID SEARCH 1:*");
    assert.equal(all.length, COUNT);

    const ours: Record<string, number> = {};
    for (const command of COMMANDS) ours[command] = await median(() => s.numbers(command));
    const theirs = canRunDovecotImap() ? await dovecotTimings(s) : undefined;
    console.log(
      `${COUNT} messages (loaded in ${(loaded / 1000).toFixed(1)} s); p50 of 20 runs, Postern's handler in ` +
        `process${theirs ? " / Dovecot 2.3 without FTS over loopback" : ""}:\n` +
        COMMANDS.map((c) =>
          `  ${c}: ${ours[c].toFixed(1)} ms${theirs ? ` / ${theirs[c].toFixed(1)} ms` : ""}`
        )
          .join("\n"),
    );
  }));

const COMMANDS = ["UID SEARCH TEXT rare", "UID SEARCH TEXT delta", "UID SEARCH BODY golf SEEN"];

async function median(run: () => Promise<unknown>): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < 20; i++) {
    const start = performance.now();
    await run();
    runs.push(performance.now() - start);
  }
  return runs.sort((a, b) => a - b)[10];
}

/** The same searches on a Dovecot holding the same messages (flags as Postern's), answers checked equal. */
async function dovecotTimings(s: SearchSession): Promise<Record<string, number>> {
  const messages = Array.from({ length: COUNT }, (_, n) => generated(n));
  const dovecot = await startDovecotImap(messages);
  try {
    await dovecot.command("STORE 1:* +FLAGS.SILENT (\\Seen)");
    const unseen = Array.from({ length: COUNT }, (_, n) => n + 1).filter((seq) => (seq - 1) % 3 !== 0);
    for (let i = 0; i < unseen.length; i += 500) {
      await dovecot.command(`STORE ${unseen.slice(i, i + 500).join(",")} -FLAGS.SILENT (\\Seen)`);
    }
    const decoder = new TextDecoder();
    const out: Record<string, number> = {};
    for (const command of COMMANDS) {
      const answer = decoder.decode(await dovecot.command(command));
      const line = answer.split("\r\n").find((l) => l.startsWith("* SEARCH"))!;
      assert.deepEqual(line.split(" ").slice(2).map(Number), await s.numbers(command), command);
      out[command] = await median(() => dovecot.command(command));
    }
    return out;
  } finally {
    await dovecot.stop();
  }
}
