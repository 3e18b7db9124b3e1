/**
 * HTML as plain text, for previews and search: tags dropped, blocks as line breaks, entities decoded.
 * One forward scan, linear in the input whatever it holds: an unterminated `<`, `<!--` or `<style`
 * (which made the regular expressions this replaces backtrack over the rest of the document for each
 * one) is found unterminated once and read as text from then on.
 */

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
  copy: "©",
  reg: "®",
  hellip: "…",
  mdash: "—",
  ndash: "–",
  laquo: "«",
  raquo: "»",
  euro: "€",
};

/** Elements whose content a reader does not see: dropped up to their end tag. */
const HIDDEN = new Set(["script", "style", "head", "title"]);
/** Tags that break a line (an end tag only where listed with its slash). */
const BLOCKS = new Set([
  "br",
  "/p",
  "/div",
  "/li",
  "/tr",
  "/h1",
  "/h2",
  "/h3",
  "/h4",
  "/h5",
  "/h6",
  "p",
  "div",
  "li",
  "tr",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
]);
const TAG_NAME = /<(\/?)(\w+)/y;

/** Options of {@link htmlToText}. */
export interface HtmlToTextOptions {
  /** Stop reading once this many characters of text (before white space is collapsed) are out. */
  limit?: number;
}

/** The text a reader sees of an HTML document (no script, style or head content). */
export function htmlToText(html: string, options: HtmlToTextOptions = {}): string {
  const limit = options.limit ?? Infinity;
  const parts: string[] = [];
  let length = 0;
  const emit = (text: string) => {
    parts.push(text);
    length += text.length;
  };
  // Where the next ">", "-->" and hidden element's end tag are from the scan's position; each is
  // searched again only once the scan has passed it, so no stretch of the input is searched twice.
  let gt = -2;
  let commentEnd = -2;
  const ends = new Map<string, { at: number; after: number }>();
  const nextGt = (from: number) => gt >= from || gt === -1 ? gt : (gt = html.indexOf(">", from));
  const nextCommentEnd = (from: number) =>
    commentEnd >= from || commentEnd === -1 ? commentEnd : (commentEnd = html.indexOf("-->", from));
  const nextEnd = (name: string, from: number) => {
    const known = ends.get(name);
    if (known && (known.at >= from || known.at === -1)) return known;
    const pattern = new RegExp(`</${name}\\s*>`, "gi");
    pattern.lastIndex = from;
    const match = pattern.exec(html);
    const found = match ? { at: match.index, after: match.index + match[0].length } : { at: -1, after: -1 };
    ends.set(name, found);
    return found;
  };
  let at = 0;
  while (at < html.length && length < limit) {
    const open = html.indexOf("<", at);
    if (open < 0) break;
    emit(html.slice(at, open));
    at = open;
    if (html.startsWith("<!--", open)) {
      const end = nextCommentEnd(open + 4);
      if (end >= 0) {
        emit(" ");
        at = end + 3;
        continue;
      }
    }
    TAG_NAME.lastIndex = open;
    const tag = TAG_NAME.exec(html);
    const name = tag ? tag[1] + tag[2].toLowerCase() : "";
    if (HIDDEN.has(name)) {
      const end = nextEnd(name, TAG_NAME.lastIndex);
      if (end.at >= 0) {
        emit(" ");
        at = end.after;
        continue;
      }
    }
    const close = nextGt(open + 1);
    if (close < 0) break; // No tag ends anywhere after: the rest is text.
    emit(BLOCKS.has(name) ? "\n" : " ");
    at = close + 1;
  }
  if (at < html.length && length < limit) emit(html.slice(at));
  return parts.join("")
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, name: string) => {
      if (name[0] === "#") {
        const code = name[1] === "x" || name[1] === "X"
          ? parseInt(name.slice(2), 16)
          : parseInt(name.slice(1), 10);
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
      }
      return ENTITIES[name.toLowerCase()] ?? entity;
    })
    .replace(/[ \t\u00a0]+/g, " ")
    .replace(/ *\n[\s]*/g, "\n")
    .trim();
}
