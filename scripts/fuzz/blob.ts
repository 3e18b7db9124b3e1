/**
 * The blob routes: uploads of odd media types and sizes (to the caller's account and to others),
 * downloads with odd names, `accept` parameters, account and blob ids, and HEAD requests.
 */
import type { FuzzRequest } from "./client.ts";
import { type FuzzContext, remember, someActor, someId, type Surface } from "./context.ts";
import { percent } from "./oauth.ts";
import { oddString, type Random } from "./random.ts";

/** The largest upload, in bytes: well under the default maxSizeUpload. */
const MAX_UPLOAD_BYTES = 512 * 1024;

const MEDIA_TYPES = [
  "application/octet-stream",
  "text/plain; charset=utf-8",
  "image/png",
  "message/rfc822",
  "text/html",
  "",
  "x",
  "a/b/c",
  'text/plain; charset="',
  "multipart/form-data; boundary=x",
  "application/json",
];

/** One upload, or one download. */
export const blobSurface: Surface = async (rng, ctx) => {
  const answer = await ctx.client.send(rng.chance(0.5) ? upload(rng, ctx) : download(rng, ctx));
  remember(ctx, "blob", (answer.json as { blobId?: unknown } | undefined)?.blobId);
};

function upload(rng: Random, ctx: FuzzContext): FuzzRequest {
  const actor = someActor(rng, ctx);
  const accountId = rng.chance(0.8) ? actor.accountId : someId(rng, ctx, "account");
  const size = rng.chance(0.1) ? 0 : rng.size(MAX_UPLOAD_BYTES);
  const data = new Uint8Array(size);
  for (let i = 0; i < Math.min(size, 4096); i++) data[i] = rng.int(0, 255);
  const headers: Record<string, string> = {
    authorization: rng.chance(0.9) ? actor.bearer : actor.basic,
  };
  const type = rng.chance(0.8) ? rng.pick(MEDIA_TYPES) : oddString(rng, 300).replace(/[^\x20-\xff]/g, "");
  if (type || rng.chance(0.5)) headers["content-type"] = type;
  const path = rng.pick([`/jmap/upload/${percent(accountId)}/`, `/jmap/upload/${percent(accountId)}`]);
  return { method: "POST", path, headers, body: data };
}

function download(rng: Random, ctx: FuzzContext): FuzzRequest {
  const actor = someActor(rng, ctx);
  const accountId = rng.chance(0.8) ? actor.accountId : someId(rng, ctx, "account");
  const blobId = rng.chance(0.8) ? someId(rng, ctx, "blob") : oddString(rng, 300);
  const name = rng.chance(0.5) ? "file.txt" : oddString(rng, 1000);
  const accept = rng.chance(0.5) ? rng.pick(MEDIA_TYPES) : oddString(rng, 300);
  const encode = (text: string) => rng.chance(0.9) ? percent(text) : text.replace(/[/?#]/g, "_");
  return {
    method: rng.pick(["GET", "GET", "HEAD"]),
    path: `/jmap/download/${encode(accountId)}/${encode(blobId)}/${encode(name)}?accept=${encode(accept)}`,
    headers: { authorization: actor.bearer },
  };
}
