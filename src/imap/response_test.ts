import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { parser } from "imapflow/lib/handler/imap-handler.js";
import type { ResponseValue } from "./command.ts";
import { atom, itemName, ResponseError, ResponseWriter } from "./response.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("the writer reproduces RFC 9051's example responses", () => {
  const w = new ResponseWriter();
  assert.deepEqual(
    text(w.status({
      status: "OK",
      code: { name: "CAPABILITY", values: [atom("IMAP4rev2"), atom("STARTTLS"), atom("AUTH=GSSAPI")] },
      text: "Server ready",
    })),
    "* OK [CAPABILITY IMAP4rev2 STARTTLS AUTH=GSSAPI] Server ready\r\n",
  );
  assert.deepEqual(
    text(w.status({ tag: "a002", status: "NO", code: { name: "NONEXISTENT" }, text: "No such mailbox" })),
    "a002 NO [NONEXISTENT] No such mailbox\r\n",
  );
  assert.deepEqual(
    text(w.untagged([atom("LIST"), [atom("\\Noselect")], "/", "foo"])),
    '* LIST (\\Noselect) "/" "foo"\r\n',
  );
  assert.deepEqual(
    text(w.untagged([atom("STATUS"), "blurdybloop", [atom("MESSAGES"), 231, atom("UIDNEXT"), 44292]])),
    '* STATUS "blurdybloop" (MESSAGES 231 UIDNEXT 44292)\r\n',
  );
  assert.deepEqual(
    text(w.status({
      status: "OK",
      code: { name: "PERMANENTFLAGS", values: [[atom("\\Deleted"), atom("\\Seen"), atom("\\*")]] },
      text: "Limited",
    })),
    "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n",
  );
  assert.deepEqual(
    text(w.untagged([atom("NAMESPACE"), [["", "/"]], null, null])),
    '* NAMESPACE (("" "/")) NIL NIL\r\n',
  );
  assert.deepEqual(text(w.continuation("idling")), "+ idling\r\n");
  assert.deepEqual(text(w.untagged([atom("SEARCH"), 2, 84n, 882])), "* SEARCH 2 84 882\r\n");
});

Deno.test("strings are quoted with escapes, or literals when they cannot be quoted", () => {
  const w = new ResponseWriter();
  assert.deepEqual(text(w.value('say "hi" \\o/')), '"say \\"hi\\" \\\\o/"');
  assert.deepEqual(text(w.value("two\r\nlines")), "{10}\r\ntwo\r\nlines");
  assert.deepEqual(text(w.value("Grüße")), "{7}\r\nGrüße");
  w.utf8 = true;
  assert.deepEqual(text(w.value("Grüße")), '"Grüße"');
  assert.deepEqual(text(w.value("x".repeat(2000))).slice(0, 8), "{2000}\r\n");
  assert.deepEqual(text(w.value({ bytes: new Uint8Array([0, 1]), binary: true })), "~{2}\r\n\x00\x01");
});

Deno.test("the writer refuses what would break the framing", () => {
  const w = new ResponseWriter();
  for (const bad of ["a b", "(x", "x)", "{3}", '"', "%", "*", "a\r\nb", ""]) {
    assert.throws(() => w.value({ atom: bad }), ResponseError, bad);
  }
  assert.throws(() => w.status({ tag: "a+b", status: "OK", text: "x" }), ResponseError);
  assert.throws(() => w.status({ tag: "a b", status: "OK", text: "x" }), ResponseError);
  assert.throws(() => w.value({ bytes: new Uint8Array([65, 0]) }), ResponseError);
  assert.throws(() => w.value(-1), ResponseError);
  // A status text can never start a second response.
  assert.deepEqual(
    text(w.status({ tag: "a1", status: "NO", text: "bad\r\na2 OK forged" })),
    "a1 NO bad  a2 OK forged\r\n",
  );
  assert.deepEqual(text(w.continuation("x\r\n* BYE")), "+ x  * BYE\r\n");
});

/** Splits a written response the way imapflow's stream does: the line(s), and the literal bytes apart. */
function forImapflow(bytes: Uint8Array): { payload: Uint8Array; literals: Uint8Array[] } {
  const literals: Uint8Array[] = [];
  const kept: number[] = [];
  let i = 0;
  while (i < bytes.length) {
    const lf = bytes.indexOf(10, i);
    const line = bytes.subarray(i, lf + 1);
    kept.push(...line);
    const marker = /\{(\d+)\}\r\n$/.exec(text(line));
    i = lf + 1;
    if (marker) {
      literals.push(bytes.slice(i, i + Number(marker[1])));
      i += Number(marker[1]);
    }
  }
  // imapflow's stream drops the final CRLF.
  return { payload: new Uint8Array(kept.slice(0, -2)), literals };
}

/** What imapflow's parser makes of a value: the same shape as ours, for comparison. */
function normalize(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(normalize);
  const n = node as { type: string; value: unknown };
  if (n === null) return null;
  if (n.type === "ATOM") return { atom: n.value };
  if (n.type === "STRING" || n.type === "LITERAL") {
    return typeof n.value === "string" ? n.value : new TextDecoder().decode(n.value as Uint8Array);
  }
  return n.value;
}

function ours(value: ResponseValue): unknown {
  if (typeof value === "number" || typeof value === "bigint") return { atom: String(value) };
  if (Array.isArray(value)) return value.map(ours);
  if (value && typeof value === "object" && "bytes" in value) return new TextDecoder().decode(value.bytes);
  return value;
}

Deno.test("imapflow's parser reads back what the writer writes (differential)", async () => {
  const w = new ResponseWriter();
  const samples: ResponseValue[][] = [
    [atom("LIST"), [atom("\\HasNoChildren"), atom("\\Sent")], "/", "Sent Items"],
    [atom("STATUS"), 'quo"te\\', [atom("MESSAGES"), 0, atom("UNSEEN"), 12]],
    [atom("X"), "multi\r\nline", ["nested", ["deeper", null]], "", "Grüße"],
    [atom("X"), { bytes: new TextEncoder().encode("raw {5}\r\nbytes") }, "after"],
  ];
  // Random strings over a hostile alphabet.
  const alphabet = ['"', "\\", "{", "}", "(", ")", " ", "\r", "\n", "a", "é", "*", "%", "~", "[", "]"];
  for (let n = 0; n < 200; n++) {
    const s = Array.from({ length: n % 17 }, () => alphabet[Math.floor(Math.random() * alphabet.length)])
      .join("");
    samples.push([atom("X"), s, [s, atom("Y")]]);
  }
  for (const values of samples) {
    const { payload, literals } = forImapflow(w.untagged(values));
    const parsed = await parser(Buffer.from(payload), { literals: literals.map((l) => Buffer.from(l)) }) as {
      tag: string;
      command: string;
      attributes: unknown[];
    };
    assert.deepEqual(parsed.tag, "*");
    assert.deepEqual(parsed.command, (values[0] as { atom: string }).atom);
    assert.deepEqual((parsed.attributes ?? []).map(normalize), values.slice(1).map(ours));
  }
});

Deno.test("FETCH item names are written as is, and never with a control character", () => {
  const w = new ResponseWriter();
  const body = new TextEncoder().encode("Subject: x\r\n\r\n");
  assert.equal(
    text(w.untagged([
      3,
      atom("FETCH"),
      [itemName('BODY[1.HEADER.FIELDS (SUBJECT "X]Y")]<0>'), { bytes: body }, atom("UID"), 7],
    ])),
    '* 3 FETCH (BODY[1.HEADER.FIELDS (SUBJECT "X]Y")]<0> {14}\r\nSubject: x\r\n\r\n UID 7)\r\n',
  );
  for (const bad of ["BODY[]\r\n* BYE", "BODY[\n]", "BODY[\0]", "", "(BODY)", "BODY[é]"]) {
    assert.throws(() => itemName(bad), ResponseError, JSON.stringify(bad));
    assert.throws(
      () => w.untagged([1, atom("FETCH"), [{ itemName: bad }, 1]]),
      ResponseError,
      JSON.stringify(bad),
    );
  }
});
