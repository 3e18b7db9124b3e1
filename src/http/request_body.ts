/** Reading request bodies under a size limit: raw bytes, and JSON for the handler's ctx.readJson(). */
import { parseJson } from "./json.ts";
import { HttpError } from "./problem.ts";
import { joinBytes } from "../model/bytes.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The body as JSON: only JSON content types, valid UTF-8, at most `maxBytes`; else HttpError 415/400/413. */
export async function readJson(request: Request, maxBytes: number): Promise<unknown> {
  // Only JSON types: text/plain (or none) is what a cross-site HTML form can send without a preflight.
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/(.+\+)?json\s*(;|$)/i.test(type)) {
    throw new HttpError(415, `Expected a body of type application/json, got ${type ? `"${type}"` : "none"}`);
  }
  const body = await readBody(request, maxBytes);
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new HttpError(400, "Request body is not valid UTF-8");
  }
  try {
    return parseJson(text);
  } catch (error) {
    throw new HttpError(400, `Request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Reads a request body of at most `maxBytes` (declared or streamed), else throws HttpError 413. */
export async function readBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    if (Number(declared) > maxBytes) {
      throw new HttpError(413, `Request body of ${declared} bytes exceeds the limit of ${maxBytes}`);
    }
    // A declared length is enforced by the HTTP layer, and arrayBuffer() is cheaper than iterating the
    // stream (one copy, no chunk promises).
    try {
      return new Uint8Array(await request.arrayBuffer());
    } catch (error) {
      throw bodyReadError(error);
    }
  }
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of request.body) {
      size += chunk.length;
      if (size > maxBytes) throw new HttpError(413, `Request body exceeds the limit of ${maxBytes} bytes`);
      chunks.push(chunk);
    }
  } catch (error) {
    throw error instanceof HttpError ? error : bodyReadError(error);
  }
  return joinBytes(chunks);
}

/**
 * A body that could not be read: the client closed the connection (or broke the framing) before it
 * was complete. The client's doing, so a 400 that is not logged as a server fault; nobody reads it.
 */
function bodyReadError(error: unknown): HttpError {
  return new HttpError(400, `The request body could not be read: ${(error as Error)?.message ?? error}`);
}

/** The largest declared body a refusal still reads, so the connection stays open (see drainRefused). */
export const DRAIN_BYTES = 64 * 1024;
/** How long a refusal waits for that body; past it the connection ends, as without draining. */
const DRAIN_MS = 2_000;

/**
 * Reads and drops the unread body of a refused request (an error answer whose handler never read it:
 * a JMAP limit, a 401, a 403, a 404 for a POST) when it declares at most {@link DRAIN_BYTES}. Deno.serve
 * closes a connection whose request body was left unread, and requests a client pipelined behind it
 * are lost with it; a larger or undeclared body still ends the connection, as the client should not
 * send megabytes to be refused.
 */
export async function drainRefused(request: Request): Promise<void> {
  // The length first: asking for the body (even `bodyUsed`) makes Deno.serve keep the connection and
  // read the whole body itself, however large.
  const declared = request.headers.get("content-length");
  if (declared === null || !(Number(declared) <= DRAIN_BYTES) || request.bodyUsed || !request.body) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    request.arrayBuffer().catch(() => undefined),
    new Promise((resolve) => timer = setTimeout(resolve, DRAIN_MS)),
  ]);
  clearTimeout(timer);
}
