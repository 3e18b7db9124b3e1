/**
 * JSON from clients, with a nesting limit: V8's JSON.parse takes any depth, but what reads the
 * result afterwards (validation, serialisation, the methods) recurses, and a body nested 10,000
 * deep ran out of stack there (a 500). A document nested deeper than this is refused before parsing.
 */

/** The deepest nesting of arrays and objects a client's JSON may have. */
export const MAX_JSON_DEPTH = 128;

/**
 * `JSON.parse`, refusing a document nested deeper than `maxDepth` with a SyntaxError (so callers'
 * existing "not valid JSON" handling answers it as a client error).
 */
export function parseJson(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  if (nestedDeeperThan(text, maxDepth)) {
    throw new SyntaxError(`JSON nested deeper than ${maxDepth} levels`);
  }
  return JSON.parse(text);
}

/**
 * Whether arrays and objects in `text` open more than `maxDepth` levels deep (brackets inside strings
 * do not count). A text no longer than `maxDepth` cannot be, and is not scanned; strings are skipped
 * with indexOf, so a large body made of long strings costs little.
 */
export function nestedDeeperThan(text: string, maxDepth: number): boolean {
  if (text.length <= maxDepth) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let end = i;
      do {
        end = text.indexOf('"', end + 1);
        if (end < 0) return false; // an unterminated string: JSON.parse reports it
      } while (escaped(text, end));
      i = end;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}

/** Whether the quote at `at` is escaped (preceded by an odd number of backslashes). */
function escaped(text: string, at: number): boolean {
  let slashes = 0;
  while (text.charCodeAt(at - 1 - slashes) === 0x5c /* \ */) slashes++;
  return slashes % 2 === 1;
}
