import assert from "node:assert/strict";
import { bodyOf, decodeEvents, parseOne, refusal } from "./test_helpers.ts";

const enc = new TextEncoder();

Deno.test("parser reads RFC 9051 §8's sample session", () => {
  assert.deepEqual(parseOne("a001 login mrc secret"), {
    tag: "a001",
    uid: false,
    body: { name: "LOGIN", username: "mrc", password: "secret" },
  });
  assert.deepEqual(bodyOf("a002 select inbox"), { name: "SELECT", mailbox: "INBOX", condstore: false });
  assert.deepEqual(bodyOf("a003 fetch 12 full"), {
    name: "FETCH",
    set: [{ start: 12, end: 12 }],
    items: [{ kind: "FLAGS" }, { kind: "INTERNALDATE" }, { kind: "RFC822.SIZE" }, { kind: "ENVELOPE" }, {
      kind: "BODY",
    }],
    vanished: false,
  });
  assert.deepEqual(bodyOf("a004 fetch 12 body[header]"), {
    name: "FETCH",
    set: [{ start: 12, end: 12 }],
    items: [{ kind: "BODY[]", peek: false, section: { part: [], text: "HEADER" } }],
    vanished: false,
  });
  assert.deepEqual(bodyOf("a005 store 12 +flags \\deleted"), {
    name: "STORE",
    set: [{ start: 12, end: 12 }],
    operation: "add",
    silent: false,
    flags: ["\\deleted"],
  });
  assert.deepEqual(parseOne("a006 logout"), { tag: "a006", uid: false, body: { name: "LOGOUT" } });
});

Deno.test("parser reads the commands without arguments in any case", () => {
  for (
    const name of [
      "CAPABILITY",
      "NOOP",
      "LOGOUT",
      "STARTTLS",
      "NAMESPACE",
      "IDLE",
      "CHECK",
      "CLOSE",
      "UNSELECT",
    ]
  ) {
    assert.deepEqual(bodyOf(`t ${name.toLowerCase()}`), { name });
    assert.match(refusal(`t ${name} x`), /Unexpected characters/);
  }
  assert.deepEqual(bodyOf("A202 EXPUNGE"), { name: "EXPUNGE" });
});

Deno.test("parser reads tags of any ASTRING-CHAR but +", () => {
  assert.equal(parseOne("a]b.1 NOOP").tag, "a]b.1");
  assert.deepEqual(decodeEvents("a+ NOOP"), [{ type: "bad", text: "Invalid tag" }]);
  assert.deepEqual(decodeEvents("* NOOP"), [{ type: "bad", text: "Expected a tag" }]);
  assert.deepEqual(decodeEvents("tag"), [{ type: "bad", tag: "tag", text: "Missing argument" }]);
});

Deno.test("parser reads the UID prefix only before the commands that take it", () => {
  assert.deepEqual(parseOne("A999 UID FETCH 4827313:4828442 FLAGS"), {
    tag: "A999",
    uid: true,
    body: {
      name: "FETCH",
      set: [{ start: 4827313, end: 4828442 }],
      items: [{ kind: "FLAGS" }],
      vanished: false,
    },
  });
  assert.deepEqual(parseOne("a UID EXPUNGE 3000:3002"), {
    tag: "a",
    uid: true,
    body: { name: "EXPUNGE", uids: [{ start: 3000, end: 3002 }] },
  });
  assert.deepEqual(parseOne("a UID MOVE 42:69 foo"), {
    tag: "a",
    uid: true,
    body: { name: "MOVE", set: [{ start: 42, end: 69 }], mailbox: "foo" },
  });
  assert.match(refusal("a UID NOOP"), /UID NOOP is not a command/);
  assert.match(refusal("a UID EXPUNGE"), /Missing argument/);
});

Deno.test("parser reads mailbox commands of RFC 9051 §6.3", () => {
  assert.deepEqual(bodyOf("A932 EXAMINE blurdybloop"), {
    name: "EXAMINE",
    mailbox: "blurdybloop",
    condstore: false,
  });
  assert.deepEqual(bodyOf("A003 CREATE owatagusiam/"), {
    name: "CREATE",
    mailbox: "owatagusiam/",
    specialUse: [],
  });
  assert.deepEqual(bodyOf("A683 DELETE blurdybloop"), { name: "DELETE", mailbox: "blurdybloop" });
  assert.deepEqual(bodyOf("A42 RENAME INBOX old-mail"), { name: "RENAME", from: "INBOX", to: "old-mail" });
  assert.deepEqual(bodyOf("A002 SUBSCRIBE #news.comp.mail.mime"), {
    name: "SUBSCRIBE",
    mailbox: "#news.comp.mail.mime",
  });
  assert.deepEqual(bodyOf("A002 UNSUBSCRIBE #news.comp.mail.mime"), {
    name: "UNSUBSCRIBE",
    mailbox: "#news.comp.mail.mime",
  });
  assert.deepEqual(bodyOf('A003 COPY 2:4 "MEETING"'), {
    name: "COPY",
    set: [{ start: 2, end: 4 }],
    mailbox: "MEETING",
  });
  assert.deepEqual(bodyOf("a LSUB #news. comp.mail.*"), {
    name: "LSUB",
    reference: "#news.",
    pattern: "comp.mail.*",
  });
  assert.deepEqual(bodyOf('a select "InBoX"'), { name: "SELECT", mailbox: "INBOX", condstore: false });
});

Deno.test("parser decodes modified UTF-7 mailbox names, or takes UTF-8 once enabled", () => {
  assert.deepEqual(bodyOf("a CREATE ~peter/mail/&U,BTFw-/&ZeVnLIqe-"), {
    name: "CREATE",
    mailbox: "~peter/mail/台北/日本語",
    specialUse: [],
  });
  assert.match(refusal("a CREATE &Jjo!"), /not valid modified UTF-7/);
  assert.match(refusal('a DELETE "Caf\u00e9"'), /8-bit character in a quoted string/);
  assert.deepEqual(bodyOf('a DELETE "Caf\u00e9 & Bar"', { utf8: true }), {
    name: "DELETE",
    mailbox: "Café & Bar",
  });
  // 8-bit bytes are never an atom.
  assert.match(refusal(new Uint8Array([...enc.encode("a DELETE Caf"), 0xc3, 0xa9])), /8-bit/);
});

Deno.test("parser reads LOGIN arguments as atoms, quoted strings and literals (RFC 7888 example)", () => {
  assert.deepEqual(bodyOf("A001 LOGIN {11+}\r\nFRED FOOBAR {7+}\r\nfat man"), {
    name: "LOGIN",
    username: "FRED FOOBAR",
    password: "fat man",
  });
  assert.deepEqual(bodyOf('a LOGIN "" "]"'), { name: "LOGIN", username: "", password: "]" });
  assert.match(refusal('a LOGIN "fred'), /Unterminated quoted string/);
  assert.match(refusal('a LOGIN "fr\\ed" x'), /Bad escape/);
  assert.match(refusal("a LOGIN fred"), /Missing argument/);
  assert.match(refusal("a LOGIN fred {3}x"), /Malformed literal|Expected/);
  assert.match(refusal(new Uint8Array([...enc.encode("a LOGIN fred {3}\r\na"), 0, 0x62])), /NUL/);
});

Deno.test("parser reads AUTHENTICATE with SASL-IR (RFC 4959)", () => {
  assert.deepEqual(bodyOf("A01 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q="), {
    name: "AUTHENTICATE",
    mechanism: "PLAIN",
    initialResponse: enc.encode("test\0test\0test"),
  });
  assert.deepEqual(bodyOf("A01 AUTHENTICATE GSSAPI"), { name: "AUTHENTICATE", mechanism: "GSSAPI" });
  assert.match(refusal("A01 AUTHENTICATE PLAIN dGVzd"), /Invalid base64/);
  assert.match(refusal("A01 AUTHENTICATE PLAIN =="), /Unexpected characters/);
  assert.match(refusal("A01 AUTHENTICATE PLAIN ab=c"), /Invalid base64|Unexpected/);
});

Deno.test("parser reads ENABLE, ID, COMPRESS (RFC 5161, 2971, 4978)", () => {
  assert.deepEqual(bodyOf("t2 ENABLE CONDSTORE X-GOOD-IDEA"), {
    name: "ENABLE",
    capabilities: ["CONDSTORE", "X-GOOD-IDEA"],
  });
  assert.match(refusal("t2 ENABLE"), /Missing argument/);
  const id = bodyOf('a023 ID ("name" "sodr" "version" "19.34" "vendor" "Pink Floyd Music Limited" "os" NIL)');
  assert.equal(id.name, "ID");
  assert.deepEqual({ ...(id as { parameters: object }).parameters }, {
    name: "sodr",
    version: "19.34",
    vendor: "Pink Floyd Music Limited",
    os: null,
  });
  assert.deepEqual(bodyOf("a042 ID NIL"), { name: "ID", parameters: null });
  const proto = bodyOf('a ID ("__proto__" "x")') as { parameters: Record<string, string> };
  assert.equal(proto.parameters["__proto__"], "x");
  assert.deepEqual({ ...(bodyOf("a ID ()") as { parameters: object }).parameters }, {});
  assert.match(refusal("a ID ("), /Unterminated|Expected a string/);
  assert.match(refusal('a ID ("name")'), /Missing argument|Expected a space/);
  assert.deepEqual(bodyOf("a COMPRESS DEFLATE"), { name: "COMPRESS", mechanism: "DEFLATE" });
});

Deno.test("parser reads QUOTA commands (RFC 9208)", () => {
  assert.deepEqual(bodyOf('G0001 GETQUOTA "!partition/sda4"'), { name: "GETQUOTA", root: "!partition/sda4" });
  assert.deepEqual(bodyOf("G0002 GETQUOTAROOT INBOX"), { name: "GETQUOTAROOT", mailbox: "INBOX" });
  assert.deepEqual(bodyOf('S0000 SETQUOTA "" (STORAGE 512 MESSAGE 10000)'), {
    name: "SETQUOTA",
    root: "",
    limits: [{ resource: "STORAGE", limit: 512 }, { resource: "MESSAGE", limit: 10000 }],
  });
  assert.deepEqual(bodyOf('S SETQUOTA "" ()'), { name: "SETQUOTA", root: "", limits: [] });
  assert.match(refusal('S SETQUOTA "" (STORAGE)'), /Missing argument|Expected a space/);
});

Deno.test("parser reads ACL commands (RFC 4314)", () => {
  assert.deepEqual(bodyOf("A001 GETACL INBOX"), { name: "GETACL", mailbox: "INBOX" });
  assert.deepEqual(bodyOf("A035 SETACL INBOX/Drafts John lrQswicdakxet"), {
    name: "SETACL",
    mailbox: "INBOX/Drafts",
    identifier: "John",
    rights: "lrQswicdakxet",
  });
  assert.deepEqual(bodyOf("A036 SETACL INBOX/Drafts Byron -w"), {
    name: "SETACL",
    mailbox: "INBOX/Drafts",
    identifier: "Byron",
    rights: "-w",
  });
  assert.deepEqual(bodyOf("A002 DELETEACL INBOX/Drafts Byron"), {
    name: "DELETEACL",
    mailbox: "INBOX/Drafts",
    identifier: "Byron",
  });
  assert.deepEqual(bodyOf("a LISTRIGHTS ~/Mail/saved smith"), {
    name: "LISTRIGHTS",
    mailbox: "~/Mail/saved",
    identifier: "smith",
  });
  assert.deepEqual(bodyOf("A003 MYRIGHTS INBOX"), { name: "MYRIGHTS", mailbox: "INBOX" });
});
