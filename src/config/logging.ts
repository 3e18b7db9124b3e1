import { configure, getStreamSink, jsonLinesFormatter, reset } from "@logtape/logtape";

/**
 * Structured JSON-lines logs on stderr; categories ["postern", area]. Each request is logged at debug
 * level, so the default (info) keeps busy servers' logs to what matters.
 */
export async function setupLogging(level: "debug" | "info" | "warning" | "error"): Promise<void> {
  await configure({
    reset: true,
    sinks: {
      // Not LogTape's non-blocking mode: under load it drops the oldest lines once its buffer is full.
      stderr: getStreamSink(Deno.stderr.writable, { formatter: jsonLinesFormatter, closeStream: false }),
    },
    loggers: [
      { category: ["postern"], lowestLevel: level, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}

/** Flushes and detaches the log sinks (at shutdown). */
export async function closeLogging(): Promise<void> {
  await reset();
}
