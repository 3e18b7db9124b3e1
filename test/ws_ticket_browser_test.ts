/**
 * Browser WebSockets in a real headless Chromium: a browser cannot put an Authorization header on a
 * WebSocket, so a webmail on an origin allowed by --cors-origin asks Postern for a ticket (a JSON POST
 * with its token) and opens the socket with it; a page on an origin that is not allowed gets no ticket.
 */
import assert from "node:assert/strict";
import { browserTest, launchChromium, type SharedFixture } from "./browser_helpers.ts";
import { type ServerProcess, startServerProcess } from "./helpers.ts";
import { apiKey } from "./live_connection_helpers.ts";
import { createUsers, serverTarget } from "./mail_helpers.ts";
import type { Browser } from "playwright-core";

interface Fixture extends SharedFixture {
  browser: Browser;
  server: ServerProcess;
  dataDir: string;
  /** Allowed by --cors-origin. */
  webmail: string;
  /** Not allowed. */
  stranger: string;
}

/** A blank page on a loopback origin of its own. */
function blankOrigin(): { origin: string; server: Deno.HttpServer } {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      new Response("<!doctype html><title>page</title>", {
        headers: { "content-type": "text/html; charset=utf-8" },
      }),
  );
  return { origin: `http://127.0.0.1:${server.addr.port}`, server };
}

const test = browserTest<Fixture>(async () => {
  const webmail = blankOrigin();
  const stranger = blankOrigin();
  const dataDir = await Deno.makeTempDir({ prefix: "postern-ticket-browser-" });
  const server = await startServerProcess(dataDir, { POSTERN_CORS_ORIGINS: webmail.origin });
  const browser = await launchChromium();
  return {
    browser,
    server,
    dataDir,
    webmail: webmail.origin,
    stranger: stranger.origin,
    async close() {
      await browser.close();
      await server.stop();
      await webmail.server.shutdown();
      await stranger.server.shutdown();
      await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
    },
    abandon() {
      void browser.close();
      void server.stop();
    },
  };
});

/** What the page's script saw: the ticket request's outcome and, with a ticket, the socket's answer. */
interface PageResult {
  ticketStatus?: number;
  ticketError?: string;
  answer?: { "@type": string; methodResponses?: unknown };
  socketError?: string;
}

/** Runs in a page of `origin`: asks for a ticket with `authorization`, then opens the socket with it. */
async function fromPage(fixture: Fixture, origin: string, authorization: string): Promise<PageResult> {
  const context = await fixture.browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(origin);
    return await page.evaluate(async ({ postern, authorization }) => {
      const result: Record<string, unknown> = {};
      let ticket: string;
      try {
        const response = await fetch(`${postern}/jmap/ws-ticket`, {
          method: "POST",
          headers: { authorization, "content-type": "application/json" },
          body: "{}",
          signal: AbortSignal.timeout(8000),
        });
        result.ticketStatus = response.status;
        ticket = (await response.json()).ticket;
      } catch (error) {
        result.ticketError = String(error);
        return result;
      }
      const session = await (await fetch(`${postern}/jmap/session`, { headers: { authorization } })).json();
      const url = session.capabilities["urn:ietf:params:jmap:websocket"].url;
      const parameter = session.capabilities["urn:postern:jmap:ticket"].parameter;
      result.answer = await new Promise((resolve) => {
        const socket = new WebSocket(`${url}?${parameter}=${encodeURIComponent(ticket)}`, "jmap");
        const timer = setTimeout(() => resolve({ "@type": "timeout" }), 8000);
        socket.onopen = () =>
          socket.send(JSON.stringify({
            "@type": "Request",
            id: "r1",
            using: ["urn:ietf:params:jmap:core"],
            methodCalls: [["Core/echo", { from: "the browser" }, "0"]],
          }));
        socket.onmessage = (event) => {
          clearTimeout(timer);
          socket.close();
          resolve(JSON.parse(event.data));
        };
        socket.onerror = () => {
          clearTimeout(timer);
          resolve({ "@type": "error" });
        };
      });
      return result;
    }, { postern: fixture.server.url, authorization });
  } finally {
    await context.close();
  }
}

test("a webmail on an allowed origin opens a JMAP WebSocket with a ticket", async (fixture) => {
  const target = serverTarget(fixture.server.url);
  const [alice] = await createUsers(target, ["alice"]);
  const key = await apiKey(target, alice);
  const result = await fromPage(fixture, fixture.webmail, key.bearer);
  assert.equal(result.ticketStatus, 200, JSON.stringify(result));
  assert.equal(result.answer?.["@type"], "Response", JSON.stringify(result));
  assert.deepEqual(result.answer?.methodResponses, [["Core/echo", { from: "the browser" }, "0"]]);
});

test("a page on an origin --cors-origin does not list gets no ticket", async (fixture) => {
  const target = serverTarget(fixture.server.url);
  const [bob] = await createUsers(target, ["bob"]);
  const key = await apiKey(target, bob);
  const result = await fromPage(fixture, fixture.stranger, key.bearer);
  assert.equal(result.ticketStatus, undefined, JSON.stringify(result));
  assert.match(
    result.ticketError ?? "",
    /TypeError/,
    "the browser refuses the request (its preflight failed)",
  );
});
