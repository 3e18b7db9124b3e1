import { configure, getStreamSink, jsonLinesFormatter, reset } from "@logtape/logtape";

/**
 * Structured JSON-lines logs on stderr, written in the background so a busy server never waits on
 * its log. Categories: ["postern", area].
 */
export async function setupLogging(level: "debug" | "info" | "warning" | "error"): Promise<void> {
  await configure({
    reset: true,
    sinks: {
      stderr: getStreamSink(Deno.stderr.writable, {
        formatter: jsonLinesFormatter,
        nonBlocking: { bufferSize: 500, flushInterval: 50 },
        closeStream: false,
      }),
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
