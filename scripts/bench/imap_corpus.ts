/**
 * The IMAP benchmark's mailbox: `count` realistic messages of 2 to 20 KB made from a seed, the
 * same bytes for Postern and Dovecot, and how each server's copy is loaded.
 *
 * 1. The corpus is generated once per seed and count into a cache directory under the system's
 *    temporary directory (one file per message, LF line endings as a Maildir keeps them), so a
 *    second run starts at once. It is written under a temporary name and renamed when complete.
 * 2. Dovecot's copy: hard links of the cached files into a Maildir's cur/, named as Dovecot's own
 *    delivery names them (`,S=` the size on disk, `,W=` the size with CRLF) with the message's flags
 *    in the `:2,` info, in increasing order so UIDs follow the corpus order.
 * 3. Postern's copy: the store's own import path in-process (blob upload, then Email/import's
 *    service 500 at a time), with CRLF line endings and the same flags as keywords.
 *
 * Messages: plain text or multipart/alternative (text and HTML), from one of 300 senders, in one of
 * 2,000 conversations; words from a common list and a rarer one (see {@link SEARCH_WORDS}).
 */
import type { Services } from "../../src/services.ts";

/** What the search figures look for: a word in nearly every message, and one in few. */
export const SEARCH_WORDS = { common: "water", rare: "zenith" } as const;

const COMMON = ("the of and to in is you that it he was for on are as with his they at be this have " +
  "from or one had by word but not what all were we when your can said there use an each which she do " +
  "how their if will up other about out many then them these so some her would make like him into time " +
  "has look two more write go see number no way could people my than first water been call who oil its " +
  "now find long down day").split(" ");
const RARE = (() => {
  const syllables = ["ka", "lo", "mi", "ren", "sto", "qua", "vel", "dor", "ish", "zen", "pra", "tul"];
  const words: string[] = [];
  for (let i = 0; i < 3000; i++) {
    words.push(syllables[i % 12] + syllables[(i * 7 + 3) % 12] + syllables[(i * 5 + 1) % 12] + (i % 10));
  }
  return words;
})();

/** A small deterministic generator (mulberry32) seeded per message, so any message can be made alone. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The flags message `i` carries on both servers: two thirds seen, one in 20 flagged. */
export function flagsOf(i: number): { seen: boolean; flagged: boolean } {
  return { seen: i % 3 !== 0, flagged: i % 20 === 7 };
}

function paragraph(next: () => number, bytes: number, rareWord: string | undefined): string[] {
  const lines: string[] = [];
  let line = rareWord ?? "";
  let size = 0;
  while (size < bytes) {
    const word = next() < 0.9
      ? COMMON[Math.floor(next() * COMMON.length)]
      : RARE[Math.floor(next() * RARE.length)];
    line += (line ? " " : "") + word;
    if (line.length > 70) {
      lines.push(line);
      size += line.length + 1;
      line = "";
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** Message `i` of the corpus of `seed`, LF line endings. */
export function corpusMessage(seed: number, i: number): string {
  const next = random(seed * 1_000_003 + i);
  // Sizes between 2 and 20 KB, smaller ones more common (log-uniform).
  const target = Math.round(2048 * Math.pow(10, next()));
  const thread = Math.floor(next() * 2000);
  const sender = Math.floor(next() * 300);
  // One message in 200 carries the rare search word (first in its body).
  const rare = i % 200 === 13 ? SEARCH_WORDS.rare : undefined;
  const date = new Date(Date.UTC(2026, 0, 1) + i * 137_000);
  const headers = [
    `Return-Path: <sender${sender}@example.net>`,
    `From: Sender ${sender} <sender${sender}@example.net>`,
    "To: Bench Reader <reader@example.org>",
    `Subject: ${thread % 3 ? "Re: " : ""}Conversation ${thread} about ${RARE[thread]}`,
    `Date: ${date.toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <m${i}.s${seed}@example.net>`,
    ...(thread % 3 ? [`In-Reply-To: <t${thread}.s${seed}@example.net>`] : []),
    "MIME-Version: 1.0",
  ];
  const text = paragraph(next, Math.max(600, target - 900), rare);
  if (next() < 0.7) {
    return [...headers, "Content-Type: text/plain; charset=utf-8", "", ...text, ""].join("\n");
  }
  const boundary = `b${seed}x${i}`;
  const half = Math.ceil(text.length / 2);
  return [
    ...headers,
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=utf-8",
    "",
    ...text.slice(0, half),
    `--${boundary}`,
    "Content-Type: text/html; charset=utf-8",
    "",
    "<html><body>",
    ...text.slice(half).map((l) => `<p>${l}</p>`),
    "</body></html>",
    `--${boundary}--`,
    "",
  ].join("\n");
}

/** The generator's version, in the cache's name: a changed generator never reuses an old corpus. */
const VERSION = 2;

/** The cache directory of a corpus; its files are `<i>.eml`, 0-based. */
export async function corpusDir(seed: number, count: number): Promise<string> {
  const base = Deno.env.get("TMPDIR") ?? "/tmp";
  const dir = `${base}/postern-imap-corpus-v${VERSION}-s${seed}-n${count}`;
  try {
    await Deno.stat(`${dir}/complete`);
    return dir;
  } catch { /* not made yet */ }
  const partial = `${dir}.${Deno.pid}.partial`;
  await Deno.mkdir(partial, { recursive: true });
  const encoder = new TextEncoder();
  for (let i = 0; i < count; i++) {
    await Deno.writeFile(`${partial}/${i}.eml`, encoder.encode(corpusMessage(seed, i)), { mode: 0o644 });
  }
  await Deno.writeTextFile(`${partial}/complete`, `${count}\n`);
  await Deno.chmod(partial, 0o755);
  await Deno.remove(dir, { recursive: true }).catch(() => undefined);
  await Deno.rename(partial, dir);
  return dir;
}

/** Message `i` of a cached corpus with CRLF line endings, as a client sends it. */
export async function crlfMessage(dir: string, i: number): Promise<Uint8Array<ArrayBuffer>> {
  const text = await Deno.readTextFile(`${dir}/${i}.eml`);
  return new TextEncoder().encode(text.replaceAll("\n", "\r\n"));
}

/** Fills `maildir` (created; its cur/, new/ and tmp/ the `uid`'s) with hard links to the corpus. */
export async function linkMaildir(dir: string, maildir: string, options: { count: number; uid: number }) {
  for (const sub of ["cur", "new", "tmp"]) await Deno.mkdir(`${maildir}/${sub}`, { recursive: true });
  for (let i = 0; i < options.count; i++) {
    const source = `${dir}/${i}.eml`;
    const { size } = await Deno.stat(source);
    const lines = await countLines(source);
    const { seen, flagged } = flagsOf(i);
    const info = `${flagged ? "F" : ""}${seen ? "S" : ""}`;
    const name = `${1_700_000_000 + i}.M${i}P1.bench,S=${size},W=${size + lines}:2,${info}`;
    await Deno.link(source, `${maildir}/cur/${name}`);
  }
  for (const path of [maildir, `${maildir}/cur`, `${maildir}/new`, `${maildir}/tmp`]) {
    await Deno.chown(path, options.uid, options.uid);
  }
}

async function countLines(path: string): Promise<number> {
  const bytes = await Deno.readFile(path);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10) n++;
  return n;
}

/** Imports the corpus into `login`'s Inbox through the store's import, 500 messages at a time. */
export async function importCorpus(
  services: Services,
  dir: string,
  options: { login: string; count: number; progress?: (done: number) => void },
): Promise<void> {
  const id = await services.accounts.idByLogin(options.login);
  if (id === undefined) throw new Error(`no account ${options.login}`);
  const inbox = (await services.mailboxes.list(id, id)).find((m) => m.role === "inbox")!.id;
  for (let start = 0; start < options.count; start += 500) {
    const items = [];
    for (let i = start; i < Math.min(options.count, start + 500); i++) {
      const upload = await services.blobs.upload(id, id, {
        data: await crlfMessage(dir, i),
        type: "message/rfc822",
      });
      const { seen, flagged } = flagsOf(i);
      const keywords = [...(seen ? ["$seen"] : []), ...(flagged ? ["$flagged"] : [])];
      items.push({ blobId: upload.blobId, mailboxIds: [inbox], keywords });
    }
    for (const result of await services.emails.import(id, id, items)) {
      if ("type" in result) throw new Error(`import failed: ${JSON.stringify(result)}`);
    }
    options.progress?.(Math.min(options.count, start + 500));
  }
}
