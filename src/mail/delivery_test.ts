import assert from "node:assert/strict";
import { withoutBcc } from "./delivery.ts";

const text = (s: string) => new TextEncoder().encode(s);
const read = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("the Bcc field goes, folded lines included, wherever it is; the rest stays byte for byte", () => {
  assert.equal(
    read(withoutBcc(text("From: a@x\r\nBcc: b@x,\r\n c@x\r\nTo: d@x\r\n\r\nbody\r\n"))),
    "From: a@x\r\nTo: d@x\r\n\r\nbody\r\n",
  );
  assert.equal(read(withoutBcc(text("From: a@x\r\nBCC: b@x\r\n\r\nbody"))), "From: a@x\r\n\r\nbody");
  assert.equal(read(withoutBcc(text("Bcc: b@x\nSubject: caf\u00e9\n\nbody"))), "Subject: caf\u00e9\n\nbody");
  const untouched = text("From: a@x\r\nX-Bcc-Note: stays\r\n\r\nBcc: in the body stays\r\n");
  assert.equal(withoutBcc(untouched), untouched);
});
