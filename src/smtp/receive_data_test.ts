import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import type { SMTPServer, SMTPServerDataStream, SMTPServerSession } from "smtp-server";
import { headerValue, receiveData } from "./receive_data.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

/** The first version: decode 16 KiB whole, cut at the blank line (the reference for the fast path). */
function reference(message: Uint8Array, name: string): string | undefined {
  const head = new TextDecoder("latin1").decode(message.subarray(0, 16384));
  const end = head.indexOf("\r\n\r\n");
  const match = new RegExp(`(?:^|\\r\\n)${name}:([^\\r]*(?:\\r\\n[ \\t][^\\r]*)*)`, "i")
    .exec(end < 0 ? head : head.slice(0, end));
  return match?.[1].replace(/\r\n/g, "").trim().slice(0, 200);
}

Deno.test("headerValue reads a field of the header and never one of the body", () => {
  const cases = [
    "Message-ID: <a@b>\r\nSubject: x\r\n\r\nMessage-ID: <body@b>\r\n",
    "Subject: x\r\nMessage-id:\r\n <folded@b>\r\n\r\nbody",
    "Subject: x\r\n\r\nMessage-ID: <only-in-body@b>\r\n",
    "Message-ID: <no-body@b>\r\n",
    "Message-ID: <no-blank-line@b>",
    "\r\n\r\nMessage-ID: <after-empty-header@b>\r\n",
    "",
    "Message-ID: <cr-only@b>\r\r\n\r\n",
    `X-Long: ${"a".repeat(17000)}\r\nMessage-ID: <past-the-limit@b>\r\n\r\n`,
    `Subject: ${"é".repeat(50)}\r\nMessage-ID: <latin@b>\r\n\r\n`,
  ];
  for (const text of cases) {
    assert.equal(
      headerValue(bytes(text), "message-id"),
      reference(bytes(text), "message-id"),
      text.slice(0, 60),
    );
  }
  assert.equal(headerValue(bytes(cases[1]), "message-id"), "<folded@b>");
});

/** A DATA stream as smtp-server hands it over, on a server with no connection of that session. */
function dataStream(): { stream: SMTPServerDataStream; options: Parameters<typeof receiveData>[1] } {
  const stream = Object.assign(new PassThrough(), { byteLength: 0, sizeExceeded: false });
  const server = { connections: new Set() } as unknown as SMTPServer;
  return {
    stream: stream as unknown as SMTPServerDataStream,
    options: { timeoutMs: 60_000, server, session: { id: "s1" } as SMTPServerSession },
  };
}

Deno.test("receiveData collects the chunks of DATA until its end", async () => {
  const { stream, options } = dataStream();
  const received = receiveData(stream, options);
  stream.write(bytes("Subject: a\r\n"));
  stream.end(bytes("\r\nbody\r\n"));
  const data = await received;
  assert.equal(new TextDecoder().decode(data.message), "Subject: a\r\n\r\nbody\r\n");
  assert.equal(data.size, 20);
});

Deno.test("receiveData throws the stream's error when the client goes away mid-DATA", async () => {
  const { stream, options } = dataStream();
  const received = receiveData(stream, options);
  stream.write(bytes("Subject: a\r\n"));
  const gone = Object.assign(new Error("Connection closed"), { code: "ECONNECTION" });
  stream.destroy(gone);
  await assert.rejects(received, (error) => error === gone);
});

Deno.test("receiveData answers the DATA timeout refusal when the stream is cut without an error", async () => {
  const { stream, options } = dataStream();
  const received = receiveData(stream, { ...options, timeoutMs: 10 });
  stream.write(bytes("Subject: a\r\n"));
  assert.deepEqual(await received, { refusal: "dataTimeout", size: 12 });
});

Deno.test("receiveData rejects a stream destroyed without an error before its end", async () => {
  const { stream, options } = dataStream();
  const received = receiveData(stream, options);
  stream.destroy();
  await assert.rejects(received, { code: "ERR_STREAM_PREMATURE_CLOSE" });
});
