/**
 * RFC 8620 §6: the upload and download endpoints of the session's `uploadUrl` and `downloadUrl`.
 * Errors are problem+json like every other non-API answer: a missing account or blob is 404 (never
 * telling whether another account holds it), a blob past `maxSizeUpload` or the account's quota 413.
 */
import { HttpError, readBody, type RequestContext, type Route } from "../http/mod.ts";
import { type BlobService, UPLOAD_TTL_MS } from "../mail/mod.ts";
import { ForbiddenError, NotFoundError, QuotaError } from "../model/errors.ts";
import { decodeId, encodeId } from "../model/ids.ts";
import type { Principal } from "../model/types.ts";
import { CAPABILITY, type CoreCapability } from "./types.ts";

/** What the blob routes use. */
export interface BlobRouteDeps {
  blobs: BlobService;
  core: CoreCapability;
}

/** The scopes under which a token may move blobs: mail, or submission (attachments of a message to send). */
const BLOB_SCOPES = [CAPABILITY.mail, CAPABILITY.submission];
const DEFAULT_TYPE = "application/octet-stream";
/** A media type as RFC 6838 names them, with parameters; anything else is stored as octet-stream. */
const MEDIA_TYPE = /^[A-Za-z0-9][\w!#$&^.+-]{0,126}\/[A-Za-z0-9][\w!#$&^.+-]{0,126}(\s*;[^\r\n]*)?$/;

/** The upload and download routes. */
export function blobRoutes(deps: BlobRouteDeps): Route<RequestContext>[] {
  const uploading = new Map<number, number>();
  const upload = async (ctx: RequestContext, params: Record<string, string>) => {
    const principal = await ctx.principal();
    requireBlobScope(principal);
    const accountId = accountOf(params.accountId);
    const running = uploading.get(principal.accountId) ?? 0;
    if (running >= deps.core.maxConcurrentUpload) {
      throw limitError(
        429,
        `More than ${deps.core.maxConcurrentUpload} concurrent uploads for this account`,
        "maxConcurrentUpload",
      );
    }
    uploading.set(principal.accountId, running + 1);
    try {
      const data = await readUpload(ctx, deps.core.maxSizeUpload);
      const declared = ctx.request.headers.get("content-type")?.trim() ?? "";
      const type = MEDIA_TYPE.test(declared) ? declared : DEFAULT_TYPE;
      const result = await deps.blobs.upload(principal.accountId, accountId, { data, type }).catch(httpError);
      return ctx.json(
        {
          accountId: encodeId(result.accountId),
          blobId: result.blobId,
          type: result.type,
          size: result.size,
        },
        { status: 201, headers: { "cache-control": "no-store" } },
      );
    } finally {
      const left = (uploading.get(principal.accountId) ?? 1) - 1;
      if (left <= 0) uploading.delete(principal.accountId);
      else uploading.set(principal.accountId, left);
    }
  };
  const download = async (ctx: RequestContext, params: Record<string, string>) => {
    const principal = await ctx.principal();
    requireBlobScope(principal);
    const accountId = accountOf(params.accountId);
    const data = await deps.blobs.download(principal.accountId, accountId, params.blobId).catch(httpError);
    const accept = ctx.url.searchParams.get("accept")?.trim() ?? "";
    return new Response(ctx.request.method === "HEAD" ? null : data, {
      headers: {
        "content-type": MEDIA_TYPE.test(accept) ? accept : DEFAULT_TYPE,
        "content-length": String(data.length),
        "content-disposition": contentDisposition(safeDecode(params.name)),
        // A blob never changes; what the user uploaded must not run as this origin's page.
        "cache-control": `private, max-age=${UPLOAD_TTL_MS / 1000}, immutable`,
        "content-security-policy": "sandbox; default-src 'none'",
        "x-content-type-options": "nosniff",
      },
    });
  };
  return [
    { method: "POST", path: "/jmap/upload/:accountId/", name: "/jmap/upload", handler: upload },
    { method: "POST", path: "/jmap/upload/:accountId", name: "/jmap/upload", handler: upload },
    {
      method: ["GET", "HEAD"],
      path: "/jmap/download/:accountId/:blobId/:name",
      name: "/jmap/download",
      handler: download,
    },
  ];
}

function requireBlobScope(principal: Principal): void {
  if (principal.scopes && !BLOB_SCOPES.some((scope) => principal.scopes!.includes(scope))) {
    throw new ForbiddenError(`The access token's scopes do not allow blobs (they need "${CAPABILITY.mail}")`);
  }
}

function accountOf(wireId: string): number {
  const id = decodeId(wireId);
  if (id === undefined) throw new NotFoundError("Account", wireId);
  return id;
}

/** The body within the limit; a body cut short or unreadable is the client's 400, not ours. */
async function readUpload(ctx: RequestContext, maxSize: number): Promise<Uint8Array> {
  try {
    return await readBody(ctx.request, maxSize);
  } catch (error) {
    if (error instanceof HttpError && error.status === 413) {
      throw limitError(413, `The upload exceeds maxSizeUpload (${maxSize} bytes)`, "maxSizeUpload");
    }
    if (error instanceof HttpError) throw error;
    throw new HttpError(400, `The upload could not be read in full: ${(error as Error).message}`);
  }
}

/** RFC 8620 §3.6.1's limit error, naming the limit, as problem+json. */
function limitError(status: number, message: string, limit: string): HttpError {
  return new HttpError(status, message, { type: "urn:ietf:params:jmap:error:limit", extensions: { limit } });
}

/** Quota refusals as 413 with JMAP's overQuota type; other domain errors pass to the HTTP layer. */
function httpError(error: unknown): never {
  if (error instanceof QuotaError) {
    throw new HttpError(413, error.message, { type: "urn:ietf:params:jmap:error:overQuota" });
  }
  throw error;
}

function safeDecode(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/**
 * RFC 6266: `attachment` with an ASCII fallback name and the exact name in `filename*` (RFC 8187),
 * so any file name arrives intact and none can break the header.
 */
export function contentDisposition(name: string): string {
  // deno-lint-ignore no-control-regex
  const clean = name.replace(/[\u0000-\u001f\u007f]/g, "").slice(0, 255) || "download";
  const ascii = clean.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  if (ascii === clean) return `attachment; filename="${ascii}"`;
  const encoded = encodeURIComponent(clean).replace(
    /['()*]/g,
    (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
