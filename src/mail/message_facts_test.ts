import assert from "node:assert/strict";
import { bareLineFeeds, messageFacts, traceKeepsFacts } from "./message_facts.ts";

const encoder = new TextEncoder();
const TRACE = "Return-Path: <sender@sender.test>\r\nDelivered-To: bob+tag@example.org\r\n" +
  "Authentication-Results: mx.example.org;\r\n spf=pass smtp.mailfrom=sender.test;\r\n dkim=none\r\n" +
  "Received: from sender.test (sender.test [192.0.2.1])\r\n\tby mx.example.org with ESMTPS id 1.1\r\n" +
  "\tfor <bob+tag@example.org>; Mon, 7 Dec 2026 00:00:00 +0000\r\n";

const crafted = [
  "From: A <a@x.test>\r\nTo: b@y.test\r\nSubject: Hi\r\nMessage-ID: <1@x.test>\r\n\r\nHello\r\n",
  "\r\nA message without a header\r\n",
  "",
  "Subject: no body",
  "Not a header line\r\nSubject: after it\r\n\r\nbody\r\n",
  "Received: from elsewhere\r\nReturn-Path: <x@y.test>\r\nSubject: own trace\r\n\r\nbody\r\n",
  "Content-Type: multipart/mixed; boundary=b\r\nSubject: parts\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n" +
  "one\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\nJVBE\r\n--b--\r\n",
  " Subject: starts folded\r\n\r\nbody\r\n",
  "\tX: tab\r\n\r\nbody\r\n",
];

async function corpus(): Promise<Uint8Array[]> {
  const messages: Uint8Array[] = [];
  const dir = new URL("../../test/corpus/", import.meta.url);
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.endsWith(".eml")) messages.push(await Deno.readFile(new URL(entry.name, dir)));
  }
  return messages;
}

Deno.test("a message's facts are those of its copy with the trace fields, unless it starts with white space", async () => {
  const messages = [...crafted.map((text) => encoder.encode(text)), ...await corpus()];
  let kept = 0;
  for (const message of messages) {
    if (!traceKeepsFacts(message)) continue;
    kept++;
    const traced = new Uint8Array([...encoder.encode(TRACE), ...message]);
    assert.deepEqual(
      messageFacts(traced),
      messageFacts(message),
      new TextDecoder().decode(message.slice(0, 80)),
    );
  }
  assert.equal(kept, messages.length - 2);
});

Deno.test("bare LFs are counted as IMAP serves them: each LF no CR precedes, a leading one included", async () => {
  const reference = (bytes: Uint8Array) => {
    let bare = 0;
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10 && (i === 0 || bytes[i - 1] !== 13)) bare++;
    return bare;
  };
  const messages = [
    ...crafted.map((text) => encoder.encode(text)),
    ...await corpus(),
    encoder.encode("\nSubject: leading LF\n\nbody\r\nmore\n"),
    encoder.encode("Subject: CR alone\r\r\n\rbody\n\r\n"),
    new Uint8Array([0x0a, 0x0a, 0x0d, 0x0a, 0x0d, 0x0d, 0x0a, 0x0a]),
  ];
  for (const [i, bytes] of messages.entries()) {
    assert.equal(bareLineFeeds(bytes), reference(bytes), `message ${i}`);
  }
});
