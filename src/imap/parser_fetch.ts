/** FETCH and STORE arguments (RFC 9051 §6.4.5, §6.4.6; CONDSTORE RFC 7162). */
import type { CommandBody } from "./command.ts";
import type { Reader } from "./parser_reader.ts";

/** `FETCH sequence-set SP (macro / fetch-att / "(" fetch-att *(SP fetch-att) ")") [modifiers]`. */
export function parseFetch(reader: Reader): CommandBody {
  return reader.fail("FETCH is not parsed yet");
}

/** `STORE sequence-set [modifiers] SP store-att-flags`. */
export function parseStore(reader: Reader): CommandBody {
  return reader.fail("STORE is not parsed yet");
}
