import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { MailAuthenticator, type ResolveFunction } from "./authentication.ts";
import { authservIdOf, headerFields, withoutFields } from "./header_fields.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const recipients = [{ address: "alice@example.org" }];

/** A resolver that answers nothing (NXDOMAIN) and records what was asked. */
function counting(): { resolver: ResolveFunction; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    resolver: (name, type) => {
      asked.push(`${type} ${name}`);
      return Promise.reject(Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: "ENOTFOUND" }));
    },
  };
}

function mail(head: string): Uint8Array {
  return encoder.encode(`${head}From: <a@sender.test>\r\nSubject: hi\r\n\r\nbody\r\n`);
}

Deno.test("header fields: folded fields are one, and dropping fields leaves every other byte", () => {
  const raw = encoder.encode("A: 1\r\nB: two\r\n\tlines\r\nC: 3\r\n\r\nB: not a header\r\n");
  const fields = headerFields(raw);
  assert.deepEqual(fields.map((f) => [f.name, f.value]), [["a", "1"], ["b", "two\tlines"], ["c", "3"]]);
  assert.equal(decoder.decode(withoutFields(raw, [fields[1]])), "A: 1\r\nC: 3\r\n\r\nB: not a header\r\n");
  assert.equal(decoder.decode(withoutFields(raw, [])), decoder.decode(raw));
  // Edges: no line end at all, an empty header, a header with no body, a lone CR in a value.
  const names = (text: string) => headerFields(encoder.encode(text)).map((f) => `${f.name}=${f.value}`);
  assert.deepEqual(names("A: 1"), ["a=1"]);
  assert.deepEqual(names("\r\n\r\nA: body"), []);
  assert.deepEqual(names("A: 1\r\n\r\n"), ["a=1"]);
  assert.deepEqual(names("A: x\ry\r\nB: 2\r\n\r\nC: 3"), ["a=x\ry", "b=2"]);
});

Deno.test("authserv-id: the first token, without comments, quotes, version or case", () => {
  assert.equal(authservIdOf("example.org; spf=pass"), "example.org");
  assert.equal(authservIdOf(" Example.ORG 1; dkim=pass"), "example.org");
  assert.equal(authservIdOf("(comment) example.org (more); none"), "example.org");
  assert.equal(authservIdOf('"example.org"; none'), "example.org");
  assert.equal(authservIdOf(""), "");
});

Deno.test("only the first DKIM signatures are checked: 300 signatures cost at most the cap in key look-ups", async () => {
  const { resolver, asked } = counting();
  // The right body hash (simple canonicalization of "body\r\n"), so each signature needs its key.
  const bh = createHash("sha256").update("body\r\n").digest("base64");
  const signatures = Array.from(
    { length: 300 },
    (_, i) => `DKIM-Signature: v=1; a=rsa-sha256; d=sender.test; s=s${i}; h=from; bh=${bh}; b=AAAA\r\n`,
  ).join("");
  const auth = new MailAuthenticator({ authservId: "mx.example.org", resolver, maxDkimSignatures: 5 });
  const verdict = await auth.check({
    message: mail(signatures),
    ip: "192.0.2.1",
    helo: "h.test",
    mailFrom: "",
    recipients,
  });
  const keyLookups = asked.filter((q) => q.includes("._domainkey."));
  assert.ok(keyLookups.length <= 5, `${keyLookups.length} key look-ups`);
  assert.equal(verdict.header.match(/dkim=/g)?.length, 5, "one result per checked signature");
  assert.notEqual(verdict.results.dkim, "pass");
  assert.equal(verdict.refusal, undefined);
  // Without the cap every signature costs a look-up (what the cap is there for).
  const uncapped = counting();
  await new MailAuthenticator({
    authservId: "mx.example.org",
    resolver: uncapped.resolver,
    maxDkimSignatures: 1000,
  })
    .check({ message: mail(signatures), ip: "192.0.2.1", helo: "h.test", mailFrom: "", recipients });
  assert.ok(uncapped.asked.filter((q) => q.includes("._domainkey.")).length > 5);
  // The stored message keeps every signature: the cap limits the work, never the content.
  assert.equal(verdict.message.length, mail(signatures).length);
});

Deno.test("malformed DKIM-Signature fields give a verdict, never an exception", async () => {
  const bad = [
    "DKIM-Signature: \r\n",
    "DKIM-Signature: ;;;===;;;\r\n",
    "DKIM-Signature: v=1; a=rsa-sha256; d=; s=; b=; bh=\r\n",
    "DKIM-Signature: v=999; a=none-sha0; d=sender.test; s=x; l=-5; t=abc; x=-1; h=; bh=!!; b=!!\r\n",
    `DKIM-Signature: v=1; a=rsa-sha256; d=${"a".repeat(5000)}.test; s=${"s".repeat(300)}; b=x; bh=x\r\n`,
    "DKIM-Signature: v=1; a=ed25519-sha256; c=weird/odd; d=sender.test; s=s; q=dns/txt; h=from:from:from; b=x; bh=x\r\n",
    "DKIM-Signature: v=1\r\n\t\r\n \r\n",
  ];
  const { resolver } = counting();
  const auth = new MailAuthenticator({ authservId: "mx.example.org", resolver });
  for (const field of [...bad, bad.join("")]) {
    const verdict = await auth.check({
      message: mail(field),
      ip: "192.0.2.1",
      helo: "h.test",
      mailFrom: "a@sender.test",
      recipients,
    });
    assert.notEqual(verdict.results.dkim, "pass", field);
    assert.match(verdict.header, /^Authentication-Results: mx\.example\.org;/);
    assert.ok(!/\r\n(?![ \t])[^]/.test(verdict.header.slice(0, -2)), "one field, continuation lines folded");
  }
});

Deno.test("odd resolver answers and a resolver that never answers end as results, not exceptions", async () => {
  const answers: ResolveFunction[] = [
    () => Promise.resolve([[null, 42, { toString: () => "v=spf1 +all" }]]),
    () => Promise.resolve("not a list"),
    () => Promise.resolve([["v=DMARC1; p=reject; pct=banana; sp=???"]]),
    () => Promise.resolve([["v=DKIM1; k=rsa; p=!!!not base64!!!"]]),
    () => Promise.reject(new Error("no code at all")),
    () => Promise.reject(Object.assign(new Error("bad response"), { code: "EBADRESP" })),
    () => new Promise(() => undefined),
  ];
  const signed = "DKIM-Signature: v=1; a=rsa-sha256; d=sender.test; s=s; h=from; bh=AAAA; b=AAAA\r\n";
  for (const [i, resolver] of answers.entries()) {
    const auth = new MailAuthenticator({ authservId: "mx.example.org", resolver, deadlineMs: 500 });
    const verdict = await auth.check({
      message: mail(signed),
      ip: "192.0.2.1",
      helo: "h.test",
      mailFrom: "a@sender.test",
      recipients,
    });
    assert.match(verdict.header, /^Authentication-Results: mx\.example\.org;/, `answer ${i}`);
    assert.notEqual(verdict.results.dkim, "pass", `answer ${i}`);
    assert.equal(verdict.refusal, undefined, `answer ${i}: refused on ${JSON.stringify(verdict.results)}`);
  }
});
