/**
 * An address header as the envelope lists it (RFC 9051 §7.5.2): each address is (name adl mailbox
 * host), a group is a start marker (NIL NIL name NIL), its members and an end marker
 * (NIL NIL NIL NIL). Parsed the way Dovecot's message-address parser does, so clients see the same
 * answers: names keep their encoded words, quoted names are unquoted, a missing local part or
 * domain is "MISSING_MAILBOX"/"MISSING_DOMAIN", a name-less address takes its comment as its name,
 * on a syntax error inside an address one placeholder address ends the list, and text after a
 * complete address ends it too.
 */

/** One envelope address; null fields are NIL. */
export interface EnvelopeAddress {
  name: string | null;
  adl: string | null;
  mailbox: string | null;
  host: string | null;
}

type Token =
  | { kind: "word"; text: string; quoted: boolean }
  | { kind: "comment"; text: string }
  | { kind: "special"; text: string }
  | { kind: "literal"; text: string }
  | { kind: "error" };

const SPECIALS = '<>@,;:[]\\"()';

/** The tokens of an unfolded header value (Latin-1 text). */
function tokenize(value: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < value.length) {
    const c = value[i];
    if (c === " " || c === "\t" || c === "\r" || c === "\n") {
      i++;
    } else if (c === "(") {
      let depth = 0;
      let text = "";
      for (; i < value.length; i++) {
        const d = value[i];
        if (d === "\\" && i + 1 < value.length) text += value[++i];
        else if (d === "(") depth++ > 0 && (text += d);
        else if (d === ")") {
          if (--depth === 0) break;
          text += d;
        } else text += d;
      }
      i++;
      tokens.push({ kind: "comment", text: text.trim() });
    } else if (c === '"') {
      let text = "";
      let closed = false;
      for (i++; i < value.length; i++) {
        const d = value[i];
        if (d === "\\" && i + 1 < value.length) text += value[++i];
        else if (d === '"') {
          closed = true;
          break;
        } else text += d;
      }
      i++;
      tokens.push(closed ? { kind: "word", text, quoted: true } : { kind: "error" });
    } else if (c === "[") {
      const close = value.indexOf("]", i);
      if (close === -1) {
        tokens.push({ kind: "error" });
        break;
      }
      tokens.push({ kind: "literal", text: value.slice(i, close + 1) });
      i = close + 1;
    } else if (SPECIALS.includes(c)) {
      tokens.push({ kind: "special", text: c });
      i++;
    } else {
      let j = i;
      while (j < value.length && !SPECIALS.includes(value[j]) && !" \t\r\n".includes(value[j])) j++;
      tokens.push({ kind: "word", text: value.slice(i, j), quoted: false });
      i = j;
    }
  }
  return tokens;
}

const MISSING_MAILBOX = "MISSING_MAILBOX";
const MISSING_DOMAIN = "MISSING_DOMAIN";

/** The addresses (and group markers) of an address header value; an empty list for an empty value. */
export function parseAddressList(value: string): EnvelopeAddress[] {
  const tokens = tokenize(value);
  const out: EnvelopeAddress[] = [];
  let i = 0;
  let inGroup = false;
  const peek = () => tokens[i];
  const isSpecial = (t: Token | undefined, s: string) => t?.kind === "special" && t.text === s;
  const skipComments = (): string | null => {
    let last: string | null = null;
    while (peek()?.kind === "comment") last = (tokens[i++] as { text: string }).text;
    return last;
  };
  const fail = () => {
    out.push({ name: null, adl: null, mailbox: MISSING_MAILBOX, host: MISSING_DOMAIN });
    return out;
  };
  /** local-part ["@" domain] from the current token; null on a syntax error. */
  const addrSpec = (): { mailbox: string; host: string } | null => {
    let local = "";
    while (peek()?.kind === "word" || peek()?.kind === "comment") {
      const t = tokens[i++];
      if (t.kind === "word") local += t.quoted ? t.text : t.text;
    }
    let host = "";
    if (isSpecial(peek(), "@")) {
      i++;
      while (peek()?.kind === "word" || peek()?.kind === "literal" || peek()?.kind === "comment") {
        const t = tokens[i++];
        if (t.kind !== "comment") host += (t as { text: string }).text;
      }
    }
    // A domain that is no dot-atom ("example.", "a..b") is missing, as Dovecot reads it.
    const domain = /^(\[.*\]|[^.]+(\.[^.]+)*)$/.test(host) ? host : "";
    return { mailbox: local || MISSING_MAILBOX, host: domain || MISSING_DOMAIN };
  };
  while (i < tokens.length) {
    skipComments();
    const t = peek();
    if (!t) break;
    if (t.kind === "error") return fail();
    if (isSpecial(t, ",")) {
      i++;
      continue;
    }
    if (inGroup && isSpecial(t, ";")) {
      i++;
      inGroup = false;
      out.push({ name: null, adl: null, mailbox: null, host: null });
      continue;
    }
    // A phrase, then ":" (a group), "<" (a name-addr), or it was the local part of an addr-spec.
    const phraseStart = i;
    const words: string[] = [];
    while (peek()?.kind === "word" || peek()?.kind === "comment") {
      const w = tokens[i++];
      if (w.kind === "word") words.push(w.text);
    }
    const next = peek();
    if (isSpecial(next, ":") && !inGroup) {
      i++;
      inGroup = true;
      out.push({ name: null, adl: null, mailbox: words.join(" ") || MISSING_MAILBOX, host: null });
      continue;
    }
    if (isSpecial(next, "<")) {
      i++;
      let adl: string | null = null;
      if (isSpecial(peek(), "@")) {
        // An obsolete route: "@a,@b:" before the address.
        const route: string[] = [];
        while (isSpecial(peek(), "@") || isSpecial(peek(), ",")) {
          if (isSpecial(tokens[i++], "@")) {
            const d = tokens[i++];
            if (!d || (d.kind !== "word" && d.kind !== "literal")) return fail();
            route.push("@" + d.text);
          }
        }
        if (!isSpecial(tokens[i++], ":")) return fail();
        adl = route.join(",");
      }
      const spec = isSpecial(peek(), ">") ? { mailbox: MISSING_MAILBOX, host: MISSING_DOMAIN } : addrSpec();
      if (!spec || !isSpecial(tokens[i++], ">")) return fail();
      out.push({ name: words.length ? words.join(" ") : null, adl, ...spec });
    } else {
      i = phraseStart;
      const spec = addrSpec();
      if (!spec) return fail();
      // A comment after the address is its name, as in "bob@example.org (Bob)".
      let comment: string | null = null;
      for (let k = i - 1; k >= phraseStart && tokens[k].kind === "comment"; k--) {
        comment ??= (tokens[k] as { text: string }).text;
      }
      comment ??= skipComments();
      out.push({ name: comment || null, adl: null, ...spec });
    }
    skipComments();
    const after = peek();
    // Anything else after an address ends the list there (Dovecot adds no placeholder for it).
    if (after && !isSpecial(after, ",") && !(inGroup && isSpecial(after, ";"))) return out;
  }
  if (inGroup) out.push({ name: null, adl: null, mailbox: null, host: null });
  return out;
}
