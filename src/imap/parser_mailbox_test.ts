import assert from "node:assert/strict";
import type { CommandBody } from "./command.ts";
import { bodyOf, refusal } from "./test_helpers.ts";

const enc = new TextEncoder();
const NO_RETURNS = { subscribed: false, children: false, specialUse: false };

Deno.test("SELECT reads CONDSTORE and QRESYNC (RFC 7162 §3.1.8, §3.2.5)", () => {
  assert.deepEqual(bodyOf("a SELECT INBOX (CONDSTORE)"), {
    name: "SELECT",
    mailbox: "INBOX",
    condstore: true,
  });
  assert.deepEqual(bodyOf("A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))"), {
    name: "SELECT",
    mailbox: "INBOX",
    condstore: false,
    qresync: {
      uidValidity: 67890007,
      modseq: 20050715194045000n,
      knownUids: [{ start: 41, end: 41 }, { start: 43, end: 211 }, { start: 214, end: 541 }],
    },
  });
  assert.deepEqual(
    bodyOf("B01 EXAMINE INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500 15000,22500)))"),
    {
      name: "EXAMINE",
      mailbox: "INBOX",
      condstore: false,
      qresync: {
        uidValidity: 67890007,
        modseq: 90060115194045000n,
        knownUids: [{ start: 1, end: 29997 }],
        sequenceMatch: {
          sequences: [{ start: 5000, end: 5000 }, { start: 7500, end: 7500 }],
          uids: [{ start: 15000, end: 15000 }, { start: 22500, end: 22500 }],
        },
      },
    },
  );
  assert.deepEqual((bodyOf("a SELECT x (QRESYNC (1 2 (1 3)) CONDSTORE)") as { qresync: unknown }).qresync, {
    uidValidity: 1,
    modseq: 2n,
    sequenceMatch: { sequences: [{ start: 1, end: 1 }], uids: [{ start: 3, end: 3 }] },
  });
  assert.match(refusal("a SELECT INBOX (QRESYNC (0 1))"), /non-zero/);
  assert.match(refusal("a SELECT INBOX (QRESYNC (1))"), /Expected a space/);
  assert.match(refusal("a SELECT INBOX (CONDSTORE CONDSTORE)"), /Unknown or repeated/);
  assert.match(refusal("a SELECT INBOX ()"), /Expected an atom/);
});

Deno.test("CREATE reads USE (RFC 6154 §3)", () => {
  assert.deepEqual(bodyOf('t1 CREATE "Everything" (USE (\\All \\Flagged))'), {
    name: "CREATE",
    mailbox: "Everything",
    specialUse: ["\\All", "\\Flagged"],
  });
  assert.match(refusal("t1 CREATE x (USE (All))"), /lacks its backslash/);
  assert.match(refusal("t1 CREATE x (COLOR (red))"), /Unknown CREATE parameter/);
});

Deno.test("LIST reads the basic form (RFC 9051 §6.3.9)", () => {
  const list = (input: string) => bodyOf(input) as Extract<CommandBody, { name: "LIST" }>;
  assert.deepEqual(list('A101 LIST "" ""'), {
    name: "LIST",
    reference: "",
    patterns: [""],
    selection: [],
    returns: NO_RETURNS,
    basic: true,
  });
  assert.deepEqual(list('A102 LIST #news.comp.mail.misc ""').reference, "#news.comp.mail.misc");
  assert.deepEqual(list("A202 LIST ~/Mail/ %").patterns, ["%"]);
  assert.deepEqual(list("a LIST &ZeVnLIqe-/ *&ZeVnLIqe-%]").patterns, ["*日本語%]"]);
  assert.match(refusal("a LIST x"), /Missing argument/);
  assert.match(refusal('a LIST "" "x" y'), /Expected RETURN/);
});

Deno.test("LIST reads LIST-EXTENDED, LIST-STATUS and SPECIAL-USE options (RFC 5258, 5819, 6154)", () => {
  assert.deepEqual(bodyOf('A02 LIST (SUBSCRIBED) "" "*"'), {
    name: "LIST",
    reference: "",
    patterns: ["*"],
    selection: ["SUBSCRIBED"],
    returns: NO_RETURNS,
    basic: false,
  });
  assert.deepEqual(bodyOf('A03 LIST () "" "%" RETURN (CHILDREN)'), {
    name: "LIST",
    reference: "",
    patterns: ["%"],
    selection: [],
    returns: { ...NO_RETURNS, children: true },
    basic: false,
  });
  assert.deepEqual(bodyOf('C01 LIST (REMOTE SUBSCRIBED RECURSIVEMATCH) "" ("INBOX" "Drafts" Sent/%)'), {
    name: "LIST",
    reference: "",
    patterns: ["INBOX", "Drafts", "Sent/%"],
    selection: ["REMOTE", "SUBSCRIBED", "RECURSIVEMATCH"],
    returns: NO_RETURNS,
    basic: false,
  });
  assert.deepEqual(bodyOf('A01 LIST "" % RETURN (STATUS (MESSAGES UNSEEN) SUBSCRIBED SPECIAL-USE)'), {
    name: "LIST",
    reference: "",
    patterns: ["%"],
    selection: [],
    returns: { subscribed: true, children: false, specialUse: true, status: ["MESSAGES", "UNSEEN"] },
    basic: false,
  });
  assert.deepEqual((bodyOf('t1 LIST (SPECIAL-USE) "" "*"') as { selection: string[] }).selection, [
    "SPECIAL-USE",
  ]);
  assert.match(refusal('a LIST (RECURSIVEMATCH) "" "*"'), /RECURSIVEMATCH needs another/);
  assert.match(refusal('a LIST (FROB) "" "*"'), /Unknown LIST selection option/);
  assert.match(refusal('a LIST "" "*" RETURN (FROB)'), /Unknown or repeated LIST return option/);
  assert.match(refusal('a LIST "" () '), /Expected a mailbox pattern/);
});

Deno.test("STATUS reads every item", () => {
  assert.deepEqual(bodyOf("A042 STATUS blurdybloop (UIDNEXT MESSAGES)"), {
    name: "STATUS",
    mailbox: "blurdybloop",
    items: ["UIDNEXT", "MESSAGES"],
  });
  const all = "MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE RECENT HIGHESTMODSEQ MAILBOXID APPENDLIMIT";
  assert.deepEqual(
    (bodyOf(`a STATUS x (${all.toLowerCase()})`) as { items: string[] }).items,
    all.split(" "),
  );
  assert.match(refusal("a STATUS x ()"), /Expected an atom/);
  assert.match(refusal("a STATUS x (COLOR)"), /Unknown STATUS item/);
  assert.match(refusal("a STATUS x"), /Missing argument/);
});

Deno.test("APPEND reads flags, date-time and the message literal (RFC 9051 §6.3.12)", () => {
  const message =
    "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\nSubject: afternoon meeting\r\n\r\nHello Joe\r\n";
  const input =
    `A003 APPEND saved-messages (\\Seen) " 7-Feb-1994 21:52:25 -0800" {${message.length}}\r\n${message}`;
  assert.deepEqual(bodyOf(input), {
    name: "APPEND",
    mailbox: "saved-messages",
    messages: [{
      flags: ["\\Seen"],
      date: new Date("1994-02-08T05:52:25Z"),
      message: enc.encode(message),
      binary: false,
    }],
  });
  assert.deepEqual(bodyOf("a APPEND INBOX {3+}\r\nabc"), {
    name: "APPEND",
    mailbox: "INBOX",
    messages: [{ flags: [], message: enc.encode("abc"), binary: false }],
  });
  assert.deepEqual(bodyOf('a APPEND INBOX "01-Jan-0099 00:00:00 +0000" {0}\r\n'), {
    name: "APPEND",
    mailbox: "INBOX",
    messages: [{
      flags: [],
      date: new Date("0099-01-01T00:00:00Z"),
      message: new Uint8Array(0),
      binary: false,
    }],
  });
});

Deno.test("APPEND reads literal8 (RFC 3516) and several messages (MULTIAPPEND shape)", () => {
  const withNul = new Uint8Array([
    ...enc.encode("a APPEND INBOX () ~{3}\r\nA"),
    0,
    0x42,
    ...enc.encode(" (\\Seen) {1}\r\nC"),
  ]);
  assert.deepEqual(bodyOf(withNul), {
    name: "APPEND",
    mailbox: "INBOX",
    messages: [
      { flags: [], message: new Uint8Array([0x41, 0, 0x42]), binary: true },
      { flags: ["\\Seen"], message: enc.encode("C"), binary: false },
    ],
  });
  assert.match(
    refusal(new Uint8Array([...enc.encode("a APPEND INBOX {3}\r\nA"), 0, 0x42])),
    /NUL in a message/,
  );
  assert.match(refusal('a APPEND INBOX "message"'), /Malformed date-time|needs the message as a literal/);
  assert.match(refusal("a APPEND INBOX (\\Seen)"), /Missing argument/);
  assert.match(refusal('a APPEND INBOX "30-Feb-2024 00:00:00 +0000" {1}\r\nx'), /No such date-time/);
  assert.match(refusal('a APPEND INBOX "1-Feb-2024 24:00:00 +0000" {1}\r\nx'), /No such date-time/);
  assert.match(refusal('a APPEND INBOX "1-Feb-2024 00:00:00" {1}\r\nx'), /Malformed date-time/);
  assert.match(refusal("a LOGIN x ~{1}\r\ny"), /literal8 is only allowed in APPEND|Expected a space/);
  assert.match(refusal("a SEARCH TEXT ~{1}\r\ny"), /literal8 is only allowed in APPEND|Unexpected/);
});

Deno.test("APPEND reads RFC 6855 §4's UTF8 (literal8) form; an unclosed one is refused", () => {
  const message = "Subject: Grüße\r\n\r\nhi\r\n";
  const size = enc.encode(message).length;
  assert.deepEqual(bodyOf(`a APPEND INBOX (\\Seen) UTF8 (~{${size}+}\r\n${message})`), {
    name: "APPEND",
    mailbox: "INBOX",
    messages: [{ flags: ["\\Seen"], message: enc.encode(message), binary: true }],
  });
  assert.match(refusal(`a APPEND INBOX UTF8 (~{${size}+}\r\n${message}`), /Expected "\)"/);
  assert.match(refusal("a APPEND INBOX UTF8 x"), /needs the message as a literal/);
});
