/**
 * Open connections never outlive their credential (issue 18, item 2), against a server process over
 * real HTTP: after a password change, an account disable, an API key delete and an OAuth grant revoke,
 * a JMAP WebSocket opened with that credential runs no further message and is closed with 1008, and
 * an event stream opened with it ends. A revocation made by another process (the CLI in local mode)
 * closes them too. Connections of credentials that were not revoked stay open and keep working.
 */
import assert from "node:assert/strict";
import { basic, cli, PASSWORD, startServerProcess } from "./helpers.ts";
import { CORE, MANAGEMENT } from "./jmap_helpers.ts";
import { apiKey, EventStream, JmapSocket, managementCall, within } from "./live_connection_helpers.ts";
import { adminSetAccounts, createUsers, serverTarget, type Target, userAccessToken } from "./mail_helpers.ts";
import { ADMIN } from "./jmap_helpers.ts";
import { registerClientWithCli, TestBrowser } from "./oauth_helpers.ts";

const MAIL = "urn:ietf:params:jmap:mail";

/** The connections of one credential: a WebSocket and an event stream. */
interface Pair {
  socket: JmapSocket;
  events: EventStream;
}

async function connect(url: string, authorization: string): Promise<Pair> {
  const socket = await JmapSocket.open(`${url.replace("http", "ws")}/jmap/ws`, authorization);
  const events = await EventStream.open(
    `${url}/jmap/eventsource/?types=*&closeafter=no&ping=0`,
    authorization,
  );
  return { socket, events };
}

/**
 * The attack's steps after the revocation: the holder of the old credential at once tries to mint an
 * API key over the open socket. Nothing answers it; the socket closes with 1008; the stream ends.
 */
async function assertCutOff(pair: Pair, accountId: string, what: string): Promise<void> {
  pair.socket.send({
    "@type": "Request",
    id: "mint",
    using: [CORE, MANAGEMENT],
    methodCalls: [["x:ApiKey/set", { accountId, create: { k: { description: "minted" } } }, "0"]],
  });
  const closed = await within(pair.socket.closed, `${what}: the WebSocket closes`);
  assert.equal(closed.code, 1008, `${what}: close code`);
  await within(pair.events.ended, `${what}: the event stream ends`);
  assert.deepEqual(
    pair.socket.messages.filter((m) => m.requestId === "mint"),
    [],
    `${what}: no message ran after the revocation`,
  );
}

/** Whether `pair` still works: the socket answers a request and the stream has not ended. */
async function assertStillOpen(pair: Pair, what: string): Promise<void> {
  const answer = await pair.socket.request(`alive-${crypto.randomUUID()}`, [CORE], [["Core/echo", {
    hello: true,
  }, "0"]]);
  assert.equal(answer["@type"], "Response", `${what}: ${JSON.stringify(answer)}`);
  assert.ok(await pair.events.isOpen(), `${what}: the event stream is still open`);
}

async function closeAll(pairs: (Pair | undefined)[]): Promise<void> {
  for (const pair of pairs) {
    await pair?.socket.close();
    await pair?.events.close();
  }
}

async function withServer(body: (url: string, target: Target, dataDir: string) => Promise<void>) {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-revoked-" });
  const server = await startServerProcess(dataDir);
  try {
    await body(server.url, serverTarget(server.url), dataDir);
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
  }
}

Deno.test("each of the four revocations closes the WebSocket (1008) and ends the event stream of that credential only", (t) =>
  withServer(async (url, target, dataDir) => {
    const client = await registerClientWithCli(dataDir, { requireConsent: false });
    const [alice, bob, carol, dave] = await createUsers(target, ["alice", "bob", "carol", "dave"]);
    const pairs: Pair[] = [];
    const open = async (authorization: string) => {
      const pair = await connect(url, authorization);
      pairs.push(pair);
      return pair;
    };
    const cutOff: string[] = [];
    try {
      // A bystander: the admin's connections see every revocation go by and stay open.
      const bystander = await open(ADMIN);
      // Each step is its own attack, on its own account; one that fails leaves the others to run.
      await t.step("a password change", async () => {
        const pair = await open(alice.auth);
        await assertStillOpen(pair, "before");
        cutOff.push(alice.auth);
        await adminSetAccounts(target, {
          update: {
            [alice.accountId]: { credentials: { "0": { "@type": "Password", secret: PASSWORD + "!" } } },
          },
        });
        await assertCutOff(pair, alice.accountId, "password change");
      });
      await t.step("an account disable", async () => {
        const pair = await open(bob.auth);
        await assertStillOpen(pair, "before");
        cutOff.push(bob.auth);
        await adminSetAccounts(target, { update: { [bob.accountId]: { enabled: false } } });
        await assertCutOff(pair, bob.accountId, "account disable");
      });
      await t.step("an API key delete, by its owner", async () => {
        const key = await apiKey(target, carol);
        const pair = await open(key.bearer);
        const byPassword = await open(carol.auth);
        await assertStillOpen(pair, "before");
        cutOff.push(key.bearer);
        const destroyed = await managementCall(target, carol.auth, "x:ApiKey/set", {
          accountId: carol.accountId,
          destroy: [key.id],
        });
        assert.deepEqual(destroyed.destroyed, [key.id]);
        await assertCutOff(pair, carol.accountId, "API key delete");
        // Another credential of the same account: its connections stay.
        await assertStillOpen(byPassword, "carol's password connections after her key's deletion");
      });
      await t.step("an OAuth grant revoke, by its owner", async () => {
        const token = await userAccessToken(target, new TestBrowser(url), client, {
          username: dave.emailAddress,
          scope: MAIL,
        });
        const pair = await open(`Bearer ${token}`);
        await assertStillOpen(pair, "before");
        cutOff.push(`Bearer ${token}`);
        const grants = await managementCall(target, dave.auth, "x:OAuthGrant/get", {
          accountId: dave.accountId,
        });
        const grantIds = (grants.list as { id: string }[]).map((g) => g.id);
        assert.equal(grantIds.length, 1, JSON.stringify(grants));
        const revoked = await managementCall(target, dave.auth, "x:OAuthGrant/set", {
          accountId: dave.accountId,
          destroy: grantIds,
        });
        assert.deepEqual(revoked.destroyed, grantIds);
        await assertCutOff(pair, dave.accountId, "OAuth grant revoke");
      });
      await assertStillOpen(bystander, "the admin's connections");
      // The revoked credentials cannot open a new connection either.
      for (const auth of cutOff) {
        const refused = await fetch(`${url}/jmap/ws`, {
          headers: { authorization: auth, upgrade: "websocket" },
        });
        assert.equal(refused.status, 401);
        await refused.body?.cancel();
      }
    } finally {
      await closeAll(pairs);
    }
  }));

Deno.test("an API key deleted by the CLI in local mode (another process) closes the server's open connections", () =>
  withServer(async (url, target, dataDir) => {
    const [erin] = await createUsers(target, ["erin"]);
    const key = await apiKey(target, erin);
    let pair: Pair | undefined;
    try {
      pair = await connect(url, key.bearer);
      await assertStillOpen(pair, "before");
      const deleted = await cli(["--data", dataDir, "delete", "api-key", key.id]);
      assert.equal(deleted.code, 0, deleted.stderr);
      // No HTTP request reaches the server from here on: it notices the other process's write itself.
      const closed = await within(pair.socket.closed, "the WebSocket closes");
      assert.equal(closed.code, 1008);
      await within(pair.events.ended, "the event stream ends");
    } finally {
      await closeAll([pair]);
    }
  }));

Deno.test("a password changed by the CLI in local mode ends a stream that nobody writes to", () =>
  withServer(async (url, target, dataDir) => {
    const [frank] = await createUsers(target, ["frank"]);
    let pair: Pair | undefined;
    try {
      pair = await connect(url, frank.auth);
      await assertStillOpen(pair, "before");
      const changed = await cli([
        "--data",
        dataDir,
        "update",
        "account",
        frank.accountId,
        "--field",
        `credentials={"0":{"@type":"Password","secret":"${PASSWORD}?"}}`,
      ]);
      assert.equal(changed.code, 0, changed.stderr);
      assert.equal((await within(pair.socket.closed, "the WebSocket closes")).code, 1008);
      await within(pair.events.ended, "the event stream ends");
    } finally {
      await closeAll([pair]);
    }
  }));

Deno.test("connections cut off by a password change do not throttle their owner's new password", () =>
  withServer(async (url, target) => {
    const [grace] = await createUsers(target, ["grace"]);
    // More connections than the free failed attempts of an address or an account (5).
    const pairs: Pair[] = [];
    try {
      for (let i = 0; i < 4; i++) pairs.push(await connect(url, grace.auth));
      const fresh = PASSWORD + " renewed";
      await adminSetAccounts(target, {
        update: { [grace.accountId]: { credentials: { "0": { "@type": "Password", secret: fresh } } } },
      });
      for (const [i, pair] of pairs.entries()) {
        assert.equal((await within(pair.socket.closed, `WebSocket ${i} closes`)).code, 1008);
        await within(pair.events.ended, `event stream ${i} ends`);
      }
      const session = await fetch(`${url}/jmap/session`, {
        headers: { authorization: basic(grace.emailAddress, fresh) },
      });
      assert.equal(session.status, 200, await session.text());
    } finally {
      await closeAll(pairs);
    }
  }));
