/**
 * The IMAP render corpus and the FETCH items asked of each message, shared by the golden test and
 * the Dovecot differential test.
 */
import type { FetchItem, Section } from "../src/imap/command.ts";
import { type ImapMessage, resolvePart, sectionName } from "../src/imap/render/mod.ts";

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
export function wire(item: FetchItem): string {
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

export const WHOLE: FetchItem[] = [
  "ENVELOPE",
  "BODYSTRUCTURE",
  "BODY",
  "RFC822.SIZE",
  "RFC822.HEADER",
  "RFC822.TEXT",
  "RFC822",
]
  .map((kind) => ({ kind } as FetchItem));

/** BINARY and BINARY.SIZE of the whole message and of every part, and one partial. */
export function binaryItems(message: ImapMessage): FetchItem[] {
  const items: FetchItem[] = [{ kind: "BINARY[]", peek: true, part: [] }];
  for (const part of partPaths(message)) {
    items.push({ kind: "BINARY[]", peek: true, part }, { kind: "BINARY.SIZE", part });
  }
  items.push({ kind: "BINARY[]", peek: true, part: [1], partial: { offset: 2, length: 7 } });
  return items;
}

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
export function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One to six random damages: truncation, odd bytes inserted, a line repeated, bytes cut, a boundary. */
export function mutate(raw: Uint8Array, next: () => number): Uint8Array {
  const bytes = [...raw];
  const steps = 1 + Math.floor(next() * 6);
  for (let s = 0; s < steps; s++) {
    const at = Math.floor(next() * (bytes.length + 1));
    switch (Math.floor(next() * 5)) {
      case 0:
        bytes.length = at;
        break;
      case 1:
        bytes.splice(
          at,
          0,
          ...[0, 13, 10, 0xff, 0x80, 58, 59, 61, 34, 40, 60].slice(Math.floor(next() * 10)),
        );
        break;
      case 2: {
        const lineStart = bytes.lastIndexOf(10, at) + 1;
        let lineEnd = bytes.indexOf(10, at);
        if (lineEnd === -1) lineEnd = bytes.length;
        bytes.splice(at, 0, ...bytes.slice(lineStart, lineEnd + 1));
        break;
      }
      case 3:
        bytes.splice(at, Math.floor(next() * 40));
        break;
      default:
        bytes.splice(
          at,
          0,
          ...new TextEncoder().encode("\r\n--b1--\r\nContent-Type: message/rfc822\r\n\r\n"),
        );
    }
  }
  return new Uint8Array(bytes);
}
