/**
 * Compressed responses (RFC 9110 §8.4, §12.5.3): a response whose type compresses well is sent `br` or
 * `gzip` when the client's Accept-Encoding takes one, as Cyrus and Stalwart do and as browsers and
 * most JMAP clients ask. Read in order:
 *
 * 1. `negotiate` picks the coding from Accept-Encoding: the higher q-value of br and gzip, gzip on a
 *    tie (`*` stands for both; q=0 refuses). On a page of 50 emails (29 KB of JSON) gzip at level 3
 *    saves 77% in about 100 µs, brotli at quality 4 saves 78% in about 300 µs, and the lower brotli
 *    qualities save less than gzip 3 for more time (scripts/bench/compression.ts): a browser offering
 *    both gets gzip; a client that prefers br by q-value gets br.
 * 2. `compressResponse` leaves alone what must not or need not be compressed: no body (HEAD, 1xx,
 *    204, 304), a partial or already coded one, `Cache-Control: no-transform`, an incompressible type,
 *    and text/event-stream (each event must reach the client when written). Every response of a
 *    compressible type says `Vary: Accept-Encoding`, compressed or not, so no cache hands one
 *    client's coding to another.
 * 3. Bodies under `minBytes` are sent as they are (a header costs more than it saves); so is a body
 *    that would not shrink. A strong ETag becomes weak: the coded bytes are another representation
 *    (§8.8.3), as nginx does.
 *
 * The caller keeps pages that echo request input beside a secret (the OAuth pages with their form
 * tokens) and requests a cross-site page made with ambient credentials out of it (BREACH): see
 * `compressible` in handler.ts.
 *
 * Bodies up to ASYNC_FROM bytes are compressed on the main thread (a 16 KB JSON page takes about
 * 0.1 ms at the chosen levels, less than handing it to a thread); bigger ones (a downloaded message)
 * go to node:zlib's thread pool, so one large download never stalls other requests.
 */
import { Buffer } from "node:buffer";
import { brotliCompress, brotliCompressSync, constants, gzip, gzipSync } from "node:zlib";

/** A content coding Postern produces. */
export type ContentCoding = "br" | "gzip";

/** How responses are compressed; levels chosen by `deno run -A scripts/bench/compression.ts`. */
export interface CompressionOptions {
  /** Bodies smaller than this are sent as they are. */
  minBytes: number;
  /** Brotli quality, 0–11. */
  brotliQuality: number;
  /** gzip level, 1–9. */
  gzipLevel: number;
}

/** The defaults: see the module comment and scripts/bench/compression.ts for why these levels. */
export const DEFAULT_COMPRESSION: CompressionOptions = { minBytes: 1024, brotliQuality: 4, gzipLevel: 3 };

const ASYNC_FROM = 256 * 1024;

/** Types worth compressing: text (but not event streams), JSON, XML, JavaScript, and messages. */
const COMPRESSIBLE =
  /^(?:text\/(?!event-stream)[\w.+-]+|application\/(?:[\w.+-]*\+)?(?:json|xml)|application\/(?:javascript|ecmascript)|image\/svg\+xml|message\/[\w.+-]+)\s*(?:;|$)/i;

/** The coding to use for an Accept-Encoding value (gzip on a tie), or undefined for none (identity). */
export function negotiate(acceptEncoding: string | null): ContentCoding | undefined {
  if (!acceptEncoding) return undefined;
  let br = -1;
  let gz = -1;
  let star = -1;
  for (const item of acceptEncoding.split(",")) {
    const [name, ...params] = item.split(";");
    let q = 1;
    for (const param of params) {
      const [key, value] = param.split("=");
      if (key.trim().toLowerCase() === "q") {
        const parsed = Number(value?.trim());
        q = Number.isFinite(parsed) && parsed >= 0 && parsed <= 1 ? parsed : 0;
      }
    }
    const coding = name.trim().toLowerCase();
    if (coding === "br") br = q;
    else if (coding === "gzip" || coding === "x-gzip") gz = Math.max(gz, q);
    else if (coding === "*") star = q;
  }
  if (br < 0) br = star;
  if (gz < 0) gz = star;
  if (br <= 0 && gz <= 0) return undefined;
  return br > gz ? "br" : "gzip";
}

/** Whether a response of this Content-Type is worth compressing. */
export function compressibleType(contentType: string | null): boolean {
  return contentType !== null && COMPRESSIBLE.test(contentType);
}

/**
 * The response, compressed with `coding` when it should be (see the module comment), with
 * `Vary: Accept-Encoding` on every compressible response. `coding` undefined still adds Vary.
 */
export async function compressResponse(
  request: Request,
  response: Response,
  options: CompressionOptions & {
    coding: ContentCoding | undefined;
    /** The response says `Vary: Accept-Encoding` already (built in by its maker). */
    varyPresent?: boolean;
  },
): Promise<Response> {
  const status = response.status;
  // Never `response.body` before deciding: reading it turns a fixed body into a stream, which
  // Deno.serve then sends chunked instead of with its Content-Length.
  if (request.method === "HEAD" || status < 200 || status === 204 || status === 206 || status === 304) {
    return response;
  }
  const headers = response.headers;
  if (!compressibleType(headers.get("content-type"))) return response;
  if (headers.has("content-encoding") || /\bno-transform\b/i.test(headers.get("cache-control") ?? "")) {
    return response;
  }
  if (!options.varyPresent) headers.append("vary", "Accept-Encoding");
  if (!options.coding) return response;
  const declared = Number(headers.get("content-length") ?? NaN);
  if (declared < options.minBytes) return response;
  const body = new Uint8Array(await response.arrayBuffer());
  if (body.length >= options.minBytes) {
    const coded = await encode(body, options.coding, options);
    if (coded.length < body.length) {
      headers.set("content-encoding", options.coding);
      headers.delete("content-length");
      const etag = headers.get("etag");
      if (etag?.startsWith('"')) headers.set("etag", `W/${etag}`);
      // node:zlib's Buffers own their ArrayBuffer.
      return new Response(coded as Uint8Array<ArrayBuffer>, {
        status,
        statusText: response.statusText,
        headers,
      });
    }
  }
  return new Response(body, { status, statusText: response.statusText, headers });
}

/** The body coded with `coding`: on this thread when small, in node:zlib's pool when large. */
function encode(
  body: Uint8Array,
  coding: ContentCoding,
  options: CompressionOptions,
): Promise<Uint8Array> {
  const input = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (coding === "br") {
    const params = {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: options.brotliQuality,
        [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      },
    };
    if (body.length < ASYNC_FROM) return Promise.resolve(brotliCompressSync(input, params));
    return new Promise((resolve, reject) =>
      brotliCompress(input, params, (error, out) => error ? reject(error) : resolve(out))
    );
  }
  const params = { level: options.gzipLevel };
  if (body.length < ASYNC_FROM) return Promise.resolve(gzipSync(input, params));
  return new Promise((resolve, reject) =>
    gzip(input, params, (error, out) => error ? reject(error) : resolve(out))
  );
}
