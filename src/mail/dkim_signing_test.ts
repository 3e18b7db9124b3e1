import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { openStore } from "../store/mod.ts";
import { DkimKeyService } from "./dkim_keys.ts";
import { DkimSigner, rsaSign } from "./dkim_signing.ts";

const message = (from: string) =>
  new TextEncoder().encode(`From: ${from}\r\nTo: x@elsewhere.example\r\nSubject: Hi\r\n\r\nHello\r\n`);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("a local From is signed with both keys; a foreign one and a key that does not open leave the message as it was", async () => {
  const dir = await Deno.makeTempDir({ prefix: "postern-dkim-sign-" });
  const store = openStore(`${dir}/db`);
  try {
    const id = await store.domains.insert({ name: "local.example", description: null });
    let opens = true;
    const sealer = {
      seal: (t: string) => t,
      open: (t: string) => {
        if (!opens) throw new Error("wrong key");
        return t;
      },
    };
    const keys = new DkimKeyService(store, sealer);
    await keys.ensure(id);
    const problems: string[] = [];
    const signer = new DkimSigner(keys, (p) => problems.push(p));

    const signed = text(await signer.sign(message("Ann <ann@Local.Example>")));
    assert.equal(signed.match(/^DKIM-Signature:/gm)?.length, 2, signed);
    assert.match(signed, /a=ed25519-sha256/);
    assert.match(signed, /a=rsa-sha256/);
    assert.match(signed, /c=relaxed\/relaxed/);
    assert.ok(signed.endsWith("Subject: Hi\r\n\r\nHello\r\n"));

    const foreign = message("bob@elsewhere.example");
    assert.equal(await signer.sign(foreign), foreign);
    const noFrom = new TextEncoder().encode("Subject: none\r\n\r\nx\r\n");
    assert.equal(await signer.sign(noFrom), noFrom);
    assert.deepEqual(problems, []);

    opens = false;
    const unopened = message("ann@local.example");
    assert.equal(await signer.sign(unopened), unopened);
    assert.match(problems[0], /DKIM signing failed: wrong key/);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("From and the other single fields are oversigned: mailauth verifies, and an added From or Reply-To breaks it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "postern-dkim-oversign-" });
  const store = openStore(`${dir}/db`);
  try {
    const id = await store.domains.insert({ name: "local.example", description: null });
    const keys = new DkimKeyService(store, { seal: (t) => t, open: (t) => t });
    await keys.ensure(id);
    const published = await keys.ofDomain(id);
    const resolver = (name: string, type: string) => {
      const key = published.find((k) => `${k.selector}._domainkey.local.example` === name.toLowerCase());
      if (type !== "TXT" || !key) {
        return Promise.reject(Object.assign(new Error("none"), { code: "ENOTFOUND" }));
      }
      return Promise.resolve([[`v=DKIM1; k=${key.algorithm}; p=${key.publicKey}`]]);
    };
    const verify = async (bytes: string) => {
      const { dkimVerify } = await import("mailauth");
      const verdict = await dkimVerify(Buffer.from(bytes, "binary"), { resolver }) as {
        results: { status: { result: string } }[];
      };
      return verdict.results.map((r) => r.status.result);
    };
    const signer = new DkimSigner(keys);
    const original = new TextEncoder().encode(
      "From: Ann <ann@local.example>\r\nTo: x@elsewhere.example\r\nSubject:  Hi   there\r\n" +
        "Date: Sun, 6 Dec 2026 12:00:00 +0000\r\nMessage-ID: <1@local.example>\r\nMIME-Version: 1.0\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n\r\nHello  \r\n\r\n\r\n",
    );
    const signed = text(await signer.sign(original));
    assert.deepEqual(await verify(signed), ["pass", "pass"], signed);

    const tags = signed.split(/\r\n(?=\S)/).filter((l) => l.startsWith("DKIM-Signature:"));
    for (const tag of tags) {
      const h = tag.replace(/\r\n\s*/g, "").match(/\bh=([^;]*)/)![1].split(":").map((f) =>
        f.trim().toLowerCase()
      );
      const count = (field: string) => h.filter((f) => f === field).length;
      assert.equal(count("from"), 2, tag);
      assert.equal(count("subject"), 2, tag);
      assert.equal(count("reply-to"), 1, "absent, listed once: adding one breaks the signature");
      assert.equal(count("list-id"), 0, "lists add List-Id: never oversigned");
      assert.equal(count("message-id"), 2, "present: oversigned");
      assert.equal(count("in-reply-to"), 0, "absent, and a relay may add it: not listed");
    }

    const [signatures, rest] = [tags.join("\r\n") + "\r\n", signed.slice(tags.join("\r\n").length + 2)];
    assert.deepEqual(await verify(`${signatures}From: Mallory <boss@local.example>\r\n${rest}`), [
      "fail",
      "fail",
    ]);
    const headerEnd = rest.indexOf("\r\n\r\n") + 2;
    const appended = `${signatures}${rest.slice(0, headerEnd)}From: boss@local.example\r\n${
      rest.slice(headerEnd)
    }`;
    assert.deepEqual(await verify(appended), ["fail", "fail"]);
    assert.deepEqual(await verify(`${signatures}Reply-To: mallory@elsewhere.example\r\n${rest}`), [
      "fail",
      "fail",
    ]);
    // A message without Date: a relay that adds one (RFC 5321 §6.4) leaves the signature intact.
    const undated = text(
      await signer.sign(new TextEncoder().encode("From: ann@local.example\r\nSubject: x\r\n\r\nHi\r\n")),
    );
    const cut = undated.lastIndexOf("From: ann@");
    const dated = `${undated.slice(0, cut)}Date: Sun, 6 Dec 2026 12:00:00 +0000\r\n${undated.slice(cut)}`;
    assert.deepEqual(await verify(dated), ["pass", "pass"]);
    // A relay's own trace fields are not signed: the signature survives them.
    assert.deepEqual(await verify(`Received: from relay\r\n${signed}`), ["pass", "pass"]);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the RSA signature WebCrypto makes is the one crypto.sign makes", async () => {
  const { generateKeyPairSync, sign } = await import("node:crypto");
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = String(privateKey.export({ type: "pkcs8", format: "pem" }));
  for (const text of ["", "from:alice@example.org\r\n", "x".repeat(5000)]) {
    const data = new TextEncoder().encode(text);
    const made = await rsaSign(pem, privateKey, data);
    assert.deepEqual(Buffer.from(made), sign("sha256", data, privateKey), `${text.length} bytes`);
  }
  // The key imported once is used again.
  const again = await rsaSign(pem, privateKey, new Uint8Array([1, 2, 3]));
  assert.deepEqual(Buffer.from(again), sign("sha256", new Uint8Array([1, 2, 3]), privateKey));
});
