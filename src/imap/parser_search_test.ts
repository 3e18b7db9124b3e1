import assert from "node:assert/strict";
import type { CommandBody, SearchKey } from "./command.ts";
import { bodyOf, refusal } from "./test_helpers.ts";

function criteria(input: string | Uint8Array, utf8 = false): SearchKey {
  return (bodyOf(input, { utf8 }) as Extract<CommandBody, { name: "SEARCH" }>).criteria;
}

Deno.test("SEARCH reads RFC 9051 §6.4.4's examples", () => {
  assert.deepEqual(bodyOf('A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"'), {
    name: "SEARCH",
    criteria: {
      op: "and",
      keys: [
        { op: "flag", flag: "\\Flagged", present: true },
        { op: "date", field: "internal", compare: "since", date: "1994-02-01" },
        { op: "not", key: { op: "header", field: "FROM", value: "Smith" } },
      ],
    },
    returns: ["MIN", "COUNT"],
    esearch: true,
  });
  assert.deepEqual(bodyOf('A283 SEARCH RETURN () FLAGGED SINCE "1-Feb-1994"'), {
    name: "SEARCH",
    criteria: {
      op: "and",
      keys: [
        { op: "flag", flag: "\\Flagged", present: true },
        { op: "date", field: "internal", compare: "since", date: "1994-02-01" },
      ],
    },
    returns: ["ALL"],
    esearch: true,
  });
  assert.deepEqual(bodyOf('A284 SEARCH TEXT "string not in mailbox"'), {
    name: "SEARCH",
    criteria: { op: "text", value: "string not in mailbox" },
    returns: [],
    esearch: false,
  });
  const utf8 = new TextEncoder().encode("Жибoв");
  assert.deepEqual(
    bodyOf(
      new Uint8Array([
        ...new TextEncoder().encode(`A285 SEARCH CHARSET UTF-8 TEXT {${utf8.length}}\r\n`),
        ...utf8,
      ]),
    ),
    {
      name: "SEARCH",
      charset: "UTF-8",
      criteria: { op: "text", value: "Жибoв" },
      returns: [],
      esearch: false,
    },
  );
});

Deno.test("SEARCH reads every key of the grammar", () => {
  const all = criteria(
    "a SEARCH ALL ANSWERED BCC b BEFORE 31-Dec-2023 BODY x CC c DELETED DRAFT FLAGGED FROM f HEADER X-Y z " +
      "KEYWORD $Junk LARGER 100 NEW NOT SEEN OLD ON 29-Feb-2024 OR 1:3 UID 5:* RECENT SEEN SENTBEFORE 1-Jan-2000 " +
      "SENTON 2-Jan-2000 SENTSINCE 3-Jan-2000 SINCE 4-Jan-2000 SMALLER 9007199254740991 SUBJECT s TEXT t TO u " +
      "UID 1,2 UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNKEYWORD foo UNSEEN 2:4 $ (SEEN DRAFT) MODSEQ 5 " +
      "EMAILID M6d99ac3275bb4e THREADID T64b478a75b7ea9",
  );
  assert.equal(all.op, "and");
  const keys = (all as { keys: SearchKey[] }).keys;
  assert.deepEqual(keys.slice(0, 4), [
    { op: "all" },
    { op: "flag", flag: "\\Answered", present: true },
    { op: "header", field: "BCC", value: "b" },
    { op: "date", field: "internal", compare: "before", date: "2023-12-31" },
  ]);
  assert.deepEqual(keys.find((k) => k.op === "or"), {
    op: "or",
    left: { op: "seq", set: [{ start: 1, end: 3 }] },
    right: { op: "uid", set: [{ start: 5, end: "*" }] },
  });
  assert.deepEqual(keys.filter((k) => k.op === "recent").map((k) => (k as { which: string }).which), [
    "NEW",
    "OLD",
    "RECENT",
  ]);
  assert.deepEqual(keys.find((k) => k.op === "size" && k.compare === "smaller"), {
    op: "size",
    compare: "smaller",
    size: 9007199254740991,
  });
  assert.deepEqual(keys.slice(-7), [
    { op: "flag", flag: "\\Seen", present: false },
    { op: "seq", set: [{ start: 2, end: 4 }] },
    { op: "seq", set: "$" },
    {
      op: "and",
      keys: [{ op: "flag", flag: "\\Seen", present: true }, { op: "flag", flag: "\\Draft", present: true }],
    },
    { op: "modseq", modseq: 5n },
    { op: "emailid", id: "M6d99ac3275bb4e" },
    { op: "threadid", id: "T64b478a75b7ea9" },
  ]);
  assert.equal(keys.length, 41);
});

Deno.test("SEARCH reads nested OR, NOT and parentheses, and bounds the nesting", () => {
  assert.deepEqual(criteria("a SEARCH OR (FROM a TO b) NOT (OR SEEN (DRAFT))"), {
    op: "or",
    left: {
      op: "and",
      keys: [{ op: "header", field: "FROM", value: "a" }, { op: "header", field: "TO", value: "b" }],
    },
    right: {
      op: "not",
      key: {
        op: "or",
        left: { op: "flag", flag: "\\Seen", present: true },
        right: { op: "flag", flag: "\\Draft", present: true },
      },
    },
  });
  assert.match(refusal("a SEARCH " + "(".repeat(5000) + "ALL" + ")".repeat(5000)), /nested too deeply/);
  assert.match(refusal("a SEARCH " + "NOT ".repeat(5000) + "ALL"), /nested too deeply/);
  assert.match(refusal("a SEARCH (ALL"), /Expected "\)"/);
  assert.match(refusal("a SEARCH ALL)"), /Unexpected characters/);
  assert.match(refusal("a SEARCH OR ALL"), /Missing argument/);
  assert.match(refusal("a SEARCH ()"), /Expected an atom/);
});

Deno.test("SEARCH refuses bad dates, numbers and keys", () => {
  assert.match(refusal("a SEARCH SINCE 30-Feb-2024"), /No such date/);
  assert.match(refusal("a SEARCH SINCE 29-Feb-2023"), /No such date/);
  assert.match(refusal("a SEARCH SINCE 1-Fbr-2024"), /Malformed date/);
  assert.match(refusal("a SEARCH SINCE 2024-01-01"), /Malformed date/);
  assert.match(refusal("a SEARCH LARGER 99999999999999999999"), /Number too large/);
  assert.match(refusal("a SEARCH FROB"), /Unknown search key FROB/);
  assert.match(refusal("a SEARCH KEYWORD \\Seen"), /not a system flag/);
  assert.match(refusal("a SEARCH EMAILID a.b"), /Malformed object id/);
  assert.match(refusal("a SEARCH RETURN (FROB) ALL"), /Unknown RETURN option/);
  assert.match(refusal("a SEARCH"), /Missing argument/);
});

Deno.test("SEARCH decodes strings in the CHARSET given; one it cannot decode parses, for NO [BADCHARSET]", () => {
  const latin1 = new Uint8Array([
    ...new TextEncoder().encode("a SEARCH CHARSET ISO-8859-1 SUBJECT {4}\r\ncaf"),
    0xe9,
  ]);
  assert.deepEqual(criteria(latin1), { op: "header", field: "SUBJECT", value: "café" });
  // RFC 9051 §6.4.4: an unsupported charset is a NO [BADCHARSET] from the handler, not a parse error.
  assert.deepEqual(bodyOf('a SEARCH CHARSET X-KLINGON SUBJECT "x"'), {
    name: "SEARCH",
    criteria: { op: "header", field: "SUBJECT", value: "x" },
    charset: "X-KLINGON",
    returns: [],
    esearch: false,
  });
  assert.match(refusal('a SEARCH SUBJECT "café"'), /8-bit character in a quoted string/);
  assert.deepEqual(criteria('a SEARCH SUBJECT "café"', true), {
    op: "header",
    field: "SUBJECT",
    value: "café",
  });
  const invalid = new Uint8Array([...new TextEncoder().encode("a SEARCH SUBJECT {1}\r\n"), 0xe9]);
  assert.match(refusal(invalid), /not valid utf-8/);
});

Deno.test("SEARCH reads MODSEQ with its entry name and type (RFC 7162 §3.1.5)", () => {
  assert.deepEqual(criteria('a SEARCH MODSEQ "/flags/\\\\draft" all 620162338'), {
    op: "modseq",
    modseq: 620162338n,
  });
  assert.deepEqual(criteria("a SEARCH MODSEQ 0"), { op: "modseq", modseq: 0n });
  assert.match(refusal('a SEARCH MODSEQ "/flags/\\\\draft" most 1'), /Unknown MODSEQ entry type/);
  assert.match(refusal('a SEARCH MODSEQ "/other" all 1'), /Malformed MODSEQ entry name/);
});

Deno.test("SORT and THREAD read RFC 5256's examples", () => {
  assert.deepEqual(bodyOf("A282 SORT (SUBJECT) UTF-8 SINCE 1-Feb-1994"), {
    name: "SORT",
    criteria: [{ key: "SUBJECT", reverse: false }],
    charset: "UTF-8",
    search: { op: "date", field: "internal", compare: "since", date: "1994-02-01" },
    returns: [],
  });
  assert.deepEqual(bodyOf("A283 UID SORT (SUBJECT REVERSE DATE) UTF-8 ALL"), {
    name: "SORT",
    criteria: [{ key: "SUBJECT", reverse: false }, { key: "DATE", reverse: true }],
    charset: "UTF-8",
    search: { op: "all" },
    returns: [],
  });
  assert.deepEqual(bodyOf('A284 SORT RETURN (COUNT) (DISPLAYFROM) US-ASCII TEXT "not in mailbox"'), {
    name: "SORT",
    criteria: [{ key: "DISPLAYFROM", reverse: false }],
    charset: "US-ASCII",
    search: { op: "text", value: "not in mailbox" },
    returns: ["COUNT"],
  });
  assert.deepEqual(bodyOf("A283 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000"), {
    name: "THREAD",
    algorithm: "ORDEREDSUBJECT",
    charset: "UTF-8",
    search: { op: "date", field: "internal", compare: "since", date: "2000-03-05" },
  });
  assert.deepEqual(bodyOf("A285 UID THREAD REFERENCES US-ASCII TEXT gewp"), {
    name: "THREAD",
    algorithm: "REFERENCES",
    charset: "US-ASCII",
    search: { op: "text", value: "gewp" },
  });
  assert.match(refusal("a SORT () UTF-8 ALL"), /Expected an atom/);
  assert.match(refusal("a SORT (WEIGHT) UTF-8 ALL"), /Unknown sort key/);
  assert.match(refusal("a SORT (DATE) UTF-8"), /Missing argument/);
  assert.match(refusal("a THREAD X-MAGIC UTF-8 ALL"), /Unknown threading algorithm/);
});
