/**
 * FETCH renderings compared with Dovecot's (Debian `dovecot-core`, `dovecot-imapd`): every message
 * of the corpus (test/fixtures/imap_render/ and test/corpus/) is put in a private Dovecot's Maildir
 * and each item (ENVELOPE, BODYSTRUCTURE, BODY, RFC822.*, BODY[section]<partial> for every part and
 * section form, BINARY[part], BINARY.SIZE[part]) is fetched from it and rendered by
 * src/imap/render/; both answers are read as structures and must be equal octet for octet, except
 * the deliberate differences listed in DELIBERATE with their reasons. Skips without Dovecot or root.
 */
import assert from "node:assert/strict";
import { ImapMessage, renderFetchItem } from "../src/imap/render/mod.ts";
import { canRunDovecotImap, startDovecotImap } from "./imap_dovecot_helpers.ts";
import { normalize, readFetchResponses, type ReadValue } from "./imap_response_reader.ts";
import { binaryItems, corpus, mutate, random, sectionItems, WHOLE, wire } from "./imap_render_helpers.ts";

/** Where Postern answers differently on purpose: the message and item they concern, and why. */
const DELIBERATE: { message?: RegExp; item: RegExp; reason: string }[] = [
  {
    item: /^BINARY(\.SIZE)?\[\]/,
    reason: "BINARY of the whole message is served as stored; Dovecot re-encodes every part of it " +
      "(decoded bodies, rewritten Content-Transfer-Encoding headers), which costs a full decode " +
      "and which clients do not use: they fetch BINARY of leaf parts",
  },
  {
    message: /nested-multipart\.eml$/,
    item: /^BINARY(\.SIZE)?\[(1|1\.2)\]/,
    reason: "the same for BINARY of a multipart part (1 and 1.2 are multiparts): served as stored",
  },
  {
    message: /unknowncte\.eml$/,
    item: /^BINARY\.SIZE\[2(\.1)?\]/,
    reason: "Dovecot answers BINARY.SIZE of any part NO [UNKNOWN-CTE] when another part of the message " +
      "has an unknown encoding (it sizes all parts at once); part 2 is base64 and has a size",
  },
  {
    message: /weirdheaders\.eml$/,
    item: /^BINARY(\.SIZE)?\[1\]/,
    reason: "Dovecot answers NO [PARSE] for quoted-printable with a bad escape (=ZZ); Postern decodes " +
      "it leniently (the bad escape kept), the same octets JMAP's blob download gives for that part",
  },
];

/** Messages Dovecot itself cannot serve, left out of the comparison (the golden test covers them). */
const NOT_WITH_DOVECOT: { message: RegExp; reason: string }[] = [
  {
    message: /barecr\.eml$/,
    reason: "Dovecot 2.3.19 miscounts a bare CR in a Maildir file and drops the connection " +
      '("Broken MIME parts … got too little data") on a partial fetch of it',
  },
];

/** Fetches every item of every message from a Dovecot holding them, and lists where ours differ. */
async function compareWithDovecot(
  messages: { name: string; bytes: Uint8Array }[],
  options: { binary: boolean },
): Promise<{ mismatches: string[]; compared: number }> {
  const dovecot = await startDovecotImap(messages.map((m) => m.bytes));
  const mismatches: string[] = [];
  let compared = 0;
  const compare = (
    label: string,
    name: string,
    ours: ReadValue | "NO",
    theirs: ReadValue | "NO" | undefined,
  ) => {
    if (DELIBERATE.some((d) => d.item.test(name) && (d.message?.test(label) ?? true))) return;
    compared++;
    if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
      mismatches.push(
        `${label} ${name}\n  ours:    ${JSON.stringify(ours)}\n  dovecot: ${JSON.stringify(theirs)}`,
      );
    }
  };
  try {
    for (let index = 0; index < messages.length; index++) {
      const seq = index + 1;
      const label = messages[index].name;
      const message = new ImapMessage(messages[index].bytes);
      const items = [...WHOLE, ...sectionItems(message)];
      const answer = readFetchResponses(await dovecot.command(`FETCH ${seq} (${items.map(wire).join(" ")})`));
      const theirs = answer.get(seq) ?? new Map();
      for (const item of items) {
        const rendered = renderFetchItem(message, item);
        if (!rendered?.ok) throw new Error(`${label}: ${wire(item)} did not render`);
        compare(label, rendered.name, normalize(rendered.value), theirs.get(rendered.name));
      }
      if (!options.binary) continue;
      // BINARY items one per command: an UNKNOWN-CTE NO ends the whole command.
      for (const item of binaryItems(message)) {
        const raw = await dovecot.command(`FETCH ${seq} (${wire(item)})`);
        const no = /\r\nt\d+ NO \[UNKNOWN-CTE\]/.test("\r\n" + String.fromCharCode(...raw.slice(-200)));
        const rendered = renderFetchItem(message, item)!;
        if (!rendered.ok) {
          compare(label, wire(item), "NO", no ? "NO" : "OK");
          continue;
        }
        const value = no ? "NO" : readFetchResponses(raw).get(seq)?.get(rendered.name);
        compare(label, rendered.name, normalize(rendered.value), value);
      }
    }
  } finally {
    await dovecot.stop();
  }
  return { mismatches, compared };
}

Deno.test({
  name: "every FETCH rendering of the corpus equals Dovecot's",
  ignore: !canRunDovecotImap(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const messages = corpus().filter((m) => !NOT_WITH_DOVECOT.some((n) => n.message.test(m.name)));
    const { mismatches, compared } = await compareWithDovecot(messages, { binary: true });
    assert.deepEqual(mismatches, [], `${mismatches.length} of ${compared} renderings differ from Dovecot's`);
  },
});

Deno.test({
  name: "FETCH renderings of mutated corpus messages equal Dovecot's (fixed seed)",
  ignore: !canRunDovecotImap(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const sources = corpus().filter((m) =>
      m.name.startsWith("test/fixtures/") && !NOT_WITH_DOVECOT.some((n) => n.message.test(m.name))
    );
    const next = random(Number(Deno.env.get("MUTATION_SEED") ?? 9051));
    const messages = Array.from({ length: 60 }, (_, i) => {
      const source = sources[i % sources.length];
      return { name: `${source.name}#${i}`, bytes: mutate(source.bytes, next) };
    });
    const { mismatches, compared } = await compareWithDovecot(messages, { binary: false });
    // SHOW_ALL=1 lists the known differences too (to work on them).
    const all = Deno.env.get("SHOW_ALL") === "1";
    const unknown = mismatches.filter((m) => all || !NOT_YET_MATCHED.includes(m.split("\n")[0]));
    assert.deepEqual(unknown, [], `${unknown.length} of ${compared} renderings differ from Dovecot's`);
  },
});

/**
 * Differences on badly damaged messages (seed 9051) not matched yet, so the test catches any new
 * one: Dovecot's placeholders INVALID_ROUTE/SYNTAX_ERROR for some broken addresses, a quoted word
 * run into a header name, Content-* fields of a message without MIME-Version or Content-Type
 * (Dovecot ignores them), and structures where a damaged header or boundary is read differently.
 */
const NOT_YET_MATCHED = [
  "mixed.eml#11 BODYSTRUCTURE",
  "mixed.eml#11 BODY",
  "params.eml#16 ENVELOPE",
  "badaddr.eml#22 ENVELOPE",
  "binarypart.eml#24 BODY[HEADER.FIELDS (FROM SUBJECT CONTENT-TYPE X-MISSING)]",
  "binarypart.eml#24 BODY[1.HEADER.FIELDS (SUBJECT CONTENT-TYPE)]",
  "digest.eml#25 BODY[1.HEADER.FIELDS (SUBJECT CONTENT-TYPE)]",
  "nested.eml#33 BODYSTRUCTURE",
  "nested.eml#33 BODY",
  "params.eml#37 BODYSTRUCTURE",
  "eightbit.eml#47 ENVELOPE",
  "groups.eml#50 ENVELOPE",
  "nested.eml#54 ENVELOPE",
].map((entry) => `test/fixtures/imap_render/${entry}`);
