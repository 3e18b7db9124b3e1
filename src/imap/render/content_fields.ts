/**
 * Content-Type and Content-Disposition values as BODYSTRUCTURE shows them (RFC 9051 §7.5.2,
 * body-fld-param): type and subtype as sent, parameter values unquoted, RFC 2231 continuations
 * joined (`name*0*`, `name*1` → one `name*` whose value stays percent-encoded, as Dovecot shows it),
 * parameter names as sent. A bad parameter is skipped to the next ";"; a
 * type without a subtype has subtype "" (Dovecot shows it so).
 */

/** A parsed `type/subtype; name=value…` or `disposition; name=value…` value. */
export interface ContentValue {
  /** The first token ("text", "attachment"). */
  value: string;
  /** The subtype after "/", or "" when there is none. */
  subtype: string;
  params: [string, string][];
}

/** Parses a structured header value (unfolded Latin-1 text); null when it has no leading token. */
export function parseContentValue(text: string, withSubtype: boolean): ContentValue | null {
  let i = 0;
  const skip = () => {
    for (;;) {
      while (i < text.length && " \t\r\n".includes(text[i])) i++;
      if (text[i] !== "(") return;
      let depth = 0;
      for (; i < text.length; i++) {
        if (text[i] === "\\") i++;
        else if (text[i] === "(") depth++;
        else if (text[i] === ")" && --depth === 0) break;
      }
      i++;
    }
  };
  const token = (): string => {
    skip();
    const start = i;
    while (i < text.length && !TSPECIALS.includes(text[i]) && text.charCodeAt(i) > 32) i++;
    return text.slice(start, i);
  };
  const value = token();
  if (!value) return null;
  let subtype = "";
  if (withSubtype) {
    skip();
    if (text[i] === "/") {
      i++;
      subtype = token();
      skip();
    }
    // A type followed by anything but parameters, or not ASCII, is no type; Dovecot shows "" "".
    if ((i < text.length && text[i] !== ";") || /[^\x21-\x7e]/.test(value + subtype)) {
      return { value: "", subtype: "", params: [] };
    }
  }
  const params: [string, string][] = [];
  for (;;) {
    skip();
    if (i >= text.length) break;
    // A bad parameter is skipped up to the next ";", as Dovecot reads on after one.
    if (text[i] !== ";") {
      const next = text.indexOf(";", i);
      if (next === -1) break;
      i = next;
    }
    i++;
    const name = token();
    skip();
    // An empty parameter (";;") ends them; a name without "=" is skipped.
    if (!name) break;
    if (text[i] !== "=") continue;
    i++;
    skip();
    let paramValue: string;
    if (text[i] === '"') {
      paramValue = "";
      for (i++; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === "\\" && i + 1 < text.length) i++;
        paramValue += text[i];
      }
      // An unterminated quoted string ends the parameters, and Dovecot then shows none.
      if (i >= text.length) return { value, subtype, params: [] };
      i++;
    } else {
      paramValue = token();
    }
    params.push([name, paramValue]);
  }
  return { value, subtype, params: joinContinuations(params) };
}

const TSPECIALS = '()<>@,;:\\"/[]?=';

/** RFC 2231 §3 continuations joined in order; names marked `*` (encoded) keep the `*`. */
function joinContinuations(params: [string, string][]): [string, string][] {
  const out: [string, string][] = [];
  // Keyed by the name in lower case (names are case-insensitive); shown as first sent.
  const groups = new Map<string, { base: string; encoded: boolean; pieces: Map<number, string> }>();
  for (const [name, value] of params) {
    const match = /^([^*]+)\*(\d+)(\*?)$/.exec(name);
    if (!match) {
      out.push([name, value]);
      continue;
    }
    let group = groups.get(match[1].toLowerCase());
    if (!group) {
      group = { base: match[1], encoded: false, pieces: new Map() };
      groups.set(match[1].toLowerCase(), group);
    }
    if (match[3]) group.encoded = true;
    if (!group.pieces.has(Number(match[2]))) group.pieces.set(Number(match[2]), value);
  }
  for (const { base, ...group } of groups.values()) {
    let joined = "";
    for (let n = 0; group.pieces.has(n); n++) joined += group.pieces.get(n);
    out.push([group.encoded ? `${base}*` : base, joined]);
  }
  return out;
}
