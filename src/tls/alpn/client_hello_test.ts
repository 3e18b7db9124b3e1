import assert from "node:assert/strict";
import { parseClientHello, TlsAlert } from "./client_hello.ts";

/** A ClientHello offering only acme-tls/1 for mail.example.org, as the tests of the front build it. */
function acmeHello(): Uint8Array {
  const u16 = (n: number) => [n >> 8, n & 0xff];
  const ext = (type: number, data: number[]) => [...u16(type), ...u16(data.length), ...data];
  const name = [...new TextEncoder().encode("mail.example.org")];
  const alpn = [...new TextEncoder().encode("acme-tls/1")];
  const extensions = [
    ...ext(0, [...u16(name.length + 3), 0, ...u16(name.length), ...name]),
    ...ext(16, [...u16(alpn.length + 1), alpn.length, ...alpn]),
    ...ext(43, [2, 3, 4]),
    ...ext(13, [...u16(2), 4, 3]),
    ...ext(51, [...u16(36), 0, 0x1d, ...u16(32), ...new Array(32).fill(9)]),
  ];
  const sessionId = new Array(32).fill(7);
  const body = [3, 3, ...new Array(32).fill(1), 32, ...sessionId, ...u16(2), 0x13, 0x01, 1, 0];
  body.push(...u16(extensions.length), ...extensions);
  return Uint8Array.from([1, 0, body.length >> 8, body.length & 0xff, ...body]);
}

Deno.test("a ClientHello for the ACME validation parses to its name, ALPN, share and session id", () => {
  const hello = parseClientHello(acmeHello());
  assert.equal(hello.serverName, "mail.example.org");
  assert.deepEqual(hello.alpn, ["acme-tls/1"]);
  assert.deepEqual(hello.sessionId, new Uint8Array(32).fill(7));
  assert.deepEqual(hello.keyShares.get(0x1d), new Uint8Array(32).fill(9));
});

Deno.test("every truncation and 3,000 random corruptions of a ClientHello give a TLS alert or a parse", () => {
  const valid = acmeHello();
  const expectAlertOrParse = (bytes: Uint8Array, what: string) => {
    try {
      parseClientHello(bytes);
    } catch (error) {
      assert.ok(error instanceof TlsAlert, `${what}: ${error}`);
    }
  };
  for (let length = 0; length < valid.length; length++) {
    assert.throws(() => parseClientHello(valid.subarray(0, length)), TlsAlert, `truncated at ${length}`);
  }
  // Seeded, so a failure is reproducible.
  let seed = 0x2545f491;
  const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let round = 0; round < 3_000; round++) {
    const bytes = valid.slice();
    for (let flips = 1 + Math.floor(random() * 4); flips > 0; flips--) {
      bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
    }
    expectAlertOrParse(bytes, `round ${round}`);
  }
});

Deno.test("a repeated extension is illegal_parameter, trailing bytes decode_error", () => {
  const valid = acmeHello();
  const trailing = Uint8Array.from([...valid, 0]);
  assert.throws(() => parseClientHello(trailing), (error: TlsAlert) => error.code === 50);
  // Append a second supported_versions extension and fix up the three lengths.
  const extra = [0, 43, 0, 3, 2, 3, 4];
  const bytes = Uint8Array.from([...valid, ...extra]);
  const fix = (at: number, size: number, add: number) => {
    let value = 0;
    for (let i = 0; i < size; i++) value = value * 256 + bytes[at + i];
    value += add;
    for (let i = size - 1; i >= 0; i--, value = Math.floor(value / 256)) bytes[at + i] = value & 0xff;
  };
  fix(1, 3, extra.length);
  const extensionsAt = 4 + 2 + 32 + 1 + 32 + 2 + 2 + 2;
  fix(extensionsAt, 2, extra.length);
  assert.throws(() => parseClientHello(bytes), (error: TlsAlert) => error.code === 47);
});
