import assert from "node:assert/strict";
import { HAS_DNSMASQ, startDnsmasq } from "./dnsmasq_helpers.ts";
import { DnsResolver } from "../src/dns/mod.ts";
import {
  AuthenticationPool,
  type AuthenticationVerdict,
  MailAuthenticator,
  messageFacts,
} from "../src/mail/mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const authservId = "mx.example.org";

/**
 * What a check says, comparable across threads (the message as text, the junk set as a list); the
 * facts a worker reads beside the checks must be those of the message it returns.
 */
function plain(verdict: AuthenticationVerdict) {
  const { facts, ...checks } = verdict;
  if (facts) assert.deepEqual(facts, messageFacts(verdict.message), "the worker's facts of the message");
  return { ...checks, message: decoder.decode(verdict.message), junk: [...verdict.junk].sort() };
}

const messages: Record<string, Uint8Array> = {
  "a plain message": encoder.encode("From: <a@sender.test>\r\nSubject: hi\r\n\r\nbody\r\n"),
  // A forgery of this server's own Authentication-Results is dropped: the worker sends the new message.
  "a forged Authentication-Results": encoder.encode(
    `Authentication-Results: ${authservId}; spf=pass\r\nFrom: <a@sender.test>\r\n\r\nbody\r\n`,
  ),
  "bytes that are no message at all": new Uint8Array([0, 255, 13, 10, 13, 10, 7]),
  "a DKIM signature whose key does not exist": encoder.encode(
    "DKIM-Signature: v=1; a=rsa-sha256; d=sender.test; s=gone; h=from; bh=AAAA; b=AAAA\r\n" +
      "From: <a@sender.test>\r\n\r\nbody\r\n",
  ),
};

Deno.test({
  name:
    "checks in the workers answer exactly as on the main thread (SPF pass, DMARC reject, forgeries, garbage)",
  ignore: !HAS_DNSMASQ,
  async fn() {
    const dns = await startDnsmasq({
      "sender.test": "v=spf1 ip4:192.0.2.1 -all",
      "_dmarc.sender.test": "v=DMARC1; p=reject",
    });
    const servers = [dns.server];
    const resolver = new DnsResolver({ servers }).resolve;
    const inline = new MailAuthenticator({ authservId, resolver });
    const pool = new AuthenticationPool({ authservId, dns: { servers }, resolver, workers: 2 });
    try {
      for (const [what, message] of Object.entries(messages)) {
        for (const ip of ["192.0.2.1", "198.51.100.7"]) {
          const input = {
            message,
            ip,
            helo: "sender.test",
            mailFrom: "a@sender.test",
            recipients: [{ address: "alice@example.org" }, {
              address: "bob@example.org",
              dmarcEnforcement: "monitor" as const,
            }],
          };
          const [expected, got] = await Promise.all([inline.check(input), pool.check(input)]);
          // Only the time in the Authentication-Results comment may differ; there is none in these.
          assert.deepEqual(plain(got), plain(expected), `${what} from ${ip}`);
        }
      }
      const refused = await pool.check({
        message: messages["a plain message"],
        ip: "198.51.100.7",
        helo: "sender.test",
        mailFrom: "a@sender.test",
        recipients: [{ address: "alice@example.org" }],
      });
      assert.ok(refused.refusal, "a DMARC p=reject failure is refused from the worker too");
    } finally {
      pool.close();
      await dns.stop();
    }
  },
});

Deno.test("a pool whose DNS server does not answer gives the main thread's verdict, and checks after close still answer", async () => {
  // Nothing listens there: every look-up fails at once, as a DNS outage would.
  const dns = { servers: ["127.0.0.1:9"], timeoutMs: 200, tries: 1 };
  const resolver = new DnsResolver(dns).resolve;
  const inline = new MailAuthenticator({ authservId, resolver });
  const pool = new AuthenticationPool({ authservId, dns, resolver, workers: 1 });
  const input = {
    message: messages["a plain message"],
    ip: "192.0.2.1",
    helo: "sender.test",
    mailFrom: "a@sender.test",
    recipients: [{ address: "alice@example.org" }],
  };
  try {
    const expected = plain(await inline.check(input));
    assert.deepEqual(plain(await pool.check(input)), expected);
    pool.close();
    assert.deepEqual(plain(await pool.check(input)), expected, "after close the main thread checks");
  } finally {
    pool.close();
  }
});

Deno.test("checks asked for in one turn travel together and each gets its own verdict; a close with checks still queued answers them on the main thread", async () => {
  // Nothing listens there: every look-up fails at once, so the verdicts differ only by the message and sender.
  const dns = { servers: ["127.0.0.1:9"], timeoutMs: 200, tries: 1 };
  const resolver = new DnsResolver(dns).resolve;
  const inline = new MailAuthenticator({ authservId, resolver });
  const inputs = Object.values(messages).flatMap((message) =>
    ["a@sender.test", "b@other.test"].map((mailFrom) => ({
      message,
      ip: "192.0.2.1",
      helo: "sender.test",
      mailFrom,
      recipients: [{ address: "alice@example.org" }],
    }))
  );
  const expected = await Promise.all(inputs.map(async (input) => plain(await inline.check(input))));
  const pool = new AuthenticationPool({ authservId, dns, resolver, workers: 1 });
  try {
    // All asked in this turn: one message to the worker, answers matched back by id.
    const got = await Promise.all(inputs.map((input) => pool.check(input)));
    assert.deepEqual(got.map(plain), expected);
    // Asked, then the pool closed before the end of the turn, when the queued checks would have been sent.
    const queued = inputs.map((input) => pool.check(input));
    pool.close();
    assert.deepEqual((await Promise.all(queued)).map(plain), expected);
  } finally {
    pool.close();
  }
});
