import { configure, jsonLinesFormatter, type LogRecord, reset, type TextFormatter } from "@logtape/logtape";
import { coalescingSink } from "./log_sink.ts";

/** The levels `--log-level` accepts. */
export type LogLevel = "debug" | "info" | "warning" | "error";

/**
 * Structured JSON-lines logs on stderr; categories ["postern", area]. At `info` (the default) each
 * request is one line (see http/handler.ts). The start's own lines (listening, the first admin's
 * password) are category ["postern", "start"] and written at any level: an operator always needs them.
 */
export async function setupLogging(level: LogLevel): Promise<void> {
  // Not LogTape's non-blocking mode: under load it drops the oldest lines once its buffer is full.
  const stderr = coalescingSink(Deno.stderr.writable, jsonLogLine);
  await configure({
    reset: true,
    sinks: { stderr },
    loggers: [
      { category: ["postern"], lowestLevel: level, sinks: ["stderr"] },
      {
        category: ["postern", "start"],
        lowestLevel: level === "debug" ? "debug" : "info",
        sinks: ["stderr"],
        parentSinks: "override",
      },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}

/**
 * LogTape's JSON line with the message rendered as text: a string value goes in as it is, so
 * `listening on http://{host}:{port}` reads `http://127.0.0.1:8080`, not `http://"127.0.0.1":8080`
 * (LogTape's own rendering quotes strings). The values stay typed in `properties`.
 */
export const jsonLogLine: TextFormatter = (record: LogRecord) =>
  jsonLinesFormatter({ ...record, message: [renderMessage(record.message)] });

/** A record's message parts (text, value, text, …) as one string. */
export function renderMessage(parts: readonly unknown[]): string {
  let text = "";
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (i % 2 === 0 || typeof part === "string") text += String(part);
    else if (typeof part === "number" || typeof part === "boolean" || typeof part === "bigint") text += part;
    else if (part instanceof Error) text += part.message;
    else if (part === undefined) text += "undefined";
    else text += JSON.stringify(part);
  }
  return text;
}

/** Flushes and detaches the log sinks (at shutdown). */
export async function closeLogging(): Promise<void> {
  await reset();
}
