/**
 * Compressed responses through the whole handler: JMAP, downloads and the API are sent br or gzip
 * when asked, decode to the bytes sent uncompressed, carry `Vary: Accept-Encoding`; the OAuth pages
 * and cross-site requests with ambient credentials are never compressed (BREACH).
 */
import assert from "node:assert/strict";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { ADMIN, withApp } from "./jmap_helpers.ts";

const decode = async (response: Response) => {
  const bytes = new Uint8Array(await response.arrayBuffer());
  const coding = response.headers.get("content-encoding");
  const plain = coding === "br" ? brotliDecompressSync(bytes) : coding === "gzip" ? gunzipSync(bytes) : bytes;
  return new TextDecoder().decode(plain);
};

Deno.test("the JMAP session is sent br or gzip as asked, and decodes to the uncompressed bytes", async () => {
  await withApp(async (t) => {
    const plain = await t.fetch("/jmap/session", { headers: { authorization: ADMIN } });
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.get("content-encoding"), null);
    assert.match(plain.headers.get("vary") ?? "", /Accept-Encoding/);
    const expected = await plain.text();
    assert.ok(expected.length > 1024, `the session is ${expected.length} bytes`);
    for (
      const [asked, coding] of [["gzip, deflate, br", "gzip"], ["br", "br"], ["gzip;q=0.5, br", "br"], [
        "br;q=0.1, gzip",
        "gzip",
      ]]
    ) {
      const response = await t.fetch("/jmap/session", {
        headers: { authorization: ADMIN, "accept-encoding": asked },
      });
      assert.equal(response.headers.get("content-encoding"), coding, asked);
      assert.match(response.headers.get("vary") ?? "", /Accept-Encoding/);
      assert.equal(response.headers.get("content-length"), null);
      assert.ok(response.headers.get("x-request-id"));
      assert.equal(await decode(response), expected);
    }
  });
});

Deno.test("a downloaded message is compressed; its upload and the identity answer keep their bytes", async () => {
  await withApp(async (t) => {
    const session = await (await t.fetch("/jmap/session", { headers: { authorization: ADMIN } })).json();
    const accountId = session.primaryAccounts["urn:ietf:params:jmap:mail"] ??
      Object.keys(session.accounts)[0];
    const message = "From: a@example.org\r\nSubject: hi\r\n\r\n" +
      "A line of text that repeats.\r\n".repeat(500);
    const uploaded = await t.fetch(`/jmap/upload/${accountId}/`, {
      method: "POST",
      headers: { authorization: ADMIN, "content-type": "message/rfc822" },
      body: message,
    });
    assert.equal(uploaded.status, 201);
    const { blobId } = await uploaded.json();
    const path = `/jmap/download/${accountId}/${blobId}/m.eml?accept=message/rfc822`;
    const compressed = await t.fetch(path, { headers: { authorization: ADMIN, "accept-encoding": "gzip" } });
    assert.equal(compressed.status, 200);
    assert.equal(compressed.headers.get("content-encoding"), "gzip");
    assert.equal(await decode(compressed), message);
    const octets = await t.fetch(`/jmap/download/${accountId}/${blobId}/m.bin`, {
      headers: { authorization: ADMIN, "accept-encoding": "gzip" },
    });
    assert.equal(octets.headers.get("content-encoding"), null, "application/octet-stream is sent as it is");
    assert.equal(await octets.text(), message);
  });
});

Deno.test("a cross-site request with ambient Basic credentials is never compressed (BREACH)", async () => {
  await withApp(async (t) => {
    const response = await t.fetch("/jmap/session", {
      headers: {
        authorization: ADMIN,
        "accept-encoding": "br",
        "sec-fetch-site": "cross-site",
        origin: "https://evil.example",
      },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-encoding"), null);
    assert.match(response.headers.get("vary") ?? "", /Accept-Encoding/);
    await response.body?.cancel();
  });
});

Deno.test("the OAuth pages are never compressed: they carry form tokens beside the request's input", async () => {
  await withApp(async (t) => {
    const response = await t.fetch("/auth/device?user_code=ABCD-EFGH", {
      headers: { "accept-encoding": "br, gzip" },
    });
    assert.match(response.headers.get("content-type") ?? "", /text\/html/);
    assert.equal(response.headers.get("content-encoding"), null);
    const page = await response.text();
    assert.ok(
      page.length > 1024,
      `the page is ${page.length} bytes, enough to be compressed were it allowed`,
    );
  });
});

Deno.test("the schema's ETag is weak when compressed, and the weak tag revalidates to 304", async () => {
  await withApp(async (t) => {
    const first = await t.fetch("/api/schema", {
      headers: { authorization: ADMIN, "accept-encoding": "gzip" },
    });
    assert.equal(first.headers.get("content-encoding"), "gzip");
    const etag = first.headers.get("etag")!;
    assert.match(etag, /^W\/"/);
    JSON.parse(await decode(first));
    const again = await t.fetch("/api/schema", {
      headers: { authorization: ADMIN, "accept-encoding": "gzip", "if-none-match": etag },
    });
    assert.equal(again.status, 304);
    const strong = await t.fetch("/api/schema", {
      headers: { authorization: ADMIN, "if-none-match": etag.slice(2) },
    });
    assert.equal(strong.status, 304);
  });
});

Deno.test("a refused credential stays a 401 with its Bearer challenge when compression is asked", async () => {
  await withApp(async (t) => {
    const response = await t.fetch("/jmap/session", {
      headers: { authorization: "Bearer nonsense", "accept-encoding": "gzip" },
    });
    assert.equal(response.status, 401);
    assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer/);
    assert.equal(JSON.parse(await decode(response)).status, 401);
  });
});

Deno.test("a JSON response says Vary: Accept-Encoding once, whether compression was asked or not", async () => {
  await withApp(async (t) => {
    const body = JSON.stringify({
      using: ["urn:ietf:params:jmap:core"],
      methodCalls: [["Core/echo", { hello: "x".repeat(2000) }, "0"]],
    });
    for (const asked of [undefined, "gzip", "identity"]) {
      const response = await t.fetch("/jmap/", {
        method: "POST",
        headers: {
          authorization: ADMIN,
          "content-type": "application/json",
          ...(asked ? { "accept-encoding": asked } : {}),
        },
        body,
      });
      assert.equal(response.status, 200, asked);
      assert.equal(response.headers.get("vary"), "Accept-Encoding", asked);
      assert.equal(response.headers.get("content-encoding"), asked === "gzip" ? "gzip" : null, asked);
      assert.ok(response.headers.get("x-request-id"));
      assert.match(await decode(response), /"hello":"x{2000}"/);
    }
  });
});
