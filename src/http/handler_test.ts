import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { createHandler, pathOf } from "./handler.ts";
import { DRAIN_BYTES } from "./request_body.ts";
import { HttpMetrics } from "./metrics.ts";
import { Router } from "./router.ts";
import type { RequestContext } from "./context.ts";
import { AuthError } from "../model/errors.ts";

type TestOptions = { trustedProxies?: string[]; maxBodyBytes?: number; serverNames?: string[] };

function handler(options: TestOptions = {}) {
  const serve = testHandler(options);
  return (path: string, init: RequestInit = {}, remote = "127.0.0.1") =>
    serve(
      new Request(`http://127.0.0.1:8080${path}`, init),
      { remoteAddr: { hostname: remote, port: 1, transport: "tcp" } } as Deno.ServeHandlerInfo,
    );
}

function testHandler(options: TestOptions) {
  const router = new Router<RequestContext>().add(
    {
      method: "POST",
      path: "/echo",
      handler: async (ctx) => Response.json({ got: await ctx.readJson() }),
    },
    {
      method: "GET",
      path: "/whoami",
      handler: (ctx) => Response.json({ client: ctx.clientAddress, base: ctx.baseUrl }),
    },
    {
      method: "GET",
      path: "/items/:id",
      handler: (_ctx, params) => Response.json({ id: params.id }),
    },
  );
  const serve = createHandler({
    router,
    authenticate: () => Promise.reject(new AuthError("no", "missing", undefined)),
    beforeRequest: () => {},
    trustedProxies: options.trustedProxies ?? [],
    serverNames: options.serverNames,
    maxBodyBytes: options.maxBodyBytes ?? 1024,
    metrics: new HttpMetrics(),
    log: getLogger(["postern", "test"]),
    accessLog: false,
  });
  return serve;
}

Deno.test("a JSON body within the limit is read", async () => {
  const call = handler();
  const response = await call("/echo", {
    method: "POST",
    body: '{"a":1}',
    headers: { "content-type": "application/json" },
  });
  assert.deepEqual(await response.json(), { got: { a: 1 } });
});

Deno.test("a body over the limit is 413, whether declared or streamed", async () => {
  const call = handler({ maxBodyBytes: 1024 });
  const big = JSON.stringify({ x: "y".repeat(5000) });
  const declared = await call("/echo", {
    method: "POST",
    body: big,
    headers: { "content-type": "application/json" },
  });
  assert.equal(declared.status, 413);
  assert.match((await declared.json()).detail, /limit of 1024/);
  const stream = new ReadableStream({
    start(controller) {
      for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode("x".repeat(500)));
      controller.close();
    },
  });
  const streamed = await call("/echo", {
    method: "POST",
    body: stream,
    headers: { "content-type": "application/json" },
  });
  assert.equal(streamed.status, 413);
  await streamed.body?.cancel();
});

Deno.test("invalid JSON, non-UTF-8 bodies and wrong content types are 4xx naming the problem", async () => {
  const call = handler();
  const invalid = await call("/echo", {
    method: "POST",
    body: "{nope",
    headers: { "content-type": "application/json" },
  });
  assert.equal(invalid.status, 400);
  assert.match((await invalid.json()).detail, /not valid JSON/);
  const binary = await call("/echo", {
    method: "POST",
    body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
    headers: { "content-type": "application/json" },
  });
  assert.equal(binary.status, 400);
  assert.match((await binary.json()).detail, /UTF-8/);
  const xml = await call("/echo", {
    method: "POST",
    body: "<a/>",
    headers: { "content-type": "application/xml" },
  });
  assert.equal(xml.status, 415);
  await xml.body?.cancel();
  // What a cross-site form can send without a preflight is not read as JSON.
  for (const type of ["text/plain", "multipart/form-data; boundary=x", undefined]) {
    const form = await call("/echo", {
      method: "POST",
      body: "{}",
      headers: type ? { "content-type": type } : {},
    });
    assert.equal(form.status, 415, type);
    await form.body?.cancel();
  }
  const deep = await call("/echo", {
    method: "POST",
    body: "[".repeat(300) + "]".repeat(300),
    headers: { "content-type": "application/json" },
  });
  assert.equal(deep.status, 400);
  assert.match((await deep.json()).detail, /nested deeper than 128/);
});

Deno.test("X-Forwarded-* is honoured only from a trusted proxy", async () => {
  const call = handler({ trustedProxies: ["10.0.0.1"], serverNames: ["mail.example.org"] });
  const headers = {
    "x-forwarded-for": "198.51.100.9",
    "x-forwarded-proto": "https",
    "x-forwarded-host": "mail.example.org",
  };
  const trusted = await (await call("/whoami", { headers }, "10.0.0.1")).json();
  assert.deepEqual(trusted, { client: "198.51.100.9", base: "https://mail.example.org" });
  const untrusted = await (await call("/whoami", { headers }, "192.0.2.5")).json();
  assert.deepEqual(untrusted, { client: "192.0.2.5", base: "http://127.0.0.1:8080" });
});

Deno.test("pattern routes pass their parameters and every response carries a request id", async () => {
  const call = handler();
  const response = await call("/items/abc", { headers: { "x-request-id": "trace-1" } });
  assert.deepEqual(await response.json(), { id: "abc" });
  assert.equal(response.headers.get("x-request-id"), "trace-1");
  const generated = await call("/items/abc", { headers: { "x-request-id": "bad id with spaces" } });
  const another = await call("/items/abc");
  assert.notEqual(another.headers.get("x-request-id"), generated.headers.get("x-request-id"));
  await another.body?.cancel();
  assert.match(generated.headers.get("x-request-id")!, /^[0-9a-z]+-[0-9a-z]+$/);
  await generated.body?.cancel();
});

Deno.test("request paths are taken as the URL parser gives them", () => {
  const hrefs = [
    "http://127.0.0.1:8080/jmap",
    "http://127.0.0.1:8080/jmap/?x=1",
    "http://h:1/a/../b",
    "http://h:1/a/./b",
    "http://h:1/.well-known/jmap",
    "http://h:1/%7Efoo",
    "http://h:1/x#f",
    "http://h:1/a\\b",
    "http://h:1/é",
    'http://h:1/a"b<c>{d}`e f',
    "http://h:1",
    "http://h:1/",
  ];
  for (const href of hrefs) assert.equal(pathOf(href), new URL(href).pathname, href);
});

Deno.test("a refused request's small body is read, so the requests pipelined behind it are answered", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, testHandler({}));
  // Sends a POST the router refuses (404, its body never read) with a GET pipelined behind it.
  const exchange = async (bodyBytes: number) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    const body = "x".repeat(bodyBytes);
    await conn.write(new TextEncoder().encode(
      `POST /nowhere HTTP/1.1\r\nhost: a\r\ncontent-length: ${bodyBytes}\r\n\r\n${body}` +
        "GET /items/7 HTTP/1.1\r\nhost: a\r\n\r\n",
    ));
    let text = "";
    const buffer = new Uint8Array(64 * 1024);
    // Until the server closes the connection or both answers are in.
    while (!/"id":"7"/.test(text)) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    conn.close();
    return text;
  };
  try {
    const small = await exchange(2_000);
    assert.match(small, /^HTTP\/1\.1 404/);
    assert.doesNotMatch(small, /connection: close/i);
    assert.match(small, /HTTP\/1\.1 200[^]*"id":"7"/);
    // A body past DRAIN_BYTES is not waited for: the connection ends after the refusal, as before.
    const large = await exchange(DRAIN_BYTES + 1);
    assert.match(large, /^HTTP\/1\.1 404/);
    assert.match(large, /connection: close/i);
    assert.doesNotMatch(large, /"id":"7"/);
  } finally {
    await server.shutdown();
  }
});
