/** SEARCH, SORT and THREAD arguments (RFC 9051 §6.4.4, ESEARCH RFC 4731, RFC 5256). */
import type { CommandBody } from "./command.ts";
import type { Reader } from "./parser_reader.ts";

/** `SEARCH [RETURN (…)] [CHARSET charset] 1*search-key`. */
export function parseSearch(reader: Reader): CommandBody {
  return reader.fail("SEARCH is not parsed yet");
}

/** `SORT (criteria) charset 1*search-key`. */
export function parseSort(reader: Reader): CommandBody {
  return reader.fail("SORT is not parsed yet");
}

/** `THREAD algorithm charset 1*search-key`. */
export function parseThread(reader: Reader): CommandBody {
  return reader.fail("THREAD is not parsed yet");
}
