import {
  configure,
  getConfig,
  getLogger,
  jsonLinesFormatter,
  type Logger,
  type LogRecord,
  reset,
  type Sink,
  type TextFormatter,
} from "@logtape/logtape";
import { fstatSync } from "node:fs";
import { coalescingSink } from "./log_sink.ts";

/** The levels `--log-level` accepts. */
export type LogLevel = "debug" | "info" | "warning" | "error";

/**
 * Structured JSON-lines logs on stderr (or `stream`, for tests); categories ["postern", area]. At `info` (the default) each
 * request is one line (see http/handler.ts). The start's own lines (listening, the first admin's
 * password) are category ["postern", "start"] and written at any level: an operator always needs them.
 */
export async function setupLogging(
  level: LogLevel,
  options: { stream?: WritableStream<Uint8Array> } = {},
): Promise<void> {
  // Not LogTape's non-blocking mode: under load it drops the oldest lines once its buffer is full.
  // Pipes (a service manager's journal, processes sharing stderr) take 4 KiB whole; a file takes any write.
  const stderr = coalescingSink(options.stream ?? Deno.stderr.writable, jsonLogLine, {
    pieceBytes: options.stream === undefined && stderrIsFile() ? Number.POSITIVE_INFINITY : undefined,
  });
  installed = undefined;
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
  if (level === "debug" || level === "info") installed = { config: getConfig(), sink: stderr };
}

/** Whether stderr is a regular file (appended to by a shell or a service manager), not a pipe or a terminal. */
function stderrIsFile(): boolean {
  try {
    return fstatSync(2).isFile();
  } catch {
    return false;
  }
}

/**
 * What setupLogging installed, while info lines of ["postern", …] go to its one sink and nowhere
 * else (no filter, no context, no other sink): then {@link fastLogger} may hand its info records to
 * that sink itself. Checked against LogTape's current configuration on every line, so a later
 * configure() or reset() (tests capturing logs) takes the lines back at once.
 */
let installed: { config: unknown; sink: Sink } | undefined;

/**
 * A logger of a ["postern", …] category whose `info` skips LogTape's dispatch when the configuration
 * is setupLogging's own: the record goes straight to its sink, which formats it at once (the same
 * line, see jsonLogLine). LogTape's generic path — level and scope checks, a record of getters, a
 * copy of the properties, the sink plan — cost as much as formatting the line itself, once per
 * request for the access log (http/handler.ts). Every other method, and `info` under any other
 * configuration or with a template that is not plain, is LogTape's.
 */
export function fastLogger(category: readonly string[]): Logger {
  const logger = getLogger(category);
  const frozen = Object.freeze([...category]);
  const info = (message: unknown, ...rest: unknown[]) => {
    const properties = rest[0];
    const current = installed;
    if (
      current !== undefined && rest.length <= 1 && typeof message === "string" &&
      typeof properties === "object" && properties !== null && getConfig() === current.config
    ) {
      const parts = plainTemplate(message);
      if (parts !== null) {
        const values = properties as Record<string, unknown>;
        current.sink({
          category: frozen,
          level: "info",
          timestamp: Date.now(),
          rawMessage: message,
          // LogTape's parsed template: text, value, text, … (read only when the line is not plain).
          get message() {
            return parts.map((part, i) => i % 2 ? values[part] : part);
          },
          properties: values,
        });
        return;
      }
    }
    return (logger.info as (...args: unknown[]) => void)(message, ...rest);
  };
  // The access log asks before every line (http/handler.ts): under setupLogging's own configuration
  // info is on for every ["postern", …] category (it is installed only at info or debug), an answer
  // LogTape's isEnabledFor found by walking the category's loggers each time.
  const isEnabledFor = (level: Parameters<Logger["isEnabledFor"]>[0]) => {
    const current = installed;
    if (level === "info" && current !== undefined && getConfig() === current.config) return true;
    return logger.isEnabledFor(level);
  };
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(logger, {
    get(target, key) {
      if (key === "info") return info;
      if (key === "isEnabledFor") return isEnabledFor;
      const value = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      let method = bound.get(key);
      if (method === undefined) bound.set(key, method = value.bind(target));
      return method;
    },
  });
}

/**
 * LogTape's JSON line with the message rendered as text: a string value goes in as it is, so
 * `listening on http://{host}:{port}` reads `http://127.0.0.1:8080`, not `http://"127.0.0.1":8080`
 * (LogTape's own rendering quotes strings). The values stay typed in `properties`.
 *
 * A line whose template names plain properties and whose values are all strings, numbers, booleans
 * or null (every access-log line) is built here, byte for byte the line LogTape's formatter makes
 * (src/config/logging_test.ts compares them): its generic path (the template parsed again for every
 * record, a replacer called on every value) was a tenth of a token grant's server time. Anything
 * else goes through LogTape's formatter.
 */
export const jsonLogLine: TextFormatter = (record: LogRecord) =>
  plainJsonLine(record) ?? jsonLinesFormatter({ ...record, message: [renderMessage(record.message)] });

/** Templates split into text and property names (text, name, text, …), or null when not plain. */
const templates = new Map<string, readonly string[] | null>();
/** A placeholder LogTape resolves as `properties[name]` and nothing else. */
const PLAIN_TEMPLATE = /^[^{}]*(?:\{[A-Za-z_$][\w$]*\}[^{}]*)*$/;
/** What JSON.stringify leaves raw but a terminal reads as control codes (as LogTape escapes them). */
const TERMINAL_CONTROL = /[\u007f-\u009f]/;
const TERMINAL_CONTROLS = new RegExp(TERMINAL_CONTROL, "g");

function plainTemplate(raw: string): readonly string[] | null {
  let parts = templates.get(raw);
  if (parts === undefined) {
    parts = PLAIN_TEMPLATE.test(raw) ? raw.split(/\{([A-Za-z_$][\w$]*)\}/) : null;
    // Templates are string literals of the code: a few dozen. A bound all the same.
    if (templates.size < 1000) templates.set(raw, parts);
  }
  return parts;
}

/** The JSON line of a plain record (see jsonLogLine), or undefined when it is not one. */
function plainJsonLine(record: LogRecord): string | undefined {
  if (typeof record.rawMessage !== "string") return undefined;
  const parts = plainTemplate(record.rawMessage);
  if (parts === null) return undefined;
  const properties = record.properties;
  for (const key in properties) {
    const value = properties[key];
    const type = typeof value;
    if (value !== null && type !== "string" && type !== "number" && type !== "boolean") return undefined;
  }
  let message = parts[0];
  for (let i = 1; i < parts.length; i += 2) {
    // As renderMessage: a string as it is, a number, boolean or null as String() writes it.
    const value = properties[parts[i]];
    const type = typeof value;
    if (type === "string") message += value;
    else if (value === null || type === "number" || type === "boolean") message += String(value);
    else return undefined;
    message += parts[i + 1];
  }
  const level = record.level === "warning" ? "WARN" : record.level.toUpperCase();
  const line = `{"@timestamp":"${isoTime(record.timestamp)}","level":"${level}","message":${
    JSON.stringify(message)
  },"logger":${loggerName(record.category)},"properties":${JSON.stringify(properties)}}`;
  return (TERMINAL_CONTROL.test(line) ? line.replace(TERMINAL_CONTROLS, escapeControl) : line) + "\n";
}

// Lines come several a millisecond under load, and from a few categories: each is written once.
let lastTime = NaN;
let lastIso = "";
function isoTime(timestamp: number): string {
  if (timestamp !== lastTime) {
    lastIso = new Date(timestamp).toISOString();
    lastTime = timestamp;
  }
  return lastIso;
}
const loggerNames = new WeakMap<readonly string[], string>();
function loggerName(category: readonly string[]): string {
  let name = loggerNames.get(category);
  if (name === undefined) loggerNames.set(category, name = JSON.stringify(category.join(".")));
  return name;
}

const escapeControl = (char: string) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;

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
  installed = undefined;
  await reset();
}
