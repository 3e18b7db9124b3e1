import assert from "node:assert/strict";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { compressibleType, compressResponse, DEFAULT_COMPRESSION, negotiate } from "./compression.ts";

const big = JSON.stringify({
  list: Array.from({ length: 200 }, (_, i) => ({ id: `M${i}`, subject: "Hello there" })),
});
const get = new Request("http://x/jmap");

Deno.test("negotiate takes the better q-value of br and gzip, gzip on a tie, and honours q=0 and *", () => {
  assert.equal(negotiate(null), undefined);
  assert.equal(negotiate(""), undefined);
  assert.equal(negotiate("identity"), undefined);
  assert.equal(negotiate("gzip, deflate, br"), "gzip");
  assert.equal(negotiate("br"), "br");
  assert.equal(negotiate("gzip;q=0.9, br"), "br");
  assert.equal(negotiate("gzip"), "gzip");
  assert.equal(negotiate("br;q=0.5, gzip;q=0.8"), "gzip");
  assert.equal(negotiate("br;q=0, gzip;q=0"), undefined);
  assert.equal(negotiate("*"), "gzip");
  assert.equal(negotiate("*;q=0.1, br;q=0"), "gzip");
  assert.equal(negotiate("x-gzip"), "gzip");
  assert.equal(negotiate("BR ; Q=1"), "br");
  assert.equal(negotiate("gzip;q=nonsense, br;q=2"), undefined);
});

Deno.test("compressible types: JSON, problem+json, text, XML, messages; not event streams or binaries", () => {
  for (
    const type of [
      "application/json",
      "application/problem+json",
      "text/plain; charset=utf-8",
      "text/html",
      "application/xml",
      "message/rfc822",
      "image/svg+xml",
      "application/jwk-set+json",
    ]
  ) {
    assert.ok(compressibleType(type), type);
  }
  for (
    const type of ["text/event-stream", "image/png", "application/octet-stream", "application/zip", null]
  ) {
    assert.ok(!compressibleType(type), String(type));
  }
});

Deno.test("a large JSON body is sent br or gzip, decodes to the same bytes, with Vary and a weak ETag", async () => {
  for (const coding of ["br", "gzip"] as const) {
    const response = await compressResponse(
      get,
      new Response(big, { headers: { "content-type": "application/json", etag: '"abc"' } }),
      { ...DEFAULT_COMPRESSION, coding },
    );
    assert.equal(response.headers.get("content-encoding"), coding);
    assert.equal(response.headers.get("vary"), "Accept-Encoding");
    assert.equal(response.headers.get("etag"), 'W/"abc"');
    const bytes = new Uint8Array(await response.arrayBuffer());
    assert.ok(bytes.length < big.length / 3, `${coding}: ${bytes.length} of ${big.length}`);
    const decoded = coding === "br" ? brotliDecompressSync(bytes) : gunzipSync(bytes);
    assert.equal(new TextDecoder().decode(decoded), big);
  }
});

Deno.test("a body larger than the main-thread limit is compressed off-thread to the same bytes", async () => {
  const huge = "line of a long message body that repeats itself\r\n".repeat(20_000);
  const response = await compressResponse(
    get,
    new Response(huge, { headers: { "content-type": "message/rfc822" } }),
    {
      ...DEFAULT_COMPRESSION,
      coding: "gzip",
    },
  );
  assert.equal(response.headers.get("content-encoding"), "gzip");
  assert.equal(new TextDecoder().decode(gunzipSync(new Uint8Array(await response.arrayBuffer()))), huge);
});

Deno.test("small, incompressible, coded, partial, no-transform, HEAD and 304 responses are sent as they are", async () => {
  const plain = async (response: Response, request = get) => {
    const out = await compressResponse(request, response, { ...DEFAULT_COMPRESSION, coding: "br" });
    assert.equal(
      out.headers.get("content-encoding") ?? "none",
      response.headers.get("content-encoding") ?? "none",
    );
    return out;
  };
  const small = await plain(new Response('{"a":1}', { headers: { "content-type": "application/json" } }));
  assert.equal(small.headers.get("vary"), "Accept-Encoding");
  assert.equal(await small.text(), '{"a":1}');
  const png = await plain(new Response(big, { headers: { "content-type": "image/png" } }));
  assert.equal(png.headers.get("vary"), null);
  await plain(
    new Response(big, { headers: { "content-type": "application/json", "content-encoding": "gzip" } }),
  );
  await plain(new Response(big, { status: 206, headers: { "content-type": "application/json" } }));
  await plain(
    new Response(big, { headers: { "content-type": "application/json", "cache-control": "no-transform" } }),
  );
  await plain(new Response(null, { status: 304, headers: { "content-type": "application/json" } }));
  await plain(
    new Response(big, { headers: { "content-type": "application/json" } }),
    new Request("http://x/jmap", { method: "HEAD" }),
  );
  const random = crypto.getRandomValues(new Uint8Array(4096));
  const noise = await plain(new Response(random, { headers: { "content-type": "text/plain" } }));
  assert.deepEqual(new Uint8Array(await noise.arrayBuffer()), random);
});

Deno.test("an event stream is passed through untouched, its events not held back", async () => {
  let push!: (chunk: string) => void;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      push = (chunk) => controller.enqueue(new TextEncoder().encode(chunk));
    },
  });
  const response = await compressResponse(
    get,
    new Response(stream, { headers: { "content-type": "text/event-stream" } }),
    { ...DEFAULT_COMPRESSION, coding: "gzip" },
  );
  assert.equal(response.headers.get("content-encoding"), null);
  const reader = response.body!.getReader();
  push("event: state\ndata: {}\n\n");
  const { value } = await reader.read();
  assert.equal(new TextDecoder().decode(value), "event: state\ndata: {}\n\n");
  await reader.cancel();
});
