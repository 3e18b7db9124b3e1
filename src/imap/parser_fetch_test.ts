import assert from "node:assert/strict";
import type { CommandBody, FetchItem } from "./command.ts";
import { bodyOf, refusal } from "./test_helpers.ts";

function items(input: string): FetchItem[] {
  return (bodyOf(input) as Extract<CommandBody, { name: "FETCH" }>).items;
}

Deno.test("FETCH expands the macros ALL, FAST and FULL", () => {
  const fast = [{ kind: "FLAGS" }, { kind: "INTERNALDATE" }, { kind: "RFC822.SIZE" }];
  assert.deepEqual(items("a FETCH 1 fast"), fast);
  assert.deepEqual(items("a FETCH 1 ALL"), [...fast, { kind: "ENVELOPE" }]);
  assert.deepEqual(items("a FETCH 1 FULL"), [...fast, { kind: "ENVELOPE" }, { kind: "BODY" }]);
  assert.match(refusal("a FETCH 1 (ALL)"), /Unknown FETCH item ALL/);
});

Deno.test("FETCH reads every item of RFC 9051 §6.4.5 and its extensions", () => {
  assert.deepEqual(
    items(
      "a FETCH 1 (FLAGS UID INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY MODSEQ EMAILID THREADID " +
        "RFC822 RFC822.HEADER RFC822.TEXT)",
    ),
    [
      "FLAGS",
      "UID",
      "INTERNALDATE",
      "RFC822.SIZE",
      "ENVELOPE",
      "BODYSTRUCTURE",
      "BODY",
      "MODSEQ",
      "EMAILID",
      "THREADID",
      "RFC822",
      "RFC822.HEADER",
      "RFC822.TEXT",
    ].map((kind) => ({ kind })),
  );
});

Deno.test("FETCH reads sections and partials (RFC 9051 §6.4.5 examples)", () => {
  assert.deepEqual(items("A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])"), [
    { kind: "FLAGS" },
    { kind: "BODY[]", peek: false, section: { part: [], text: "HEADER.FIELDS", fields: ["DATE", "FROM"] } },
  ]);
  assert.deepEqual(
    items("a FETCH 1 (body.peek[] BODY[]<0.2048> BODY.PEEK[1.2.3.MIME] BODY[4.2.HEADER.FIELDS.NOT (X-A)])"),
    [
      { kind: "BODY[]", peek: true, section: { part: [] } },
      { kind: "BODY[]", peek: false, section: { part: [] }, partial: { offset: 0, length: 2048 } },
      { kind: "BODY[]", peek: true, section: { part: [1, 2, 3], text: "MIME" } },
      { kind: "BODY[]", peek: false, section: { part: [4, 2], text: "HEADER.FIELDS.NOT", fields: ["X-A"] } },
    ],
  );
  assert.deepEqual(items("a FETCH 1 BODY[3.TEXT]"), [
    { kind: "BODY[]", peek: false, section: { part: [3], text: "TEXT" } },
  ]);
  assert.deepEqual(items("a FETCH 1 BODY[2]<100.4294967295>"), [
    { kind: "BODY[]", peek: false, section: { part: [2] }, partial: { offset: 100, length: 4294967295 } },
  ]);
  assert.match(refusal("a FETCH 1 BODY[MIME]"), /Unknown section MIME/);
  assert.match(refusal("a FETCH 1 BODY[0]"), /Unknown section|Expected/);
  assert.match(refusal("a FETCH 1 BODY[1]<0.0>"), /non-zero/);
  assert.match(refusal("a FETCH 1 BODY[1]<0>"), /Expected "\."/);
  assert.match(refusal("a FETCH 1 BODY[HEADER.FIELDS ()]"), /Expected/);
  assert.match(refusal("a FETCH 1 (FLAGS"), /Expected "\)"/);
  assert.match(refusal("a FETCH 1 FLAGS)"), /Unexpected characters/);
  assert.match(refusal("a FETCH 1 ()"), /Expected a FETCH item/);
});

Deno.test("FETCH reads BINARY items (RFC 3516)", () => {
  assert.deepEqual(items("a003 FETCH 1 (BINARY[1.3] BINARY.PEEK[]<0.1024> BINARY.SIZE[2])"), [
    { kind: "BINARY[]", peek: false, part: [1, 3] },
    { kind: "BINARY[]", peek: true, part: [], partial: { offset: 0, length: 1024 } },
    { kind: "BINARY.SIZE", part: [2] },
  ]);
  assert.match(refusal("a FETCH 1 BINARY[1.TEXT]"), /Expected "\]"/);
  assert.match(refusal("a FETCH 1 BINARY.SIZE[1]<0.5>"), /Unexpected characters/);
});

Deno.test("FETCH reads CHANGEDSINCE and VANISHED (RFC 7162 §3.1.4, §3.2.6)", () => {
  assert.deepEqual(bodyOf("s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)"), {
    name: "FETCH",
    set: [{ start: 1, end: "*" }],
    items: [{ kind: "FLAGS" }],
    changedSince: 12345n,
    vanished: false,
  });
  assert.deepEqual(bodyOf("s100 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 9223372036854775807 VANISHED)"), {
    name: "FETCH",
    set: [{ start: 300, end: 500 }],
    items: [{ kind: "FLAGS" }],
    changedSince: 9223372036854775807n,
    vanished: true,
  });
  assert.match(refusal("a FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775808)"), /Number too large/);
  assert.match(refusal("a FETCH 1 FLAGS (VANISHED)"), /VANISHED needs CHANGEDSINCE/);
  assert.match(refusal("a FETCH 1 FLAGS (CHANGEDSINCE 0)"), /non-zero/);
  assert.match(refusal("a FETCH 1 FLAGS (FROB)"), /Unknown or repeated FETCH modifier/);
});

Deno.test("sequence sets are ranges as sent, never expanded", () => {
  const set = (input: string) => (bodyOf(`a FETCH ${input} UID`) as { set: unknown }).set;
  assert.deepEqual(set("1:4294967295"), [{ start: 1, end: 4294967295 }]);
  assert.deepEqual(set("*:1,5,7:*,*"), [
    { start: "*", end: 1 },
    { start: 5, end: 5 },
    { start: 7, end: "*" },
    {
      start: "*",
      end: "*",
    },
  ]);
  assert.deepEqual(set("$"), "$");
  assert.match(refusal("a FETCH 4294967296 UID"), /Number too large/);
  assert.match(refusal("a FETCH 0 UID"), /non-zero/);
  assert.match(refusal("a FETCH 1, UID"), /Expected a number/);
  assert.match(refusal("a FETCH 1:: UID"), /Expected a number/);
  assert.match(refusal("a FETCH -1 UID"), /Expected a number/);
});

Deno.test("STORE reads the operations, .SILENT and UNCHANGEDSINCE (RFC 9051 §6.4.6, RFC 7162 §3.1.3)", () => {
  assert.deepEqual(bodyOf("A003 STORE 2:4 +FLAGS (\\Deleted)"), {
    name: "STORE",
    set: [{ start: 2, end: 4 }],
    operation: "add",
    silent: false,
    flags: ["\\Deleted"],
  });
  assert.deepEqual(bodyOf("a103 UID STORE 6,4,8 (UNCHANGEDSINCE 12121230045) +FLAGS.SILENT (\\Deleted)"), {
    name: "STORE",
    set: [{ start: 6, end: 6 }, { start: 4, end: 4 }, { start: 8, end: 8 }],
    unchangedSince: 12121230045n,
    operation: "add",
    silent: true,
    flags: ["\\Deleted"],
  });
  assert.deepEqual(bodyOf("a STORE 1 -flags.silent $Junk \\Seen"), {
    name: "STORE",
    set: [{ start: 1, end: 1 }],
    operation: "remove",
    silent: true,
    flags: ["$Junk", "\\Seen"],
  });
  assert.deepEqual(bodyOf("a STORE 1 (UNCHANGEDSINCE 0) FLAGS ()"), {
    name: "STORE",
    set: [{ start: 1, end: 1 }],
    unchangedSince: 0n,
    operation: "replace",
    silent: false,
    flags: [],
  });
  assert.match(refusal("a STORE 1 +FLAGS (\\*)"), /Expected a flag name/);
  assert.match(refusal("a STORE 1 *FLAGS (\\Seen)"), /Expected an atom/);
  assert.match(refusal("a STORE 1 +FLAGS.LOUD (\\Seen)"), /Unknown STORE item/);
  assert.match(refusal("a STORE 1 +FLAGS (\\Seen"), /Expected "\)"/);
  assert.match(refusal("a STORE 1 (FROB 1) +FLAGS x"), /Unknown STORE modifier/);
});
