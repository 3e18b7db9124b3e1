/**
 * DATA as every SMTP listener of Postern receives it: the message collected whole under the size
 * limit and within the DATA timeout, then refused if it holds a bare CR or LF or a NUL
 * (data_guard.ts). The caller stores what comes out and answers 250 only after that commits.
 */
import type { SMTPServer, SMTPServerDataStream, SMTPServerSession } from "smtp-server";
import { concatBytes } from "../model/bytes.ts";
import { dataProblem } from "./data_guard.ts";
import { connectionOf } from "./listener.ts";
import { type RefusalReason, REFUSALS } from "./replies.ts";

/** What DATA brought: the message, or why it is refused; `size` counts every byte received. */
export type ReceivedData =
  | { message: Uint8Array; size: number; refusal?: undefined }
  | { refusal: RefusalReason; size: number; message?: undefined };

/**
 * Collects the DATA stream of `session` on `server`. When `timeoutMs` passes first, the session is
 * answered 421 4.4.2 and closed, and the result is the `dataTimeout` refusal.
 */
export async function receiveData(
  stream: SMTPServerDataStream,
  options: { timeoutMs: number; server: SMTPServer; session: SMTPServerSession },
): Promise<ReceivedData> {
  let timedOut = false;
  let size = 0;
  const timer = setTimeout(() => {
    timedOut = true;
    const reply = REFUSALS.dataTimeout;
    connectionOf(options.server, options.session)?.send(reply.code, `${reply.enhanced} ${reply.text}`);
    stream.destroy();
  }, options.timeoutMs);
  try {
    const chunks: Uint8Array[] = [];
    for await (const chunk of stream) {
      size += chunk.length;
      if (!stream.sizeExceeded) chunks.push(chunk);
    }
    if (timedOut) return { refusal: "dataTimeout", size };
    // smtp-server answers 552 5.3.4 itself (rejectOversized); the caller's reply is never sent.
    if (stream.sizeExceeded) return { refusal: "sizeExceeded", size };
    const message = concatBytes(...chunks);
    const problem = dataProblem(message);
    return problem ? { refusal: problem, size } : { message, size };
  } catch (error) {
    // After the DATA timeout the connection is gone already; the stream's error is that.
    if (timedOut) return { refusal: "dataTimeout", size };
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** The SIZE the client declared at MAIL FROM (RFC 1870), if any. */
export function declaredSize(session: SMTPServerSession): number | undefined {
  const args = session.envelope.mailFrom ? session.envelope.mailFrom.args : false;
  const size = args ? Number(args.SIZE) : NaN;
  return Number.isSafeInteger(size) && size >= 0 ? size : undefined;
}

/** The first value of a header field (for the log), unfolded, at most 200 characters. */
export function headerValue(message: Uint8Array, name: string): string | undefined {
  // Only the header is decoded (a 10 KB message's body was most of this function's cost).
  const end = headerEnd(message, 16384);
  const head = LATIN1.decode(message.subarray(0, end));
  const match = new RegExp(`(?:^|\\r\\n)${name}:([^\\r]*(?:\\r\\n[ \\t][^\\r]*)*)`, "i").exec(head);
  return match?.[1].replace(/\r\n/g, "").trim().slice(0, 200);
}

const LATIN1 = new TextDecoder("latin1");

/** Where the header of `message` ends (its blank line), looking at most `limit` bytes in. */
function headerEnd(message: Uint8Array, limit: number): number {
  const last = Math.min(message.length, limit) - 3;
  for (let i = message.indexOf(0x0d); i >= 0 && i < last; i = message.indexOf(0x0d, i + 1)) {
    if (message[i + 1] === 0x0a && message[i + 2] === 0x0d && message[i + 3] === 0x0a) return i;
  }
  return Math.min(message.length, limit);
}
