/**
 * FETCH renderings compared with Dovecot's (Debian `dovecot-core`, `dovecot-imapd`): every message
 * of the corpus (test/fixtures/imap_render/ and test/corpus/) is put in a private Dovecot's Maildir
 * and each item (ENVELOPE, BODYSTRUCTURE, BODY, RFC822.*, BODY[section]<partial> for every part and
 * section form, BINARY[part], BINARY.SIZE[part]) is fetched from it and rendered by
 * src/imap/render/; both answers are read as structures and must be equal octet for octet, except
 * the deliberate differences listed in DELIBERATE with their reasons. Skips without Dovecot or root.
 */
import assert from "node:assert/strict";
import type { FetchItem, Section } from "../src/imap/command.ts";
import { ImapMessage, renderFetchItem, resolvePart, sectionName } from "../src/imap/render/mod.ts";
import { canRunDovecotImap, startDovecotImap } from "./imap_dovecot_helpers.ts";
import { normalize, readFetchResponses, type ReadValue } from "./imap_response_reader.ts";

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

/** The corpus: our IMAP fixtures and the JMAP parser's corpus. */
export function corpus(): { name: string; bytes: Uint8Array }[] {
  const out: { name: string; bytes: Uint8Array }[] = [];
  for (const dir of ["test/fixtures/imap_render", "test/corpus"]) {
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".eml")).sort();
    for (const name of names) {
      out.push({ name: `${dir}/${name}`, bytes: Deno.readFileSync(`${dir}/${name}`) });
    }
  }
  return out;
}

/** Every part path of a message (depth ≤ 4), and one that does not exist under each. */
export function partPaths(message: ImapMessage): number[][] {
  const out: number[][] = [];
  const walk = (prefix: number[]) => {
    if (prefix.length >= 4) return;
    for (let n = 1;; n++) {
      const path = [...prefix, n];
      out.push(path);
      if (!resolvePart(message, path)) return;
      walk(path);
    }
  };
  walk([]);
  return out;
}

/** The BODY[section] items asked of each message. */
export function sectionItems(message: ImapMessage): FetchItem[] {
  const sections: Section[] = [
    { part: [] },
    { part: [], text: "HEADER" },
    { part: [], text: "TEXT" },
    { part: [], text: "HEADER.FIELDS", fields: ["From", "subject", "CONTENT-TYPE", "x-missing"] },
    { part: [], text: "HEADER.FIELDS.NOT", fields: ["Date", "to", "Message-ID"] },
  ];
  for (const part of partPaths(message)) {
    sections.push({ part }, { part, text: "MIME" }, { part, text: "HEADER" }, { part, text: "TEXT" });
    sections.push({ part, text: "HEADER.FIELDS", fields: ["Subject", "content-type"] });
  }
  const items: FetchItem[] = sections.map((section) => ({ kind: "BODY[]", peek: true, section }));
  items.push({ kind: "BODY[]", peek: true, section: { part: [] }, partial: { offset: 0, length: 20 } });
  items.push({
    kind: "BODY[]",
    peek: true,
    section: { part: [], text: "TEXT" },
    partial: { offset: 5, length: 10 },
  });
  items.push({
    kind: "BODY[]",
    peek: true,
    section: { part: [1] },
    partial: { offset: 1_000_000, length: 5 },
  });
  return items;
}

/** The item as a FETCH command asks for it. */
function wire(item: FetchItem): string {
  const range = (p: { offset: number; length: number } | undefined) => p ? `<${p.offset}.${p.length}>` : "";
  switch (item.kind) {
    case "BODY[]":
      return `BODY.PEEK[${sectionName(item.section)}]${range(item.partial)}`;
    case "BINARY[]":
      return `BINARY.PEEK[${item.part.join(".")}]${range(item.partial)}`;
    case "BINARY.SIZE":
      return `BINARY.SIZE[${item.part.join(".")}]`;
    default:
      return item.kind;
  }
}

const WHOLE: FetchItem[] = [
  "ENVELOPE",
  "BODYSTRUCTURE",
  "BODY",
  "RFC822.SIZE",
  "RFC822.HEADER",
  "RFC822.TEXT",
]
  .map((kind) => ({ kind } as FetchItem));

Deno.test({
  name: "every FETCH rendering of the corpus equals Dovecot's",
  ignore: !canRunDovecotImap(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const messages = corpus().filter((m) => !NOT_WITH_DOVECOT.some((n) => n.message.test(m.name)));
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
        const items = [...WHOLE, { kind: "RFC822" } as FetchItem, ...sectionItems(message)];
        const answer = readFetchResponses(
          await dovecot.command(`FETCH ${seq} (${items.map(wire).join(" ")})`),
        );
        const theirs = answer.get(seq) ?? new Map();
        for (const item of items) {
          const rendered = renderFetchItem(message, item);
          if (!rendered?.ok) throw new Error(`${label}: ${wire(item)} did not render`);
          compare(label, rendered.name, normalize(rendered.value), theirs.get(rendered.name));
        }
        // BINARY items one per command: an UNKNOWN-CTE NO ends the whole command.
        const binaries: FetchItem[] = [{ kind: "BINARY[]", peek: true, part: [] }];
        for (const part of partPaths(message)) {
          binaries.push({ kind: "BINARY[]", peek: true, part }, { kind: "BINARY.SIZE", part });
        }
        binaries.push({ kind: "BINARY[]", peek: true, part: [1], partial: { offset: 2, length: 7 } });
        for (const item of binaries) {
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
    assert.deepEqual(mismatches, [], `${mismatches.length} of ${compared} renderings differ from Dovecot's`);
  },
});
