/**
 * What LIST walks (RFC 9051 §6.3.9, RFC 5258): every visible mailbox, plus the levels of the
 * "Other Users" namespace that are no mailbox ("Other Users", "Other Users/<login>"), which are
 * listed as \Noselect (\NonExistent in the extended form) with children; and the pattern matcher
 * (`*` any characters, `%` any but the delimiter; "INBOX" in any case).
 */
import { DELIMITER, type NamedMailbox, normalizeName } from "./mailbox_names.ts";

/** One name LIST may answer. */
export interface ListEntry {
  path: string;
  /** The mailbox, or undefined for a level that is no mailbox. */
  mailbox?: NamedMailbox;
  /** Base attributes (\Noselect or \NonExistent for a level that is no mailbox). */
  flags: string[];
  children: boolean;
}

/** The entries LIST considers, mailboxes and the namespace levels above shared ones. */
export function listed(all: NamedMailbox[], options: { extended: boolean }): ListEntry[] {
  const paths = new Set(all.map((m) => m.path));
  const parents = new Set<string>();
  for (const m of all) {
    const parts = m.path.split(DELIMITER);
    for (let i = 1; i < parts.length; i++) parents.add(parts.slice(0, i).join(DELIMITER));
  }
  const entries: ListEntry[] = all.map((m) => ({
    path: m.path,
    mailbox: m,
    flags: [],
    children: parents.has(m.path),
  }));
  const level = options.extended ? "\\NonExistent" : "\\Noselect";
  for (const parent of parents) {
    if (!paths.has(parent)) entries.push({ path: parent, flags: [level], children: true });
  }
  return entries.sort((a, b) => a.path.localeCompare(b.path));
}

/** A predicate for names matching `reference` + `pattern`. */
export function matcher(reference: string, pattern: string): (path: string) => boolean {
  const canonical = normalizeName(reference + pattern);
  let source = "";
  for (const char of canonical) {
    if (char === "*") source += ".*";
    else if (char === "%") source += `[^${DELIMITER}]*`;
    else source += char.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  const regex = new RegExp(`^${source}$`, "su");
  return (path) => regex.test(normalizeName(path));
}
