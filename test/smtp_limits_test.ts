/**
 * The MX's session limits on an in-process listener: the cap on commands before the first MAIL FROM
 * (421 4.7.0, and MAIL ends the count) and the per-address session cap over IPv6 loopback (::1,
 * skipped when the machine has none). The /64 grouping itself, shared with the HTTP listener:
 * src/http/connection_limits_test.ts.
 */
import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { SMTP_DEFAULTS } from "../src/config/mod.ts";
import { type MxServer, SmtpMetrics, startMxServer } from "../src/smtp/mod.ts";

const HAS_IPV6_LOOPBACK = (() => {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return true;
  } catch {
    console.warn('Skipping "::1 listener": this machine has no IPv6 loopback');
    return false;
  }
})();

/** An MX on `hostname` that accepts every recipient and stores nothing. */
async function startTestMx(hostname: string, limits: Partial<Record<keyof typeof SMTP_DEFAULTS, number>>) {
  const metrics = new SmtpMetrics();
  const server = await startMxServer({
    hostname,
    port: 0,
    serverName: "mx.example.org",
    inbound: {
      checkRecipient: (address) =>
        Promise.resolve({ accepted: true, recipient: { address, accountIds: [1] } }),
      deliver: () => Promise.resolve(1),
    },
    limits: { ...SMTP_DEFAULTS, ...limits },
    metrics,
    log: getLogger(["postern", "smtp"]),
  });
  return { server, metrics };
}

/** A line-by-line SMTP client: `reply()` reads one complete reply ("" once the server closed). */
async function client(server: MxServer) {
  const conn = await Deno.connect({ hostname: server.addr.hostname, port: server.addr.port });
  const decoder = new TextDecoder();
  let buffer = "";
  const reply = async (): Promise<string> => {
    const bytes = new Uint8Array(4096);
    for (;;) {
      const end = /(?:^|\r\n)\d{3} [^\r\n]*\r\n/.exec(buffer);
      if (end) {
        const upTo = end.index + end[0].length;
        const line = buffer.slice(0, upTo);
        buffer = buffer.slice(upTo);
        return line.trim();
      }
      const n = await conn.read(bytes).catch(() => null);
      if (n === null) return "";
      buffer += decoder.decode(bytes.subarray(0, n));
    }
  };
  const send = async (line: string) => {
    await conn.write(new TextEncoder().encode(`${line}\r\n`));
    return await reply();
  };
  return { reply, send, close: () => conn.close() };
}

Deno.test("the MX closes a session that sends too many commands before MAIL FROM", async () => {
  const { server, metrics } = await startTestMx("127.0.0.1", { maxCommandsBeforeMail: 4 });
  try {
    const c = await client(server);
    try {
      assert.match(await c.reply(), /^220 /);
      assert.match(await c.send("EHLO client.test"), /250 /);
      assert.match(await c.send("NOOP"), /^250 /);
      assert.match(await c.send("RSET"), /^250 /);
      assert.match(await c.send("XJUNK"), /^500 /);
      assert.equal(
        await c.send("NOOP"),
        "421 4.7.0 Too many commands before MAIL FROM, closing the connection",
      );
      assert.equal(await c.reply(), "", "the server closes the session");
    } finally {
      c.close();
    }
    assert.equal(metrics.listener("mx").refusals.get("tooManyCommands"), 1);

    // MAIL FROM ends the count: the same number of commands after it is no problem.
    const d = await client(server);
    try {
      await d.reply();
      assert.match(await d.send("EHLO client.test"), /250 /);
      assert.match(await d.send("MAIL FROM:<a@remote.test>"), /^250 /);
      for (let i = 0; i < 6; i++) assert.match(await d.send("NOOP"), /^250 /);
      assert.match(await d.send("RCPT TO:<b@example.org>"), /^250 /);
      assert.match(await d.send("QUIT"), /^221 /);
    } finally {
      d.close();
    }
  } finally {
    await server.close(1000);
  }
});

Deno.test({
  name: "the MX counts IPv6 sessions per client for its per-address cap (::1)",
  ignore: !HAS_IPV6_LOOPBACK,
  async fn() {
    const { server, metrics } = await startTestMx("::1", { maxConnectionsPerAddress: 1 });
    try {
      const first = await client(server);
      const second = await client(server);
      try {
        assert.match(await first.reply(), /^220 /);
        assert.equal(
          await second.reply(),
          "421 4.7.0 Too many connections from your address, try later",
        );
        assert.match(await first.send("EHLO client.test"), /250 /);
      } finally {
        first.close();
        second.close();
      }
      assert.equal(metrics.listener("mx").refusals.get("tooManyConnections"), 1);
    } finally {
      await server.close(1000);
    }
  },
});
