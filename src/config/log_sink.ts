/**
 * The log sink: JSON lines to a stream in as few writes as the stream allows. A line logged while no
 * write is under way is written at once; lines logged during a write are joined and written together
 * when it ends. So a burst (an MX storing hundreds of messages a second logs a line for each) costs a
 * write system call per burst rather than per line. Nothing is dropped, unlike LogTape's non-blocking
 * mode, which drops the oldest lines once its buffer is full; order is kept.
 */
import type { LogRecord, Sink, TextFormatter } from "@logtape/logtape";

/** A sink writing `formatter`'s lines to `stream` (left open at disposal, as stderr must be). */
export function coalescingSink(
  stream: WritableStream<Uint8Array>,
  formatter: TextFormatter,
): Sink & AsyncDisposable {
  const writer = stream.getWriter();
  const encoder = new TextEncoder();
  let pending: string[] = [];
  let writing: Promise<void> | undefined;
  const kick = () => {
    if (writing || pending.length === 0) return;
    const text = pending.length === 1 ? pending[0] : pending.join("");
    pending = [];
    writing = writer.ready
      .then(() => writer.write(encoder.encode(text)))
      // A log that cannot be written (stderr closed) must not fail what logged it.
      .catch(() => undefined)
      .then(() => {
        writing = undefined;
        kick();
      });
  };
  const sink = (record: LogRecord) => {
    pending.push(formatter(record));
    kick();
  };
  return Object.assign(sink, {
    async [Symbol.asyncDispose]() {
      while (writing) await writing;
      writer.releaseLock();
    },
  });
}
