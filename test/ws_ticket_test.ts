/**
 * Tickets for browsers' WebSockets and event streams (no Authorization header there), against a server
 * process: the session names where to get one; an authenticated JSON POST gets one; it opens one
 * WebSocket or one event stream, once; a wrong, used or revoked one is 401; another site's page gets
 * none; a connection opened with a ticket ends with the credential behind it.
 */
import assert from "node:assert/strict";
import { startServerProcess } from "./helpers.ts";
import { CORE } from "./jmap_helpers.ts";
import { apiKey, EventStream, JmapSocket, managementCall, within } from "./live_connection_helpers.ts";
import { createUsers, getSession, type Obj, serverTarget, type Target } from "./mail_helpers.ts";

const WEBMAIL = "https://webmail.example.org";
const CAPABILITY = "urn:postern:jmap:ticket";

async function withServer(body: (url: string, target: Target) => Promise<void>) {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-ticket-" });
  const server = await startServerProcess(dataDir, { POSTERN_CORS_ORIGINS: WEBMAIL });
  try {
    await body(server.url, serverTarget(server.url));
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
  }
}

/** POST /jmap/ws-ticket with `headers` (JSON and `auth` unless overridden). */
function ask(url: string, auth: string | undefined, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/jmap/ws-ticket`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(auth ? { authorization: auth } : {}), ...headers },
    body: "{}",
  });
}

async function ticketOf(url: string, auth: string, headers: Record<string, string> = {}): Promise<string> {
  const response = await ask(url, auth, headers);
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  assert.equal(response.headers.get("cache-control"), "no-store");
  assert.match(body.ticket, /^wst_/);
  return body.ticket;
}

/** The status (and challenge) of a WebSocket handshake with `query`, asked as a plain GET. */
async function handshake(url: string, query: string): Promise<{ status: number; challenge: string | null }> {
  const response = await fetch(`${url}/jmap/ws?${query}`, {
    headers: { upgrade: "websocket", "sec-websocket-protocol": "jmap" },
  });
  await response.body?.cancel();
  return { status: response.status, challenge: response.headers.get("www-authenticate") };
}

Deno.test("a ticket from an authenticated JSON POST opens one WebSocket and one event stream, each once", () =>
  withServer(async (url, target) => {
    const [alice] = await createUsers(target, ["alice"]);
    const session = await getSession(target, alice.auth);
    const capability = (session.capabilities as Record<string, Obj>)[CAPABILITY];
    assert.deepEqual(capability, {
      url: `${url}/jmap/ws-ticket`,
      parameter: "ticket",
      lifetimeSeconds: 60,
      usableWith: ["websocket", "eventSourceUrl"],
    });
    const response = await ask(url, alice.auth);
    const issued = await response.json();
    assert.equal(response.status, 200);
    const expires = Date.parse(issued.expires);
    assert.ok(expires > Date.now() && expires <= Date.now() + 61_000, issued.expires);

    // A WebSocket with the ticket and no Authorization, as a browser opens it.
    const wsUrl = (session.capabilities as Record<string, Obj>)["urn:ietf:params:jmap:websocket"].url;
    const socket = await JmapSocket.open(`${wsUrl}?ticket=${issued.ticket}`);
    try {
      const answer = await socket.request("r1", [CORE], [["Core/echo", { hello: "ticket" }, "0"]]);
      assert.deepEqual(answer.methodResponses, [["Core/echo", { hello: "ticket" }, "0"]]);
    } finally {
      await socket.close();
    }
    const again = await handshake(url, `ticket=${issued.ticket}`);
    assert.equal(again.status, 401, "a ticket serves once");
    assert.match(again.challenge ?? "", /^Bearer .*error="invalid_token"/);

    // The event stream: the eventSourceUrl with the ticket added.
    const eventTicket = await ticketOf(url, alice.auth);
    const events = await EventStream.open(
      `${url}/jmap/eventsource/?types=*&closeafter=no&ping=0&ticket=${eventTicket}`,
    );
    await events.close();
    const reused = await fetch(`${url}/jmap/eventsource/?types=*&ping=0&ticket=${eventTicket}`);
    assert.equal(reused.status, 401);
    assert.match(reused.headers.get("www-authenticate") ?? "", /^Bearer /);
    await reused.body?.cancel();
  }));

Deno.test("a wrong ticket is 401, a repeated one 400; a ticket buys no ticket", () =>
  withServer(async (url, target) => {
    const [alice] = await createUsers(target, ["alice"]);
    for (const wrong of ["wst_" + "A".repeat(43), "", "nonsense"]) {
      assert.equal((await handshake(url, `ticket=${wrong}`)).status, 401, wrong);
      const events = await fetch(`${url}/jmap/eventsource/?ping=0&ticket=${wrong}`);
      assert.equal(events.status, 401, wrong);
      await events.body?.cancel();
    }
    const ticket = await ticketOf(url, alice.auth);
    const twice = await fetch(`${url}/jmap/eventsource/?ticket=${ticket}&ticket=${ticket}`);
    assert.equal(twice.status, 400);
    assert.match((await twice.json()).detail, /ticket/);
    const buying = await fetch(`${url}/jmap/ws-ticket?ticket=${ticket}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(buying.status, 400);
    await buying.body?.cancel();
  }));

Deno.test("another site's page gets no ticket: no credentials 401, no JSON 415, a foreign Origin 403", () =>
  withServer(async (url, target) => {
    const [alice] = await createUsers(target, ["alice"]);
    const anonymous = await ask(url, undefined);
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();
    // What a cross-site <form> can send: text/plain or a form encoding, with the browser's Basic login.
    for (
      const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
    ) {
      const form = await ask(url, alice.auth, { "content-type": type });
      assert.equal(form.status, 415, type);
      await form.body?.cancel();
    }
    const untyped = await fetch(`${url}/jmap/ws-ticket`, {
      method: "POST",
      headers: { authorization: alice.auth },
    });
    assert.equal(untyped.status, 415);
    await untyped.body?.cancel();
    for (
      const headers of [
        { origin: "https://evil.example" } as Record<string, string>,
        { origin: "null" },
        { "sec-fetch-site": "cross-site" },
        { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
      ]
    ) {
      const foreign = await ask(url, alice.auth, headers);
      assert.equal(foreign.status, 403, JSON.stringify(headers));
      await foreign.body?.cancel();
    }
    // The server's own pages and the --cors-origin webmail may.
    await ticketOf(url, alice.auth, { origin: url, "sec-fetch-site": "same-origin" });
    await ticketOf(url, alice.auth, { origin: WEBMAIL, "sec-fetch-site": "cross-site" });
  }));

Deno.test("a ticket dies with its credential, and so does the connection it opened", () =>
  withServer(async (url, target) => {
    const [alice] = await createUsers(target, ["alice"]);
    const used = await apiKey(target, alice);
    const unused = await apiKey(target, alice);
    const waiting = await ticketOf(url, unused.bearer);
    const socket = await JmapSocket.open(
      `${url.replace("http", "ws")}/jmap/ws?ticket=${await ticketOf(url, used.bearer)}`,
    );
    const events = await EventStream.open(
      `${url}/jmap/eventsource/?ping=0&ticket=${await ticketOf(url, used.bearer)}`,
    );
    try {
      await managementCall(target, alice.auth, "x:ApiKey/set", {
        accountId: alice.accountId,
        destroy: [used.id, unused.id],
      });
      assert.equal((await handshake(url, `ticket=${waiting}`)).status, 401, "the deleted key's ticket");
      assert.equal((await within(socket.closed, "the ticket's WebSocket closes")).code, 1008);
      await within(events.ended, "the ticket's event stream ends");
    } finally {
      await socket.close();
      await events.close();
    }
  }));
