/** Mailbox commands with options: SELECT/EXAMINE, CREATE, LIST, STATUS, APPEND. */
import type { CommandBody } from "./command.ts";
import type { Reader } from "./parser_reader.ts";

/** SELECT/EXAMINE. */
export function parseSelect(reader: Reader): CommandBody {
  return reader.fail("SELECT is not parsed yet");
}
/** CREATE. */
export function parseCreate(reader: Reader): CommandBody {
  return reader.fail("CREATE is not parsed yet");
}
/** LIST. */
export function parseList(reader: Reader): CommandBody {
  return reader.fail("LIST is not parsed yet");
}
/** STATUS. */
export function parseStatus(reader: Reader): CommandBody {
  return reader.fail("STATUS is not parsed yet");
}
/** APPEND. */
export function parseAppend(reader: Reader): CommandBody {
  return reader.fail("APPEND is not parsed yet");
}
