/** Two processes' worth of services on one database file stay coherent through the invalidation log. */
import assert from "node:assert/strict";
import { openServices, type Services } from "../src/services.ts";
import { basic, PASSWORD } from "./helpers.ts";

async function pair(): Promise<{ a: Services; b: Services; dir: string; domainId: number }> {
  const dir = await Deno.makeTempDir({ prefix: "postern-coherence-" });
  const key = crypto.getRandomValues(new Uint8Array(64));
  const a = await openServices({ databasePath: `${dir}/postern.db`, encryptionKey: key, hashWorkers: 1 });
  const b = await openServices({ databasePath: `${dir}/postern.db`, encryptionKey: key, hashWorkers: 1 });
  const domain = await a.domains.create({ name: "example.org" });
  return { a, b, dir, domainId: domain.id };
}

async function cleanup(p: { a: Services; b: Services; dir: string }) {
  await p.a.close();
  await p.b.close();
  await Deno.remove(p.dir, { recursive: true });
}

Deno.test("a negative entry in one process is dropped when another process creates the account", async () => {
  const p = await pair();
  try {
    p.a.sync();
    assert.equal(await p.a.accounts.idByLogin("test@example.org"), undefined);
    assert.equal(p.a.caches.accountByLogin.get("test@example.org").status, "negative");

    const created = await p.b.accounts.create({
      type: "User",
      name: "test",
      domainId: p.domainId,
      password: PASSWORD,
    });

    p.a.sync();
    assert.equal(await p.a.accounts.idByLogin("test@example.org"), created.id);
    const principal = await p.a.authenticator.authenticate(basic("test@example.org", PASSWORD), "127.0.0.1");
    assert.equal(principal.accountId, created.id);
  } finally {
    await cleanup(p);
  }
});

Deno.test("a password change in one process evicts the verified header in the other", async () => {
  const p = await pair();
  try {
    const created = await p.a.accounts.create({
      type: "User",
      name: "u",
      domainId: p.domainId,
      password: PASSWORD,
    });
    const header = basic("u@example.org", PASSWORD);
    p.b.sync();
    await p.b.authenticator.authenticate(header, "127.0.0.1");
    assert.equal(p.b.caches.authHeaders.size, 1);

    await p.a.accounts.update(created.id, { password: "another strong passphrase" });
    p.b.sync();
    assert.equal(p.b.caches.authHeaders.size, 0);
    await assert.rejects(p.b.authenticator.authenticate(header, "127.0.0.1"), { name: "AuthError" });
  } finally {
    await cleanup(p);
  }
});

Deno.test("the coherence check reads the log only when another connection has committed", async () => {
  const p = await pair();
  try {
    let reads = 0;
    const log = p.a.store.invalidations;
    const since = log.since.bind(log);
    (log as { since: typeof since }).since = (id) => {
      reads++;
      return since(id);
    };
    p.a.sync();
    reads = 0;
    for (let i = 0; i < 100; i++) p.a.sync();
    assert.equal(reads, 0, "no commits elsewhere: no reads");
    await p.a.domains.create({ name: "own-write.example" });
    p.a.sync();
    assert.equal(reads, 0, "this connection's own commits do not trigger a read");
    await p.b.domains.create({ name: "other.example" });
    p.a.sync();
    assert.equal(reads, 1);
  } finally {
    await cleanup(p);
  }
});

Deno.test("old invalidation-log rows are pruned; recent ones stay for lagging processes", async () => {
  const p = await pair();
  try {
    await p.a.accounts.create({ type: "User", name: "old", domainId: p.domainId });
    const before = p.a.store.invalidations.since(0).events.length;
    assert.ok(before > 0);
    assert.equal(p.a.pruneInvalidations(), 0, "nothing is a day old yet");
    assert.equal(p.a.store.invalidations.prune(Date.now() + 25 * 60 * 60 * 1000), before);
    assert.equal(p.a.store.invalidations.since(0).events.length, 0);
  } finally {
    await cleanup(p);
  }
});

Deno.test("a process that missed pruned invalidations drops all its cache entries", async () => {
  const p = await pair();
  try {
    p.b.sync();
    assert.equal(await p.b.accounts.idByLogin("late@example.org"), undefined);
    await p.a.accounts.create({ type: "User", name: "late", domainId: p.domainId });
    p.a.store.invalidations.prune(Date.now() + 25 * 60 * 60 * 1000);
    await p.a.settings.update("Cache", { ttlSeconds: 100 }); // an event that clears no namespace
    p.b.sync();
    assert.equal(p.b.caches.accountByLogin.get("late@example.org").status, "miss");
    assert.notEqual(await p.b.accounts.idByLogin("late@example.org"), undefined);
  } finally {
    await cleanup(p);
  }
});

Deno.test("an IMAP mailbox's state and an account's mailboxes, remembered until a commit, show another process's writes", async () => {
  const p = await pair();
  try {
    const alice = await p.a.accounts.create({
      type: "User",
      name: "alice",
      domainId: p.domainId,
      password: PASSWORD,
    });
    const inbox = (await p.a.imapMailboxes.resolve(alice.id, "INBOX"))!;
    const before = (await p.a.store.imap.states([inbox.mailboxId])).get(inbox.mailboxId)!;
    assert.deepEqual(await p.a.store.imap.states([inbox.mailboxId]), new Map([[inbox.mailboxId, before]]));
    const mailboxes = (await p.a.store.mailboxes.list(alice.id)).length;

    // The other process appends to INBOX and adds a mailbox.
    const message = new TextEncoder().encode("From: a@example.org\r\nSubject: hi\r\n\r\nhello\r\n");
    const { uid } = await p.b.imapMailboxes.append(alice.id, inbox, { message });
    await p.b.store.mailboxes.insert({
      accountId: alice.id,
      parentId: null,
      name: "Later",
      role: null,
      sortOrder: 0,
    });

    const after = (await p.a.store.imap.states([inbox.mailboxId])).get(inbox.mailboxId)!;
    assert.equal(after.uidNext, uid + 1);
    assert.ok(after.highestModseq > before.highestModseq);
    const list = await p.a.store.mailboxes.list(alice.id);
    assert.equal(list.length, mailboxes + 1);
    assert.ok(list.some((m) => m.name === "Later"));
    // Each caller gets its own copies.
    list[0].name = "changed by a caller";
    assert.notEqual((await p.a.store.mailboxes.list(alice.id))[0].name, "changed by a caller");
  } finally {
    await cleanup(p);
  }
});
