import assert from "node:assert/strict";
import { openStore } from "../store/mod.ts";
import { DkimKeyService } from "./dkim_keys.ts";
import { DkimSigner } from "./dkim_signing.ts";

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
