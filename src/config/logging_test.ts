import assert from "node:assert/strict";
import {
  configure,
  getLogger,
  jsonLinesFormatter,
  type LogLevel,
  type LogRecord,
  reset,
} from "@logtape/logtape";
import { closeLogging, fastLogger, jsonLogLine, renderMessage, setupLogging } from "./logging.ts";

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

/** A stream collecting what is written to it, as text. */
function collector(): { stream: WritableStream<Uint8Array>; text(): string } {
  const decoder = new TextDecoder();
  let text = "";
  const stream = new WritableStream<Uint8Array>({ write: (chunk) => void (text += decoder.decode(chunk)) });
  return { stream, text: () => text };
}

/** A log line without its timestamp (the two paths log at different milliseconds). */
const untimed = (line: string) => line.replace(/^\{"@timestamp":"[^"]+",/, "{");

Deno.test("fastLogger's info lines under the server's configuration are LogTape's lines, and other configurations get them through LogTape", async () => {
  const out = collector();
  await setupLogging("info", { stream: out.stream });
  const fields = {
    method: "POST",
    path: "/auth/token",
    status: 200,
    ms: 0.4,
    accountId: null,
    client: "::1",
  };
  const fast = fastLogger(["postern", "http"]);
  try {
    fast.info("HTTP {method} {path} {status}", fields);
    getLogger(["postern", "http"]).info("HTTP {method} {path} {status}", fields);
    // Not plain: LogTape's own path, the same line as before.
    fast.info("nested {user.name}", { user: { name: "ann" } });
    getLogger(["postern", "http"]).info("nested {user.name}", { user: { name: "ann" } });
    // The other methods are LogTape's.
    fast.warn("a warning {n}", { n: 1 });
    assert.equal(fast.isEnabledFor("debug"), false);
    assert.equal(fast.isEnabledFor("info"), true);
  } finally {
    await closeLogging();
  }
  const lines = out.text().trimEnd().split("\n").map(untimed);
  assert.equal(lines.length, 5, out.text());
  assert.equal(lines[0], lines[1]);
  assert.match(lines[0], /"message":"HTTP POST \/auth\/token 200","logger":"postern.http"/);
  assert.equal(lines[2], lines[3]);
  assert.match(lines[4], /"level":"WARN","message":"a warning 1"/);

  // At warning level nothing of info is written; under a test's own configuration LogTape gets the records.
  const quiet = collector();
  await setupLogging("warning", { stream: quiet.stream });
  fastLogger(["postern", "http"]).info("HTTP {method} {path} {status}", fields);
  assert.equal(fastLogger(["postern", "http"]).isEnabledFor("info"), false);
  await closeLogging();
  assert.equal(quiet.text(), "");
  const records: LogRecord[] = [];
  await setupLogging("info", { stream: collector().stream });
  await configure({
    reset: true,
    sinks: { memory: (r) => void records.push(r) },
    loggers: [
      { category: ["postern"], lowestLevel: "info", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
    ],
  });
  try {
    fast.info("HTTP {method} {path} {status}", fields);
    assert.equal(fast.isEnabledFor("info"), true);
    assert.equal(fast.isEnabledFor("debug"), false);
  } finally {
    await reset();
  }
  // No configuration: nothing is enabled (LogTape's answer, not the one kept for setupLogging's).
  assert.equal(fast.isEnabledFor("info"), false);
  assert.equal(records.length, 1);
  assert.deepEqual(records[0].properties, fields);
  assert.deepEqual(records[0].message, ["HTTP ", "POST", " ", "/auth/token", " ", 200, ""]);
});
