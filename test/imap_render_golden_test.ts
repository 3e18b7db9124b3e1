/**
 * Golden fixtures of FETCH's renderings: for every message of test/fixtures/imap_render/, each item
 * (ENVELOPE, BODYSTRUCTURE, BODY, RFC822.*, BODY[section]<partial> of every part, BINARY[part],
 * BINARY.SIZE[part]) rendered by src/imap/render/ must equal the stored answer in
 * `<message>.golden.json` (strings as Latin-1, one char per octet). The answers were checked
 * against Dovecot (test/imap_render_dovecot_test.ts), so this test keeps them without Dovecot.
 * `UPDATE_GOLDEN=1 deno test -A test/imap_render_golden_test.ts` then `deno fmt test/fixtures/imap_render`
 * rewrites them after a deliberate change.
 */
import assert from "node:assert/strict";
import { ImapMessage, renderFetchItem } from "../src/imap/render/mod.ts";
import { normalize, type ReadValue } from "./imap_response_reader.ts";
import { binaryItems, corpus, sectionItems, WHOLE, wire } from "./imap_render_helpers.ts";

const UPDATE = Deno.env.get("UPDATE_GOLDEN") === "1";

/** Every rendering of one message, by the item's wire form. */
function renderAll(bytes: Uint8Array): Record<string, ReadValue | { no: string }> {
  const message = new ImapMessage(bytes);
  const out: Record<string, ReadValue | { no: string }> = {};
  for (const item of [...WHOLE, ...sectionItems(message), ...binaryItems(message)]) {
    const rendered = renderFetchItem(message, item)!;
    out[wire(item)] = rendered.ok ? normalize(rendered.value) : { no: rendered.code.name };
  }
  return out;
}

for (const { name, bytes } of corpus().filter((m) => m.name.startsWith("test/fixtures/imap_render/"))) {
  Deno.test(`FETCH renderings of ${name.split("/").at(-1)} match their golden file`, async () => {
    const golden = name.replace(/\.eml$/, ".golden.json");
    const rendered = renderAll(bytes);
    if (UPDATE) await Deno.writeTextFile(golden, JSON.stringify(rendered, null, 2) + "\n");
    const expected = JSON.parse(await Deno.readTextFile(golden));
    assert.deepEqual(rendered, expected);
  });
}
