/**
 * MIME import: generated messages (valid templates, then broken: boundaries, nesting, charsets and
 * transfer encodings, long header lines, unterminated `<` HTML, one huge word) uploaded as the plain
 * user, imported with Email/import, then read back with Email/get (every body value) and
 * SearchSnippet/get. Each message stays under `maxBytes` so a run stays short.
 */
import { FuzzFailure, truncate } from "./client.ts";
import { type FuzzContext, jmapRequest, remember, responsesOf, type Surface } from "./context.ts";
import { oddString, type Random } from "./random.ts";

/** The default largest generated message, in bytes (the runs went to a few hundred KB). */
export const MAX_MESSAGE_BYTES = 256 * 1024;

const CHARSETS = [
  "utf-8",
  "us-ascii",
  "iso-8859-1",
  "windows-1252",
  "koi8-r",
  "shift_jis",
  "utf-16",
  "x-unknown",
  "",
  '"',
];
const ENCODINGS = ["7bit", "8bit", "binary", "quoted-printable", "base64", "x-uuencode", "bogus", ""];
const TYPES = [
  "text/plain",
  "text/html",
  "text/enriched",
  "application/octet-stream",
  "image/png",
  "message/rfc822",
  "multipart/mixed",
  "multipart/alternative",
  "multipart/related",
  "multipart/digest",
  "text",
  "",
];

/** One message through upload, import and reading back. */
export const mimeSurface: Surface = async (rng, ctx) => {
  const message = generate(rng, ctx.maxMessageBytes);
  try {
    await importAndRead(rng, ctx, message);
  } catch (error) {
    if (error instanceof FuzzFailure) {
      error.detail = `message (${message.length} bytes): ${
        truncate(new TextDecoder().decode(message.subarray(0, 3000)), 1500)
      }`;
    }
    throw error;
  }
};

async function importAndRead(rng: Random, ctx: FuzzContext, message: Uint8Array<ArrayBuffer>): Promise<void> {
  const user = ctx.server.user;
  const uploaded = await ctx.client.send({
    method: "POST",
    path: `/jmap/upload/${user.accountId}/`,
    headers: { authorization: user.bearer, "content-type": "message/rfc822" },
    body: message,
  });
  const blobId = (uploaded.json as { blobId?: string } | undefined)?.blobId;
  if (!blobId) return;
  remember(ctx, "blob", blobId);
  const imported = await ctx.client.send(jmapRequest(ctx, user, {
    using: ctx.server.capabilities,
    methodCalls: [
      ["Email/import", {
        accountId: user.accountId,
        emails: { m: { blobId, mailboxIds: { [ctx.server.mailboxIds[0]]: true }, keywords: {} } },
      }, "0"],
      ["Email/parse", { accountId: user.accountId, blobIds: [blobId], fetchAllBodyValues: true }, "1"],
    ],
  }));
  const emailId = (responsesOf(imported.json)[0]?.[1]?.created as Record<string, { id?: string }> | undefined)
    ?.m
    ?.id;
  if (!emailId) return;
  remember(ctx, "Email", emailId);
  await readBack(rng, ctx, emailId, message);
}

async function readBack(rng: Random, ctx: FuzzContext, emailId: string, message: Uint8Array): Promise<void> {
  const user = ctx.server.user;
  // A word of the message as the search text, so the snippet has something to trim around.
  const words = new TextDecoder().decode(message.subarray(0, 4000)).split(/[^A-Za-z]+/).filter((w) =>
    w.length > 3
  );
  const text = words.length ? rng.pick(words) : "fuzz";
  await ctx.client.send(jmapRequest(ctx, user, {
    using: ctx.server.capabilities,
    methodCalls: [
      ["Email/get", {
        accountId: user.accountId,
        ids: [emailId],
        properties: [
          "id",
          "blobId",
          "subject",
          "from",
          "preview",
          "bodyStructure",
          "bodyValues",
          "textBody",
          "htmlBody",
        ],
        fetchAllBodyValues: true,
        maxBodyValueBytes: rng.pick([0, 1, 100, 1_000_000]),
      }, "0"],
      ["SearchSnippet/get", { accountId: user.accountId, filter: { text }, emailIds: [emailId] }, "1"],
      ["Email/query", { accountId: user.accountId, filter: { text }, limit: 5 }, "2"],
    ],
  }));
}

/** A message of at most `max` bytes (mostly far smaller). */
export function generate(rng: Random, max: number): Uint8Array<ArrayBuffer> {
  const budget = rng.chance(0.3) ? max : rng.size(max);
  const boundary = `b${rng.int(0, 1e9)}`;
  const headers = headerBlock(rng, budget);
  const body = part(rng, Math.max(0, budget - headers.length), 0);
  const top = rng.chance(0.6)
    ? `Content-Type: multipart/${rng.pick(["mixed", "alternative", "related"])}; boundary="${boundary}"\r\n` +
      `MIME-Version: 1.0\r\n\r\npreamble\r\n--${boundary}\r\n${body}\r\n--${boundary}${
        rng.chance(0.8) ? "--" : ""
      }\r\n${rng.chance(0.3) ? "epilogue" : ""}`
    : body;
  let text = headers + top;
  if (rng.chance(0.1)) text = text.replaceAll("\r\n", rng.pick(["\n", "\r", "\n\r"]));
  const bytes = new TextEncoder().encode(text);
  return bytes.length > max ? bytes.slice(0, max) : bytes;
}

function headerBlock(rng: Random, budget: number): string {
  const lines = [
    `From: ${
      rng.pick(["Fuzz <fuzz@example.org>", "=?utf-8?B?w6k=?= <a@b>", "<>", "a@", oddString(rng, 200)])
    }`,
    `To: fuzzuser@example.org`,
    `Subject: ${rng.pick(["hello", "=?utf-8?Q?caf=C3=A9?=", "=?bogus?X?zz?=", oddString(rng, 500)])}`,
    `Date: ${
      rng.pick(["Sun, 06 Dec 2026 12:00:00 +0000", "yesterday", "Thu, 31 Feb 9999 99:99:99 +9999", ""])
    }`,
    `Message-ID: <${rng.int(0, 1e9)}@example.org>`,
  ];
  if (rng.chance(0.2)) lines.push(`X-Long: ${"a".repeat(Math.min(budget, rng.size(100_000)))}`);
  if (rng.chance(0.2)) {
    lines.push(`References: ${Array.from({ length: rng.size(500) }, (_, i) => `<${i}@x>`).join(" ")}`);
  }
  if (rng.chance(0.1)) lines.push(`X-Folded: a\r\n${"\t b\r\n".repeat(rng.size(2000))} c`);
  if (rng.chance(0.1)) lines.push(`Received: ${oddString(rng, 1000)}`);
  return lines.filter(() => rng.chance(0.95)).join("\r\n") + "\r\n";
}

function part(rng: Random, budget: number, depth: number): string {
  const type = depth === 0 && rng.chance(0.3) ? "text/html" : rng.pick(TYPES);
  if (type.startsWith("multipart/") && depth < rng.pick([2, 5, 40])) {
    const boundary = rng.chance(0.9)
      ? `n${depth}x${rng.int(0, 1e6)}`
      : rng.pick(["", "--", " ", "a".repeat(100)]);
    const children = Array.from(
      { length: rng.int(0, 4) },
      () => part(rng, Math.floor(budget / 4), depth + 1),
    );
    const closing = rng.chance(0.85) ? `\r\n--${boundary}--\r\n` : "";
    return `Content-Type: ${type}; boundary="${boundary}"\r\n\r\n` +
      children.map((c) => `--${boundary}\r\n${c}\r\n`).join("") + closing;
  }
  if (type === "message/rfc822" && depth < 10) {
    return `Content-Type: message/rfc822\r\n\r\n${headerBlock(rng, budget)}${
      part(rng, budget / 2, depth + 1)
    }`;
  }
  const charset = rng.pick(CHARSETS);
  const encoding = rng.pick(ENCODINGS);
  const content = encode(rng, encoding, bodyText(rng, type, Math.max(0, Math.floor(budget))));
  const params = rng.chance(0.2)
    ? `; name*=${rng.pick(["utf-8''%E2%82%AC.txt", "bogus'x'%zz"])}; format=flowed`
    : "";
  return `Content-Type: ${type}; charset=${charset}${params}\r\n` +
    (rng.chance(0.8) ? `Content-Transfer-Encoding: ${encoding}\r\n` : "") +
    (rng.chance(0.2) ? `Content-Disposition: attachment; filename="${oddString(rng, 300)}"\r\n` : "") +
    `\r\n${content}`;
}

function bodyText(rng: Random, type: string, budget: number): string {
  // The whole budget now and then: the inputs that once froze the server were single large parts.
  const size = Math.max(1, rng.chance(0.3) ? Math.floor(budget) : rng.size(Math.max(1, budget)));
  switch (rng.int(0, 9)) {
    case 0:
    case 8:
      return "x".repeat(size);
    case 1:
    case 9:
      return rng.chance(0.5) ? "<".repeat(size) : `<p>${"<".repeat(size)}`;
    case 2:
      return "<!--" + "a".repeat(size);
    case 3:
      return `<html><body><p>Hello <b>fuzz</b> &amp; &#x1F600; &bogus;</p>${
        "<div>".repeat(Math.min(size, 5000))
      }`;
    case 4:
      return "word ".repeat(Math.ceil(size / 5));
    case 5:
      return oddString(rng, size);
    case 6:
      return type === "text/html" ? `<p>${"<a href='".repeat(Math.ceil(size / 9))}` : "Hello fuzz\r\n.\r\n";
    default:
      return "Hello fuzz, a plain line.\r\n".repeat(Math.ceil(size / 27));
  }
}

function encode(rng: Random, encoding: string, text: string): string {
  if (encoding === "base64" && rng.chance(0.8)) {
    const bytes = new TextEncoder().encode(text);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    const b64 = btoa(binary);
    return rng.chance(0.7) ? b64.replace(/.{76}/g, "$&\r\n") : b64 + "!!==";
  }
  if (encoding === "quoted-printable" && rng.chance(0.8)) {
    return text.replace(/=/g, "=3D").replace(/.{70}/g, "$&=\r\n") + (rng.chance(0.2) ? "=Z" : "");
  }
  return text;
}
