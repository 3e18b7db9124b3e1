/**
 * Bad input to the authentication of incoming mail, through a real `postern serve`: a DNS server on
 * loopback that answers every query with garbage (bytes that are no DNS message, a header promising
 * records that are not there, a compression pointer to itself), and messages with malformed or
 * hundreds of DKIM signatures. Every message is still answered 250 and stored, the server keeps
 * serving, and nothing is refused with a 5xx because of what DNS said.
 */
import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { Buffer } from "node:buffer";
import { DnsResolver } from "../src/dns/mod.ts";
import { createUsers, serverTarget } from "./mail_helpers.ts";
import { message, send, storedEmail } from "./smtp_mailauth_helpers.ts";
import { startMxProcess } from "./smtp_helpers.ts";

/** A UDP "DNS server" on 127.0.0.1 answering each query with the next kind of garbage. */
async function garbageDns(): Promise<{ server: string; answered: () => number; stop(): Promise<void> }> {
  const socket: Socket = createSocket("udp4");
  let count = 0;
  socket.on("message", (query: Buffer, peer) => {
    const id = query.subarray(0, 2);
    const kinds = [
      // Random bytes after the query's id.
      () => Buffer.concat([id, Buffer.from(crypto.getRandomValues(new Uint8Array(40)))]),
      // Too short to be a header.
      () => Buffer.from(id),
      // A response header promising 5 answers, followed by nothing.
      () => Buffer.concat([id, Buffer.from([0x81, 0x80, 0, 1, 0, 5, 0, 0, 0, 0])]),
      // The question echoed, then an answer whose name is a compression pointer to itself.
      () => {
        const header = Buffer.from([0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
        const question = query.subarray(12);
        const at = 12 + question.length;
        const answer = Buffer.from([
          0xc0 | (at >> 8),
          at & 0xff,
          0,
          16,
          0,
          1,
          0,
          0,
          0,
          60,
          0,
          4,
          3,
          65,
          66,
          67,
        ]);
        return Buffer.concat([id, header, question, answer]);
      },
    ];
    const reply = kinds[count++ % kinds.length]();
    socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address();
  return {
    server: `127.0.0.1:${port}`,
    answered: () => count,
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

Deno.test("garbage DNS answers are errors with a code, never a crash", async () => {
  const dns = await garbageDns();
  try {
    const resolver = new DnsResolver({ servers: [dns.server], timeoutMs: 1000, tries: 1 });
    for (let i = 0; i < 8; i++) {
      const error = await resolver.resolve(`q${i}.garbage.test`, "TXT").then(() => undefined, (e) => e);
      if (error === undefined) continue; // A reply that happens to parse is an answer like any other.
      assert.equal(typeof (error as { code?: unknown }).code, "string", String(error));
    }
    assert.ok(dns.answered() > 0);
  } finally {
    await dns.stop();
  }
});

Deno.test("with garbage DNS, malformed and countless DKIM signatures, every message is stored", async () => {
  const dns = await garbageDns();
  const dataDir = await Deno.makeTempDir({ prefix: "postern-mailauth-bad-" });
  const server = await startMxProcess(dataDir, { POSTERN_DNS_SERVER: dns.server });
  try {
    const [alice] = await createUsers(serverTarget(server.url), ["alice"]);
    const many = Array.from(
      { length: 500 },
      (_, i) => `DKIM-Signature: v=1; a=rsa-sha256; d=d${i}.test; s=s; h=from; bh=AAAA; b=AAAA\r\n`,
    ).join("");
    const cases: [string, string][] = [
      ["many signatures", many],
      ["empty signature", "DKIM-Signature: \r\n"],
      ["broken tags", "DKIM-Signature: ;;==;v=9;a=x-y;d=;s=;b=!!;bh=??;l=-1;t=z\r\n"],
      ["huge domain", `DKIM-Signature: v=1; a=rsa-sha256; d=${"x".repeat(3000)}.test; s=s; bh=A; b=A\r\n`],
      ["forged results", "Authentication-Results: example.org; dmarc=pass; dkim=pass; spf=pass\r\n"],
    ];
    for (const [subject, extra] of cases) {
      const sent = await send(
        server.smtpPort,
        { from: "x@sender.test", to: ["alice@example.org"] },
        message("x@sender.test", subject, { extra }),
      );
      assert.equal(sent.code, 250, `${subject}: ${sent.response}`);
      const stored = await storedEmail(server.url, alice, subject);
      assert.ok(stored, `${subject} was not stored`);
      assert.equal(stored.mailbox, "Inbox", subject);
      const ours = stored.authenticationResults.filter((h) => h.startsWith("example.org;"));
      assert.equal(ours.length, 1, `${subject}: ${stored.authenticationResults.join(" | ")}`);
      assert.doesNotMatch(ours[0], /dkim=pass/, subject);
      assert.ok((ours[0].match(/dkim=/g)?.length ?? 0) <= 10, `${subject}: every signature reported`);
    }
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    assert.ok(dns.answered() > 0, "the garbage server was asked");
  } finally {
    await server.stop();
    await dns.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
  }
});
