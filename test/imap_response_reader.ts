/**
 * Reads IMAP response values (RFC 9051 §4) for differential tests: numbers, NIL, atoms, quoted
 * strings, literals (`{n}` and `~{n}`) and parenthesized lists, with every string kept as Latin-1
 * text (one char per octet) so two servers' answers compare octet for octet.
 */
import type { ResponseValue } from "../src/imap/command.ts";

/** A value as read: strings and literals are both strings; atoms are `{ atom }`. */
export type ReadValue = number | null | string | { atom: string } | ReadValue[];

/** The data items of every `* n FETCH (…)` response in `bytes`, by message number then item name. */
export function readFetchResponses(bytes: Uint8Array): Map<number, Map<string, ReadValue>> {
  const text = latin1(bytes);
  const out = new Map<number, Map<string, ReadValue>>();
  let i = 0;
  while (i < text.length) {
    const match = /^\* (\d+) FETCH \(/.exec(text.slice(i, i + 40));
    if (!match) {
      const lf = text.indexOf("\n", i);
      i = lf === -1 ? text.length : lf + 1;
      continue;
    }
    i += match[0].length;
    const items = out.get(Number(match[1])) ?? new Map<string, ReadValue>();
    out.set(Number(match[1]), items);
    while (text[i] !== ")") {
      if (text[i] === " ") i++;
      let depth = 0;
      const start = i;
      while (depth > 0 || text[i] !== " ") {
        if (text[i] === "[") depth++;
        if (text[i] === "]") depth--;
        i++;
      }
      const name = text.slice(start, i);
      i++;
      const [value, next] = readValue(text, i);
      items.set(name, value);
      i = next;
    }
    i++;
  }
  return out;
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let k = 0; k < bytes.length; k += 8192) s += String.fromCharCode(...bytes.subarray(k, k + 8192));
  return s;
}

function readValue(text: string, i: number): [ReadValue, number] {
  const c = text[i];
  if (c === "(") {
    const list: ReadValue[] = [];
    i++;
    while (text[i] !== ")") {
      if (text[i] === " ") {
        i++;
        continue;
      }
      const [value, next] = readValue(text, i);
      list.push(value);
      i = next;
    }
    return [list, i + 1];
  }
  if (c === '"') {
    let s = "";
    for (i++; text[i] !== '"'; i++) {
      if (text[i] === "\\") i++;
      s += text[i];
    }
    return [s, i + 1];
  }
  const literal = /^~?\{(\d+)\}\r\n/.exec(text.slice(i, i + 24));
  if (literal) {
    const start = i + literal[0].length;
    return [text.slice(start, start + Number(literal[1])), start + Number(literal[1])];
  }
  let j = i;
  while (j < text.length && !" ()\r\n".includes(text[j])) j++;
  const word = text.slice(i, j);
  if (word === "NIL") return [null, j];
  if (/^\d+$/.test(word)) return [Number(word), j];
  return [{ atom: word }, j];
}

/** One of our response values in the same shape as a read one. */
export function normalize(value: ResponseValue): ReadValue {
  if (value === null) return null;
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "string") return String.fromCharCode(...new TextEncoder().encode(value));
  if (Array.isArray(value)) return value.map(normalize);
  if ("atom" in value) return { atom: value.atom };
  if ("itemName" in value) return { atom: value.itemName };
  return latin1(value.bytes);
}
