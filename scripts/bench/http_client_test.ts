import assert from "node:assert/strict";
import { httpRequest, RawConnection } from "./http_client.ts";

Deno.test("a pipelined write gets every answer, in order, whatever their framing and size", async () => {
  let running = 0;
  let most = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    running++;
    most = Math.max(most, running);
    const body = await request.text();
    await new Promise((resolve) => setTimeout(resolve, 1));
    running--;
    const status = Number(new URL(request.url).searchParams.get("status"));
    // A stream is sent chunked; a large string with a Content-Length spans several reads.
    if (body === "stream") {
      return new Response(ReadableStream.from([new TextEncoder().encode("ab")]), { status });
    }
    return new Response(body === "large" ? "x".repeat(200_000) : body, { status });
  });
  const url = new URL(`http://127.0.0.1:${server.addr.port}/`);
  const asked = [[200, "small"], [404, "large"], [201, "stream"], [503, ""], [200, "small"]] as const;
  const parts = asked.map(([status, body]) =>
    httpRequest("POST", new URL(`/?status=${status}`, url), {}, new TextEncoder().encode(body))
  );
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((offset, part) => (bytes.set(part, offset), offset + part.length), 0);
  const connection = await RawConnection.open(url);
  try {
    for (let round = 0; round < 3; round++) {
      const statuses: number[] = [];
      await connection.pipeline(bytes, asked.length, (status) => statuses.push(status));
      assert.deepEqual(statuses, asked.map(([status]) => status));
    }
    // The connection is still in step: a plain request after the pipelined ones gets its own answer.
    const answer = await connection.send(
      httpRequest("POST", new URL("/?status=202", url), {}, new Uint8Array(3)),
    );
    assert.equal(answer.status, 202);
    assert.equal(answer.body.length, 3);
    // The server took the connection's requests one at a time.
    assert.equal(most, 1);
  } finally {
    connection.close();
    await server.shutdown();
  }
});
