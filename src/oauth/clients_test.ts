/**
 * Client secrets remembered once verified (ClientService.secretMatches): the keyed hash is computed
 * again whenever the remembered one may no longer hold, and a wrong secret is never let through.
 */
import assert from "node:assert/strict";
import type { AccountService } from "../directory/mod.ts";
import type { OAuthClient, Store } from "./deps.ts";
import { ClientService } from "./clients.ts";

/** A client service whose keyed hash counts its calls (no store: secretMatches needs none). */
function service() {
  let hashes = 0;
  const keyedHash = (secret: string) => {
    hashes++;
    return Array.from(new TextEncoder().encode(secret.padEnd(32, "#").slice(0, 32)))
      .map((b) => b.toString(16).padStart(2, "0")).join("");
  };
  const clients = new ClientService({} as Store, {} as AccountService, keyedHash, () => Promise.resolve());
  const client = (secret: string, id = 7) => ({ id, secretHash: keyedHash(secret) }) as OAuthClient;
  return { clients, client, hashes: () => hashes };
}

Deno.test("a verified secret is remembered, and a wrong one is refused every time", () => {
  const { clients, client, hashes } = service();
  const c = client("right secret");
  const before = hashes();
  assert.ok(clients.secretMatches(c, "right secret", clients.epoch()));
  assert.ok(clients.secretMatches(c, "right secret", clients.epoch()));
  assert.equal(hashes() - before, 1, "the second check is the remembered digest");
  for (const wrong of ["wrong secret", "right secre", "right secret ", ""]) {
    assert.equal(clients.secretMatches(c, wrong, clients.epoch()), false, wrong);
  }
  assert.equal(hashes() - before, 5, "a wrong secret is hashed and compared each time");
  assert.ok(clients.secretMatches(c, "right secret"));
});

Deno.test("a remembered secret no longer counts once the client is forgotten or has another secret", () => {
  const { clients, client, hashes } = service();
  const old = client("old secret");
  assert.ok(clients.secretMatches(old, "old secret", clients.epoch()));
  // A new secret (the stored hash changed): the old one fails, the new one matches.
  const renewed = client("new secret");
  assert.equal(clients.secretMatches(renewed, "old secret", clients.epoch()), false);
  assert.ok(clients.secretMatches(renewed, "new secret", clients.epoch()));
  // The client changed or was deleted (its invalidation): checked again from the stored hash.
  const before = hashes();
  clients.forget(renewed.id);
  assert.ok(clients.secretMatches(renewed, "new secret", clients.epoch()));
  assert.equal(hashes() - before, 1);
  clients.forget();
  assert.ok(clients.secretMatches(renewed, "new secret", clients.epoch()));
  assert.equal(hashes() - before, 2);
});

Deno.test("a secret verified against a client read before an invalidation is not remembered", () => {
  const { clients, client, hashes } = service();
  const c = client("secret");
  const since = clients.epoch();
  clients.forget(c.id); // the client changed while the request looked it up
  assert.ok(clients.secretMatches(c, "secret", since), "the request it was read for still authenticates");
  const before = hashes();
  assert.ok(clients.secretMatches(c, "secret", clients.epoch()));
  assert.equal(hashes() - before, 1, "the racing fill was refused: hashed again");
});

Deno.test("a client without a secret matches nothing, and a very long secret is checked each time", () => {
  const { clients, client, hashes } = service();
  assert.equal(clients.secretMatches({ id: 1, secretHash: null } as OAuthClient, "", clients.epoch()), false);
  const long = "x".repeat(300);
  const c = client(long);
  const before = hashes();
  assert.equal(clients.secretMatches(c, long, clients.epoch()), true);
  assert.equal(clients.secretMatches(c, long, clients.epoch()), true);
  assert.equal(hashes() - before, 2);
});
