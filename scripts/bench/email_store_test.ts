import assert from "node:assert/strict";
import { generatedMessage, rareWordOf, WORDS } from "./email_store.ts";
import { KINDS, mixFilter, PREFIX_KIND } from "./text_search.ts";

const decoder = new TextDecoder();
const bodyWords = (i: number) => decoder.decode(generatedMessage(i)).split("\r\n\r\n")[1].split(/\s+/);

Deno.test("the generator's word classes are distinct words, none shared between classes", () => {
  const all = [...WORDS.common, ...WORDS.rarer, ...WORDS.rare];
  assert.deepEqual(new Set(all).size, all.length);
  assert.deepEqual(WORDS.rarer.length, 8000);
  assert.deepEqual(WORDS.rare.length, 20_000);
});

Deno.test("a rare word is in the bodies of five consecutive messages and no other", () => {
  const rare = new Set(WORDS.rare);
  const holders = new Map<string, number[]>();
  for (let i = 0; i < 1000; i++) {
    const found = bodyWords(i).filter((w) => rare.has(w));
    assert.deepEqual(found, [rareWordOf(i)]);
    holders.set(found[0], [...holders.get(found[0]) ?? [], i]);
  }
  assert.deepEqual(holders.size, 200);
  for (const [word, list] of holders) {
    assert.deepEqual(list, [0, 1, 2, 3, 4].map((k) => list[0] + k), word);
    assert.deepEqual(list[0] % 5, 0);
  }
});

Deno.test("a rarer word is in a few percent of the messages, a common word in nearly all", () => {
  const count = 2000;
  const holding = (word: string) => {
    let n = 0;
    for (let i = 0; i < count; i++) if (bodyWords(i).includes(word)) n++;
    return n / count;
  };
  const rarer = [0, 37, 74, 111, 148].map((k) => holding(WORDS.rarer[k]));
  assert(rarer.every((f) => f > 0 && f < 0.15), `rarer: ${rarer}`);
  assert(holding(WORDS.common[0]) > 0.95);
});

Deno.test("generated messages stay about 10 KB", () => {
  for (const i of [0, 1, 299, 300, 9999, 99_999]) {
    const size = generatedMessage(i).length;
    assert(size > 9_600 && size < 10_500, `message ${i}: ${size} bytes`);
  }
});

Deno.test("the mix asks each kind under its name, with a word of that class", () => {
  const text = (i: number) => (mixFilter(i, "I", "A") as { text: string }).text;
  const round = KINDS.length * 7;
  assert.equal(KINDS[0], "common word");
  assert.ok(WORDS.common.includes(text(round)));
  assert.equal(KINDS[1], "rarer word");
  assert.ok(WORDS.rarer.includes(text(round + 1)));
  assert.equal(KINDS[PREFIX_KIND], "3-letter prefix");
  assert.equal(text(round + PREFIX_KIND).length, 3);
  assert.equal(KINDS[3], "rare word");
  assert.ok(WORDS.rare.includes(text(round + 3)));
  assert.equal(KINDS[8], "rare + inMailbox");
  const last = mixFilter(round + 8, "I", "A") as { conditions: Record<string, string>[] };
  assert.equal(last.conditions[0].inMailbox, "I");
  assert.ok(WORDS.rare.includes(last.conditions[1].text));
});
