/**
 * Sequence sets (RFC 9051 §9 `sequence-set`, `$` of RFC 5182): parsed into ranges as sent, never
 * expanded, so `1:4294967295` costs one range; `*:1` keeps its order (a range means the same
 * either way round, the handler orders it).
 */
import type { SequenceRange, SequenceSet } from "./command.ts";
import type { Reader } from "./parser_reader.ts";

/** Reads a `sequence-set` or `$`. */
export function readSequenceSet(reader: Reader): SequenceSet {
  if (reader.tryChar("$")) return "$";
  const ranges: SequenceRange[] = [];
  do {
    const start = seqNumber(reader);
    const end = reader.tryChar(":") ? seqNumber(reader) : start;
    ranges.push({ start, end });
  } while (reader.tryChar(","));
  return ranges;
}

function seqNumber(reader: Reader): number | "*" {
  if (reader.tryChar("*")) return "*";
  return reader.nzNumber();
}

/** Writes a sequence set back in its wire form (`1:3,5,*`). */
export function formatSequenceSet(set: SequenceSet): string {
  if (set === "$") return "$";
  return set.map(({ start, end }) => start === end ? `${start}` : `${start}:${end}`).join(",");
}
