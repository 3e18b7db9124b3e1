import assert from "node:assert/strict";
import { dataProblem } from "./data_guard.ts";
import { receivedHeader } from "./received.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("data with only CRLF line ends passes; a bare CR, a bare LF or a NUL anywhere is named", () => {
  assert.equal(dataProblem(bytes("Subject: a\r\n\r\nbody\r\n.. dots\r\n")), undefined);
  assert.equal(dataProblem(bytes("")), undefined);
  for (const bad of ["a\nb\r\n", "a\rb\r\n", "a\r\n\n", "a\r\r\n", "ends with CR\r", "\n"]) {
    assert.equal(dataProblem(bytes(bad)), "bareLineEnd", JSON.stringify(bad));
  }
  assert.equal(dataProblem(bytes("a\x00b\r\n")), "nulByte");
});

Deno.test("a Received field keeps client-chosen values on its own lines, whatever they hold", () => {
  const field = receivedHeader({
    helo: "evil\r\nX-Injected: yes (comment) <x>;",
    remoteAddress: "127.0.0.1",
    hostname: "mx.example.org",
    protocol: "ESMTPS",
    tls: { version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384" },
    id: "abc.1",
    recipient: "bob+tag@example.org",
    date: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
  });
  assert.equal(field.match(/\r\n(?![\t])/g)?.length, 1, "one field: continuation lines only, one final CRLF");
  assert.doesNotMatch(field, /\r\nX-Injected/);
  assert.match(
    field,
    /^Received: from evil\?\?X-Injected:\?yes\?\?comment\?\?\?x\?\? \(\[127\.0\.0\.1\]\)\r\n/,
  );
  assert.match(field, /with ESMTPS\r\n\t\(using TLSv1\.3 with cipher TLS_AES_256_GCM_SHA384\)\r\n/);
  assert.match(field, /for <bob\+tag@example\.org>; Fri, 02 Jan 2026 03:04:05 \+0000\r\n$/);
});

Deno.test("data with more than 100 Received fields is a mail loop; 100 are accepted", () => {
  const message = (n: number) =>
    bytes("Received: from a by b\r\n".repeat(n) + "Subject: a\r\n\r\nReceived: in the body\r\n");
  assert.equal(dataProblem(message(100)), undefined);
  assert.equal(dataProblem(message(101)), "mailLoop");
  assert.equal(dataProblem(bytes("RECEIVED: x\r\n".repeat(101) + "\r\n")), "mailLoop");
});

/** The byte-by-byte scan dataProblem replaced, as the reference it must agree with. */
function referenceLineEndProblem(data: Uint8Array): string | undefined {
  for (let i = 0; i < data.length; i++) {
    const byte = data[i];
    if (byte === 0x0d) {
      if (data[i + 1] !== 0x0a) return "bareLineEnd";
      i++;
    } else if (byte === 0x0a) return "bareLineEnd";
    else if (byte === 0) return "nulByte";
  }
  return undefined;
}

Deno.test("the word-at-a-time scan names the same problem as a byte-by-byte one, at any alignment", () => {
  // Mostly text with CRLF, and now and then a bare CR, a bare LF, a NUL or a byte over 0x7f.
  const alphabet = [0x61, 0x2e, 0x20, 0xff, 0x80, 0x0e, 0x0c, 0x0d, 0x0a, 0x00];
  let seed = 22;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const buffer = new Uint8Array(600);
  for (let round = 0; round < 5000; round++) {
    const length = Math.floor(random() * 64) + (round % 10 === 0 ? 500 : 0);
    const offset = Math.floor(random() * 4);
    const data = buffer.subarray(offset, offset + length);
    const rare = random() < 0.5 ? 0.002 : 0.03;
    for (let i = 0; i < data.length; i++) {
      if (random() < 0.08) {
        data[i] = 0x0d;
        if (i + 1 < data.length) data[++i] = 0x0a;
      } else if (random() < rare) data[i] = alphabet[6 + Math.floor(random() * 4)];
      else data[i] = alphabet[Math.floor(random() * 6)];
    }
    const expected = referenceLineEndProblem(data);
    const actual = dataProblem(data);
    assert.equal(actual === "mailLoop" ? undefined : actual, expected, JSON.stringify([...data]));
  }
});
