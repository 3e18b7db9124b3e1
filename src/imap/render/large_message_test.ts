/**
 * A 30 MB message with one attachment: a section of one part is served from the stored octets
 * without a copy (a view of the same buffer), the text part's BINARY needs no decoding of the
 * attachment, and the attachment's BINARY is its decoded content.
 */
import assert from "node:assert/strict";
import { ImapMessage, renderFetchItem } from "./mod.ts";

function largeMessage(): { raw: Uint8Array; attachment: Uint8Array; encodedSize: number } {
  const attachment = new Uint8Array(22 * 1024 * 1024);
  for (let i = 0; i < attachment.length; i++) attachment[i] = (i * 2654435761) >>> 24;
  const base64 = attachment.toBase64().replace(/.{76}/g, "$&\r\n");
  const text = [
    "From: big@example.org",
    "Subject: a large attachment",
    'Content-Type: multipart/mixed; boundary="big"',
    "",
    "--big",
    "Content-Type: text/plain",
    "",
    "See the attachment.",
    "--big",
    "Content-Type: application/octet-stream",
    "Content-Transfer-Encoding: base64",
    "",
    base64,
    "--big--",
    "",
  ].join("\r\n");
  return { raw: new TextEncoder().encode(text), attachment, encodedSize: base64.length };
}

Deno.test("a 30 MB message's sections are views of the stored octets, and its attachment decodes", () => {
  const { raw, attachment, encodedSize } = largeMessage();
  assert.ok(raw.length > 29_000_000);
  const message = new ImapMessage(raw);
  assert.equal(message.bytes, raw, "a CRLF message is not copied");
  const text = renderFetchItem(message, { kind: "BODY[]", peek: true, section: { part: [1] } });
  assert.ok(text?.ok);
  const textBytes = (text.value as { bytes: Uint8Array }).bytes;
  assert.equal(new TextDecoder().decode(textBytes), "See the attachment.");
  assert.equal(textBytes.buffer, raw.buffer, "BODY[1] is a view, not a copy");
  const binaryText = renderFetchItem(message, { kind: "BINARY[]", peek: true, part: [1] });
  assert.ok(binaryText?.ok);
  assert.equal(
    (binaryText.value as { bytes: Uint8Array }).bytes.buffer,
    raw.buffer,
    "7bit needs no decoding",
  );
  const size = renderFetchItem(message, { kind: "BINARY.SIZE", part: [2] });
  assert.deepEqual(size, { ok: true, name: "BINARY.SIZE[2]", value: attachment.length });
  const tail = renderFetchItem(message, {
    kind: "BINARY[]",
    peek: true,
    part: [2],
    partial: { offset: attachment.length - 100, length: 1000 },
  });
  assert.ok(tail?.ok);
  assert.equal(tail.name, `BINARY[2]<${attachment.length - 100}>`);
  assert.deepEqual((tail.value as { bytes: Uint8Array }).bytes, attachment.subarray(attachment.length - 100));
  const structure = renderFetchItem(message, { kind: "BODYSTRUCTURE" });
  assert.ok(structure?.ok);
  const parts = structure.value as unknown[][];
  assert.deepEqual(parts[1].slice(0, 7), [
    "application",
    "octet-stream",
    null,
    null,
    null,
    "base64",
    encodedSize,
  ]);
  assert.equal(parts[2], "mixed");
});
