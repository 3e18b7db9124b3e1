import assert from "node:assert/strict";
import { ALL_RIGHTS, MAILBOX_RIGHTS, rightBit } from "../model/mail.ts";
import { ALL_IMAP_RIGHTS, imapRights, jmapRights } from "./acl_rights.ts";

Deno.test("every right maps both ways, and a bitmask survives a round trip through IMAP letters", () => {
  assert.equal(imapRights(ALL_RIGHTS), ALL_IMAP_RIGHTS);
  assert.equal(jmapRights(ALL_IMAP_RIGHTS), ALL_RIGHTS);
  assert.equal(imapRights(rightBit("mayReadItems")), "lr");
  assert.equal(jmapRights("lrs"), rightBit("mayReadItems") | rightBit("maySetSeen"));
  // RFC 2086's c and d.
  assert.equal(jmapRights("c"), rightBit("mayCreateChild"));
  assert.equal(jmapRights("z"), undefined);
  // A JMAP bitmask whose rights IMAP groups (mayDelete with mayRename) round-trips when it is whole.
  for (let bits = 0; bits <= ALL_RIGHTS; bits++) {
    const renameWithDelete =
      ((bits & rightBit("mayDelete")) !== 0) === ((bits & rightBit("mayRename")) !== 0);
    if (!renameWithDelete) continue;
    assert.equal(jmapRights(imapRights(bits)), bits, MAILBOX_RIGHTS.filter((r) => bits & rightBit(r)).join());
  }
});
