/**
 * RFC 8621 §5 SearchSnippet text: where the words of a search appear in a subject or a body, marked
 * with <mark>…</mark> and HTML-escaped. Words are found the way the full-text index finds them
 * (SQLite FTS5 `unicode61 remove_diacritics 2`, each search word a prefix): tokens are split where
 * the index splits them (src/model/search_words.ts), compared in lower case with the diacritics of
 * Latin letters removed, so "cafe" marks "Café" and "CAFÉS". The index stores no copy of the text (it is contentless); the text comes
 * from the message itself.
 */
import { tokenSpans } from "../model/search_words.ts";

/** A Latin letter with the combining marks that follow it once decomposed. */
const LATIN_MARKS = /(\p{Script=Latin})\p{M}+/gu;

/** Only ASCII (any UTF-16 unit above 0x7f, surrogates included, is not). */
const ASCII = /^[^\u0080-\uffff]*$/;
const ASCII_TOKEN = /[A-Za-z0-9]+/g;

/** RFC 8621 §5: a body snippet is at most 255 octets, markup included. */
export const SNIPPET_MAX_OCTETS = 255;
/** Tokens a body snippet shows around its matches at most (as FTS5's snippet() is usually asked for). */
const SNIPPET_TOKENS = 32;
/** Tokens of context kept before the first match of a snippet. */
const LEAD_TOKENS = 4;

/**
 * Characters of a search word that marking compares: a longer word marks the tokens that start with
 * its first 256 characters (the only place a snippet differs from the index), so no word costs more
 * than that to look for in each token.
 */
export const MAX_TERM_LENGTH = 256;

/** The search words (as a user typed them) folded for matching, without duplicates or empty ones. */
export function searchTerms(words: readonly string[]): string[] {
  const terms = new Set<string>();
  for (const word of words) {
    for (const { start, end } of tokenSpans(word)) {
      terms.add(fold(word.slice(start, end)).slice(0, MAX_TERM_LENGTH));
    }
  }
  return [...terms].filter(Boolean);
}

/**
 * The index of the first term a folded token starts with, or -1: a lookup of each of the token's
 * prefixes as long as some term, so thousands of terms (a filter of 1,024 conditions of 32 words)
 * cost per token what their distinct lengths do, not what their number does.
 */
function termMatcher(terms: readonly string[]): (token: string) => number {
  const first = new Map<string, number>();
  terms.forEach((term, i) => {
    if (!first.has(term)) first.set(term, i);
  });
  const lengths = [...new Set(terms.map((t) => t.length))].sort((a, b) => a - b);
  return (token) => {
    let best = -1;
    for (const length of lengths) {
      if (length > token.length) break;
      const index = first.get(token.length === length ? token : token.slice(0, length));
      if (index !== undefined && (best < 0 || index < best)) best = index;
    }
    return best;
  };
}

/** The whole text with every matching token marked, escaped; null when nothing matches (SearchSnippet subject). */
export function highlight(text: string, terms: readonly string[]): string | null {
  const tokens = tokenize(text, terms);
  if (!tokens.some((t) => t.term >= 0)) return null;
  return render(text, tokens, 0, tokens.length, 0, text.length);
}

/**
 * A fragment of the text around its matches (the window of tokens with the most distinct search
 * words, the earliest of equals), marked and escaped, "…" where the text goes on, at most
 * `maxOctets` of UTF-8; null when nothing matches (SearchSnippet preview).
 */
export function snippet(
  text: string,
  terms: readonly string[],
  maxOctets = SNIPPET_MAX_OCTETS,
): string | null {
  const tokens = tokenize(text, terms);
  const hits = tokens.flatMap((t, i) => t.term >= 0 ? [i] : []);
  if (hits.length === 0) return null;
  // Each hit, with a few tokens before it, starts a candidate window; two pointers count its distinct terms.
  let best = { start: 0, score: -1 };
  const counts = new Map<number, number>();
  let last = 0;
  for (let first = 0; first < hits.length; first++) {
    const start = Math.max(0, hits[first] - LEAD_TOKENS);
    while (last < hits.length && hits[last] < start + SNIPPET_TOKENS) {
      const term = tokens[hits[last++]].term;
      counts.set(term, (counts.get(term) ?? 0) + 1);
    }
    if (counts.size > best.score) best = { start, score: counts.size };
    const term = tokens[hits[first]].term;
    const left = counts.get(term)! - 1;
    if (left === 0) counts.delete(term);
    else counts.set(term, left);
  }
  const encoder = new TextEncoder();
  const first = hits.find((h) => h >= best.start)!;
  // Characters of tokens [0, i): a fragment whose tokens alone pass the limit is not even rendered
  // (each character is at least one octet), so one huge token costs no render per candidate.
  const tokenChars = [0];
  for (const token of tokens) tokenChars.push(tokenChars.at(-1)! + token.end - token.start);
  for (let end = Math.min(tokens.length, best.start + SNIPPET_TOKENS); end > first; end--) {
    // Lead tokens go before another token is cut from the end; the first match always shows.
    for (let start = best.start; start <= first; start++) {
      if (tokenChars[end] - tokenChars[start] > maxOctets) continue;
      const out = fragment(text, tokens, start, end);
      if (encoder.encode(out).length <= maxOctets) return out;
    }
  }
  // A single token longer than the limit: its start, cut at a character boundary, in one pass.
  const token = tokens[first];
  const before = first > 0 ? "…" : "";
  const frame = `${before}<mark></mark>…`;
  let room = maxOctets - encoder.encode(frame).length;
  let kept = "";
  for (const char of text.slice(token.start, Math.min(token.end, token.start + 2 * maxOctets))) {
    const escaped = escapeHtml(char);
    room -= encoder.encode(escaped).length;
    if (room < 0 && kept !== "") break;
    kept += escaped;
  }
  return `${before}<mark>${kept}</mark>…`;
}

/** Escapes the characters that mean something in HTML. */
function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll(
    '"',
    "&quot;",
  );
}

interface Token {
  start: number;
  end: number;
  /** Index of the search term it matches, or -1. */
  term: number;
}

function fold(word: string): string {
  // Most words are ASCII: lower case is all their folding (normalizing costs ten times more).
  if (ASCII.test(word)) return word.toLowerCase();
  return word.normalize("NFD").replace(LATIN_MARKS, "$1").normalize("NFC").toLowerCase();
}

function tokenize(text: string, terms: readonly string[]): Token[] {
  const tokens: Token[] = [];
  const match = termMatcher(terms);
  // ASCII text (most mail) splits faster without Unicode classes, to the same tokens.
  if (ASCII.test(text)) {
    const lower = text.toLowerCase();
    for (const found of lower.matchAll(ASCII_TOKEN)) {
      const start = found.index;
      tokens.push({ start, end: start + found[0].length, term: match(found[0]) });
    }
    return tokens;
  }
  for (const { start, end } of tokenSpans(text)) {
    tokens.push({ start, end, term: match(fold(text.slice(start, end))) });
  }
  return tokens;
}

/** Tokens [start, end) with the text between them, "…" where the text goes on beyond them. */
function fragment(text: string, tokens: Token[], start: number, end: number): string {
  const from = tokens[start].start;
  const to = tokens[end - 1].end;
  // Text goes on where tokens do, or where more than white space lies beyond the first or last token.
  const before = start > 0 || text.slice(0, tokens[0].start).trim() ? "…" : "";
  const after = end < tokens.length || text.slice(tokens[tokens.length - 1].end).trim() ? "…" : "";
  return before + render(text, tokens, start, end, from, to).replace(/\s+/g, " ") + after;
}

/** The text from `from` to `to`, escaped, with the matching tokens among [start, end) marked. */
function render(text: string, tokens: Token[], start: number, end: number, from: number, to: number): string {
  let out = "";
  let at = from;
  for (let i = start; i < end; i++) {
    const token = tokens[i];
    if (token.term < 0) continue;
    out += escapeHtml(text.slice(at, token.start)) +
      `<mark>${escapeHtml(text.slice(token.start, token.end))}</mark>`;
    at = token.end;
  }
  return out + escapeHtml(text.slice(at, to));
}
