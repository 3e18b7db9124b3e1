import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { AuthError } from "../../model/errors.ts";
import type { InvalidationEvent, Principal } from "../../model/types.ts";
import { LiveCredentials } from "./live_credentials.ts";

/** A fake directory: which Authorization headers authenticate, and the invalidation events it emits. */
function setup(options: { syncIntervalMs?: number; recheckIntervalMs?: number } = {}) {
  const valid = new Map<string, number>([["Basic alice", 1], ["Basic alice-2", 1], ["Bearer bob", 2]]);
  const listeners: ((event: InvalidationEvent) => void)[] = [];
  const calls: string[] = [];
  let syncs = 0;
  let fault: Error | undefined;
  const live = new LiveCredentials({
    authenticate(authorization) {
      calls.push(authorization);
      if (fault) return Promise.reject(fault);
      const accountId = valid.get(authorization);
      if (accountId === undefined) return Promise.reject(new AuthError("revoked", "invalid", "Basic"));
      return Promise.resolve(
        { accountId, name: "x", roles: [], method: "password", credentialId: null } as Principal,
      );
    },
    onInvalidation: (listener) => listeners.push(listener),
    sync: () => void syncs++,
    log: getLogger(["postern", "test"]),
    syncIntervalMs: options.syncIntervalMs,
    recheckIntervalMs: options.recheckIntervalMs,
  });
  const revoked: string[] = [];
  const shutDown: string[] = [];
  const open = (authorization: string, accountId: number) =>
    live.watch({
      authorization,
      clientAddress: "127.0.0.1",
      accountId,
      revoked: () => revoked.push(authorization),
      shutdown: () => shutDown.push(authorization),
    });
  const emit = (event: InvalidationEvent) => listeners.forEach((listener) => listener(event));
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
  return {
    live,
    valid,
    calls,
    revoked,
    shutDown,
    open,
    emit,
    settle,
    syncs: () => syncs,
    failWith: (error?: Error) => fault = error,
  };
}

Deno.test("a check gives the current principal while the credential authenticates, then ends the connection once", async () => {
  const f = setup();
  const watch = f.open("Basic alice", 1);
  assert.equal((await watch.check())?.accountId, 1);
  f.valid.delete("Basic alice");
  assert.equal(await watch.check(), undefined);
  assert.equal(await watch.check(), undefined);
  assert.deepEqual(f.revoked, ["Basic alice"]);
  assert.equal(f.live.size, 0);
  f.live.closeAll();
});

Deno.test("an invalidation for an account re-checks that account's connections only", async () => {
  const f = setup();
  f.open("Basic alice", 1);
  f.open("Bearer bob", 2);
  f.valid.delete("Basic alice");
  f.valid.delete("Bearer bob");
  f.emit({ kind: "credentials", accountId: 1 });
  await f.settle();
  assert.deepEqual(f.revoked, ["Basic alice"]);
  f.emit({ kind: "negative" });
  f.emit({ kind: "settings", name: "Smarthost" });
  await f.settle();
  assert.deepEqual(f.revoked, ["Basic alice"], "events that revoke nothing check nothing");
  f.emit({ kind: "oauthClient", clientId: 4 });
  await f.settle();
  assert.deepEqual(f.revoked, ["Basic alice", "Bearer bob"]);
  f.live.closeAll();
});

Deno.test("connections with the same Authorization share one verification", async () => {
  const f = setup();
  for (let i = 0; i < 5; i++) f.open("Basic alice", 1);
  f.emit({ kind: "account", accountId: 1, keys: [] });
  await f.settle();
  assert.deepEqual(f.calls, ["Basic alice"]);
  f.live.closeAll();
});

Deno.test("a fault while checking is not a revocation: the connection stays", async () => {
  const f = setup();
  const watch = f.open("Basic alice", 1);
  f.failWith(new Error("database is locked"));
  await assert.rejects(() => watch.check(), /database is locked/);
  f.emit({ kind: "credentials", accountId: 1 });
  await f.settle();
  assert.deepEqual(f.revoked, []);
  f.failWith(undefined);
  assert.equal((await watch.check())?.accountId, 1);
  f.live.closeAll();
});

Deno.test("a credential that now names another account ends the connection", async () => {
  const f = setup();
  const watch = f.open("Basic alice", 1);
  f.valid.set("Basic alice", 3);
  assert.equal(await watch.check(), undefined);
  assert.deepEqual(f.revoked, ["Basic alice"]);
  f.live.closeAll();
});

Deno.test("the coherence check runs while a connection is open, and stops with the last one", async () => {
  const f = setup({ syncIntervalMs: 5 });
  const watch = f.open("Basic alice", 1);
  const deadline = Date.now() + 10_000;
  while (f.syncs() < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.ok(f.syncs() >= 3, `synced ${f.syncs()} times`);
  watch.stop();
  const after = f.syncs();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(f.syncs(), after);
  f.live.closeAll();
});

Deno.test("a credential that expires with no event at all is caught by the periodic re-check", async () => {
  const f = setup({ recheckIntervalMs: 5 });
  f.open("Bearer bob", 2);
  f.valid.delete("Bearer bob");
  const deadline = Date.now() + 10_000;
  while (f.revoked.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(f.revoked, ["Bearer bob"]);
  f.live.closeAll();
});

Deno.test("closeAll ends every open connection once, and any opened afterwards at once", async () => {
  const f = setup({ syncIntervalMs: 5 });
  f.open("Basic alice", 1);
  f.open("Bearer bob", 2);
  const closed = f.open("Basic alice-2", 1);
  closed.stop();
  f.valid.delete("Basic alice");
  assert.equal(f.live.closeAll(), 2);
  assert.deepEqual(
    f.shutDown,
    ["Basic alice", "Bearer bob"],
    "the connection that had stopped is left alone",
  );
  assert.equal(f.live.size, 0);
  // No re-check runs after the shutdown: a revocation now is not reported on top of it.
  f.emit({ kind: "credentials", accountId: 1 });
  await f.settle();
  assert.deepEqual(f.revoked, []);
  const late = f.open("Bearer bob", 2);
  assert.equal(f.live.size, 0, "a connection opened during shutdown is not watched");
  await f.settle();
  assert.deepEqual(f.shutDown, ["Basic alice", "Bearer bob", "Bearer bob"]);
  assert.equal(await late.check(), undefined);
  const syncs = f.syncs();
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(f.syncs(), syncs, "the coherence timer stopped");
});

Deno.test("a connection checked for an event does not join a verification that started before it", async () => {
  // Two connections with one Authorization; the first one's check is under way (held) when the
  // credential is revoked and its event arrives.
  const held: ((principal: Principal) => void)[] = [];
  let revokedNow = false;
  const listeners: ((event: InvalidationEvent) => void)[] = [];
  const live = new LiveCredentials({
    authenticate: () =>
      revokedNow
        ? Promise.reject(new AuthError("revoked", "invalid", "Basic"))
        : new Promise<Principal>((resolve) => held.push(resolve)),
    onInvalidation: (listener) => listeners.push(listener),
    sync: () => undefined,
    log: getLogger(["postern", "test"]),
  });
  const revoked: string[] = [];
  const open = (name: string) =>
    live.watch({
      authorization: "Basic alice",
      clientAddress: "127.0.0.1",
      accountId: 1,
      revoked: () => revoked.push(name),
      shutdown: () => {},
    });
  const first = open("first");
  open("second");
  const under = first.check();
  revokedNow = true;
  listeners.forEach((listener) => listener({ kind: "credentials", accountId: 1 }));
  await new Promise((resolve) => setTimeout(resolve, 0));
  // The held verification now answers what it read before the revocation: valid.
  held.forEach((resolve) =>
    resolve({ accountId: 1, name: "x", roles: [], method: "password", credentialId: null } as Principal)
  );
  assert.equal(await under, undefined);
  assert.deepEqual(revoked.sort(), ["first", "second"]);
  live.closeAll();
});
