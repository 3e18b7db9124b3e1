import assert from "node:assert/strict";
import { headerValue } from "./receive_data.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

/** The first version: decode 16 KiB whole, cut at the blank line (the reference for the fast path). */
function reference(message: Uint8Array, name: string): string | undefined {
  const head = new TextDecoder("latin1").decode(message.subarray(0, 16384));
  const end = head.indexOf("\r\n\r\n");
  const match = new RegExp(`(?:^|\\r\\n)${name}:([^\\r]*(?:\\r\\n[ \\t][^\\r]*)*)`, "i")
    .exec(end < 0 ? head : head.slice(0, end));
  return match?.[1].replace(/\r\n/g, "").trim().slice(0, 200);
}

Deno.test("headerValue reads a field of the header and never one of the body", () => {
  const cases = [
    "Message-ID: <a@b>\r\nSubject: x\r\n\r\nMessage-ID: <body@b>\r\n",
    "Subject: x\r\nMessage-id:\r\n <folded@b>\r\n\r\nbody",
    "Subject: x\r\n\r\nMessage-ID: <only-in-body@b>\r\n",
    "Message-ID: <no-body@b>\r\n",
    "Message-ID: <no-blank-line@b>",
    "\r\n\r\nMessage-ID: <after-empty-header@b>\r\n",
    "",
    "Message-ID: <cr-only@b>\r\r\n\r\n",
    `X-Long: ${"a".repeat(17000)}\r\nMessage-ID: <past-the-limit@b>\r\n\r\n`,
    `Subject: ${"é".repeat(50)}\r\nMessage-ID: <latin@b>\r\n\r\n`,
  ];
  for (const text of cases) {
    assert.equal(
      headerValue(bytes(text), "message-id"),
      reference(bytes(text), "message-id"),
      text.slice(0, 60),
    );
  }
  assert.equal(headerValue(bytes(cases[1]), "message-id"), "<folded@b>");
});
