/**
 * The log sink: JSON lines to a stream in as few writes as the stream allows. An info or debug line
 * waits up to `delayMs` (25 ms by default) for the lines logged after it, and they go out together;
 * lines logged while a write is under way are joined into the next one. So under load (an access-log
 * line per request, an MX storing hundreds of messages a second) writes are a few dozen a second
 * rather than one per line: each was an asynchronous write to stderr costing as much server time as
 * the rest of a token grant's logging. A warning or an error goes out at once, with every line
 * before it, and so does a batch past 64 KiB. A batch goes out in writes of whole lines of at most
 * 4 KiB (PIPE_BUF): the processes of `serve --processes N` share stderr, and a larger write to a
 * pipe may be interleaved with another process's. Nothing is dropped, unlike LogTape's non-blocking
 * mode, which drops the oldest lines once its buffer is full; order is kept; disposal (at shutdown)
 * writes what waits.
 */
import type { LogRecord, Sink, TextFormatter } from "@logtape/logtape";

/** LogTape's mark of a sink that formats a record when it receives it (markSinkAsImmediate). */
const IMMEDIATE_SINK = Symbol.for("LogTape.sinkSnapshotPolicy.immediate");
/** How long an info or debug line may wait for others by default. */
export const LOG_FLUSH_DELAY_MS = 25;
/** Waiting text that is written at once. */
const MAX_WAITING_CHARS = 64 * 1024;
/** The largest write a pipe takes whole, never interleaved with another writer's (Linux PIPE_BUF). */
export const ATOMIC_WRITE_BYTES = 4096;

/** `bytes` (whole lines) cut after a newline into pieces of at most `max` bytes, where lines allow. */
export function atomicPieces(bytes: Uint8Array, max = ATOMIC_WRITE_BYTES): Uint8Array[] {
  if (bytes.length <= max) return bytes.length ? [bytes] : [];
  const pieces: Uint8Array[] = [];
  let start = 0;
  while (bytes.length - start > max) {
    let end = bytes.lastIndexOf(10, start + max - 1);
    // A line longer than a piece goes alone (as large as it is).
    if (end < start) end = bytes.indexOf(10, start + max);
    if (end < 0) break;
    pieces.push(bytes.subarray(start, end + 1));
    start = end + 1;
  }
  if (start < bytes.length) pieces.push(bytes.subarray(start));
  return pieces;
}

/**
 * A sink writing `formatter`'s lines to `stream` (left open at disposal, as stderr must be).
 * `pieceBytes`: the largest write (ATOMIC_WRITE_BYTES by default); a regular file takes a batch in one
 * write (Linux never interleaves two writes to one), saving the stream's and the thread pool's
 * round trip per 4 KiB.
 */
export function coalescingSink(
  stream: WritableStream<Uint8Array>,
  formatter: TextFormatter,
  options: { delayMs?: number; pieceBytes?: number } = {},
): Sink & AsyncDisposable {
  const delayMs = options.delayMs ?? LOG_FLUSH_DELAY_MS;
  const pieceBytes = options.pieceBytes ?? ATOMIC_WRITE_BYTES;
  const writer = stream.getWriter();
  const encoder = new TextEncoder();
  let pending: string[] = [];
  let pendingChars = 0;
  /** A waiting line must not wait for the delay (a warning, or the batch is large). */
  let urgent = false;
  let writing: Promise<void> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const write = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (writing || pending.length === 0) return;
    const text = pending.length === 1 ? pending[0] : pending.join("");
    pending = [];
    pendingChars = 0;
    urgent = false;
    const bytes = encoder.encode(text);
    writing = writer.ready
      .then(async () => {
        for (const piece of atomicPieces(bytes, pieceBytes)) await writer.write(piece);
      })
      // A log that cannot be written (stderr closed) must not fail what logged it.
      .catch(() => undefined)
      .then(() => {
        writing = undefined;
        if (urgent) write();
        else wait();
      });
  };
  const wait = () => {
    if (pending.length === 0 || writing || timer !== undefined) return;
    timer = setTimeout(write, delayMs);
  };
  const sink = (record: LogRecord) => {
    const line = formatter(record);
    pending.push(line);
    pendingChars += line.length;
    if (record.level === "debug" || record.level === "info" || record.level === "trace") {
      if (pendingChars >= MAX_WAITING_CHARS) urgent = true;
    } else urgent = true;
    if (urgent) write();
    else wait();
  };
  // It formats each record at once, so LogTape need not copy a record's properties first for a later
  // format (its snapshot for sinks it does not know to be immediate, as it marks its own stream sink).
  Object.defineProperty(sink, IMMEDIATE_SINK, { value: true });
  return Object.assign(sink, {
    async [Symbol.asyncDispose]() {
      urgent = true;
      write();
      while (writing) await writing;
      writer.releaseLock();
    },
  });
}
