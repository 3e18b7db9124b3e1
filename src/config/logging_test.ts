import assert from "node:assert/strict";
import {
  configure,
  getLogger,
  jsonLinesFormatter,
  type LogLevel,
  type LogRecord,
  reset,
} from "@logtape/logtape";
import { jsonLogLine, renderMessage } from "./logging.ts";

/** A record as LogTape's logger makes it: the message parsed from the template and the properties. */
function record(
  rawMessage: string,
  properties: Record<string, unknown>,
  options: { level?: LogLevel; message?: unknown[] } = {},
): LogRecord {
  return {
    category: ["postern", "http"],
    level: options.level ?? "info",
    timestamp: Date.UTC(2026, 11, 7, 10, 11, 12, 345),
    rawMessage,
    message: options.message ?? parse(rawMessage, properties),
    properties,
  };
}

/** Plain `{name}` placeholders as LogTape's parseMessageTemplate reads them. */
function parse(template: string, properties: Record<string, unknown>): unknown[] {
  const parts = template.split(/\{([^{}]*)\}/);
  return parts.map((part, i) => i % 2 ? properties[part] : part);
}

/** The line LogTape's own formatter makes, with the message rendered as jsonLogLine documents. */
const reference = (r: LogRecord) => jsonLinesFormatter({ ...r, message: [renderMessage(r.message)] });

Deno.test("an access-log line is byte for byte the line LogTape's formatter makes", () => {
  const cases: LogRecord[] = [
    record("HTTP {method} {path} {status}", {
      method: "POST",
      path: "/auth/token",
      status: 200,
      ms: 0.4,
      accountId: null,
      client: "127.0.0.1",
      requestId: "b1f0c2",
    }),
    record("HTTP {method} {path} {status}", { method: "GET", path: '/é"\\\n\u0085\u007f', status: 404 }, {
      level: "warning",
    }),
    record("listening on http://{host}:{port}", { host: "127.0.0.1", port: 8080 }),
    record("no placeholder", {}),
    record("{a}{b}", { a: true, b: -0 }),
    record("numbers {a} {b} {c}", { a: NaN, b: 1e21, c: Infinity }),
    record("null {value}", { value: null }, { level: "error" }),
    record("debug {x}", { x: "y", extra: "z" }, { level: "debug" }),
  ];
  for (const r of cases) assert.equal(jsonLogLine(r), reference(r), String(r.rawMessage));
});

Deno.test("other lines (objects, errors, nested paths, escapes, missing values) go through LogTape's formatter", () => {
  const error = new Error("boom");
  const cases: LogRecord[] = [
    record("failed: {error}", { error }, { message: ["failed: ", error, ""] }),
    record("value {v}", { v: { nested: [1, 2] } }),
    record("path {user.name}", { user: { name: "bob" } }, { message: ["path ", "bob", ""] }),
    record("braces {{literal}} {x}", { x: 1 }, { message: ["braces {literal} ", 1, ""] }),
    record("missing {gone}", {}),
    record("inherited {constructor}", {}, { message: ["inherited ", Object, ""] }),
    record("undefined value {u}", { u: undefined }),
    record("big {n}", { n: 10n }),
  ];
  for (const r of cases) assert.equal(jsonLogLine(r), reference(r), String(r.rawMessage));
});

Deno.test("records made by LogTape's own logger format as its formatter formats them", async () => {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { memory: (r) => void records.push(r) },
    loggers: [
      { category: ["test"], lowestLevel: "debug", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
    ],
  });
  try {
    const log = getLogger(["test", "logging"]);
    log.info("HTTP {method} {path} {status}", { method: "GET", path: "/x", status: 200, ms: 1.5 });
    log.warn("plain text");
    log.error("{message}", { message: "a failed start", error: new Error("cause") });
    log.debug("template {a} and {{b}}", { a: 1 });
    log.info("nested {user.name}", { user: { name: "ann" } });
    log.info`tagged ${"value"}`;
  } finally {
    await reset();
  }
  assert.equal(records.length, 6);
  for (const r of records) assert.equal(jsonLogLine(r), reference(r));
});
