/**
 * DATA as every SMTP listener of Postern receives it: the message collected whole under the size
 * limit and within the DATA timeout, then refused if it holds a bare CR or LF or a NUL
 * (data_guard.ts). The caller stores what comes out and answers 250 only after that commits.
 */
import type { SMTPServerDataStream, SMTPServerSession } from "smtp-server";
import { concatBytes } from "../model/bytes.ts";
import { dataProblem } from "./data_guard.ts";
import type { RefusalReason } from "./replies.ts";

/** What DATA brought: the message, or why it is refused; `size` counts every byte received. */
export type ReceivedData =
  | { message: Uint8Array; size: number; refusal?: undefined }
  | { refusal: RefusalReason; size: number; message?: undefined };

/**
 * Collects a DATA stream. When `timeoutMs` passes first, `onTimeout` runs (it answers 421 and
 * closes the connection) and the result is the `dataTimeout` refusal.
 */
export async function receiveData(
  stream: SMTPServerDataStream,
  options: { timeoutMs: number; onTimeout: () => void },
): Promise<ReceivedData> {
  let timedOut = false;
  let size = 0;
  const timer = setTimeout(() => {
    timedOut = true;
    options.onTimeout();
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
  const head = new TextDecoder("latin1").decode(message.subarray(0, 16384));
  const end = head.indexOf("\r\n\r\n");
  const match = new RegExp(`(?:^|\\r\\n)${name}:([^\\r]*(?:\\r\\n[ \\t][^\\r]*)*)`, "i")
    .exec(end < 0 ? head : head.slice(0, end));
  return match?.[1].replace(/\r\n/g, "").trim().slice(0, 200);
}
