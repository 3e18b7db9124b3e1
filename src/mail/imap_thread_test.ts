/** Tests of SORT and THREAD over stored facts (RFC 5256), pure. */
import assert from "node:assert/strict";
import { baseSubject, type SortFacts, sortUids } from "./imap_sort.ts";
import { orderedSubject, references, type ThreadNode } from "./imap_thread.ts";

function row(
  uid: number,
  fields: { subject?: string; date?: number; id?: string; refs?: string[]; replyTo?: string },
): SortFacts {
  return {
    uid,
    size: 100 + uid,
    receivedAt: uid * 1000,
    sentMs: fields.date ?? uid * 1000,
    subject: fields.subject ?? `s${uid}`,
    headers: JSON.stringify({
      messageId: fields.id ? [fields.id] : null,
      references: fields.refs ?? null,
      inReplyTo: fields.replyTo ? [fields.replyTo] : null,
      from: [{ name: null, email: `u${uid % 3}@x` }],
    }),
  };
}

const uidsOf = (nodes: ThreadNode[]): number[] =>
  nodes.flatMap((n) => [...(n.uid !== undefined ? [n.uid] : []), ...uidsOf(n.children)]);

Deno.test("the base subject of RFC 5256 §2.1: prefixes, blobs, (fwd) trailers and [fwd: …] wrappers", () => {
  const cases: [string, string, boolean][] = [
    ["Re: hello", "hello", true],
    ["RE: [list] Fwd: hello", "hello", true],
    ["Re[2]: hello", "hello", true],
    ["[list] hello", "hello", false],
    ["[list]", "[list]", false],
    ["hello (fwd)", "hello", true],
    ["[fwd: Re: hello]", "hello", true],
    ["  many   spaces\there ", "many spaces here", false],
    ["Aw: hallo", "Aw: hallo", false],
    ["", "", false],
  ];
  for (const [subject, base, isReply] of cases) {
    assert.deepEqual(baseSubject(subject), { base, isReply }, subject);
  }
});

Deno.test("SORT ties keep sequence order even under REVERSE; text compares under i;ascii-casemap", () => {
  const rows = [
    row(1, { subject: "b" }),
    row(2, { subject: "B" }),
    row(3, { subject: "_a" }),
    row(4, { subject: "a" }),
  ];
  // i;ascii-casemap upper-cases: "A" < "B" < "_A" (0x5F after the letters).
  assert.deepEqual(sortUids(rows, [{ key: "SUBJECT", reverse: false }]), [4, 1, 2, 3]);
  assert.deepEqual(sortUids(rows, [{ key: "SUBJECT", reverse: true }]), [3, 1, 2, 4]);
});

Deno.test("REFERENCES survives loops, self-references and duplicate Message-IDs", () => {
  const rows = [
    row(1, { id: "a", refs: ["b"] }),
    row(2, { id: "b", refs: ["a"] }),
    row(3, { id: "c", refs: ["c"] }),
    row(4, { id: "a", refs: ["c"] }),
    row(5, { refs: ["x", "y", "x"] }),
  ];
  const threads = references(rows);
  assert.deepEqual(uidsOf(threads).sort(), [1, 2, 3, 4, 5]);
});

Deno.test("REFERENCES and ORDEREDSUBJECT place every message exactly once for random reference graphs", () => {
  let seed = 7;
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  for (let round = 0; round < 200; round++) {
    const count = 1 + random(25);
    const rows = Array.from({ length: count }, (_, i) =>
      row(i + 1, {
        id: random(5) ? `m${random(count + 3)}` : undefined,
        refs: Array.from({ length: random(4) }, () => `m${random(count + 3)}`),
        replyTo: random(3) ? undefined : `m${random(count)}`,
        subject: ["Re: x", "x", "y", "Fwd: y", "", "[l] z"][random(6)],
        date: random(5) * 1000,
      }));
    for (const threads of [references(rows), orderedSubject(rows)]) {
      assert.deepEqual(uidsOf(threads).sort((a, b) => a - b), rows.map((r) => r.uid), `round ${round}`);
    }
  }
});
