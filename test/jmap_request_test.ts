/**
 * The JMAP request layer (RFC 8620 §2, §3): the session resource, the API endpoint, and the
 * request-level errors answered as problem+json before any method runs.
 */
import assert from "node:assert/strict";
import { basic, PASSWORD, until } from "./helpers.ts";
import {
  ADMIN,
  CORE,
  createUser,
  type Invocation,
  jmap,
  MAIL,
  MANAGEMENT,
  post,
  problem,
  QUOTA,
  withApp,
} from "./jmap_helpers.ts";

/** RFC 9670: JMAP Sharing's capabilities. */
const PRINCIPALS = "urn:ietf:params:jmap:principals";
const PRINCIPALS_OWNER = "urn:ietf:params:jmap:principals:owner";

const ORIGIN = "http://127.0.0.1:8080";
const ERROR = "urn:ietf:params:jmap:error:";

/** A well-formed request body around some method calls. */
function body(methodCalls: unknown[], using: unknown = [CORE]): string {
  return JSON.stringify({ using, methodCalls });
}

Deno.test("the session lists the core capability with every limit, the admin's account and absolute URLs", () =>
  withApp(async (t) => {
    const response = await t.fetch("/jmap/session", { headers: { authorization: ADMIN } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/json");
    assert.equal(response.headers.get("cache-control"), "no-store");
    const session = await response.json();
    assert.deepEqual(session.capabilities, {
      [CORE]: {
        maxSizeUpload: 50_000_000,
        maxConcurrentUpload: 4,
        maxSizeRequest: 10 * 1024 * 1024,
        maxConcurrentRequests: 4,
        maxCallsInRequest: 16,
        maxObjectsInGet: 500,
        maxObjectsInSet: 500,
        collationAlgorithms: ["i;ascii-numeric", "i;ascii-casemap", "i;unicode-casemap"],
      },
      [MAIL]: {},
      [QUOTA]: {},
      "urn:ietf:params:jmap:submission": {},
      "urn:ietf:params:jmap:vacationresponse": {},
      [PRINCIPALS]: {},
      [MANAGEMENT]: {},
      "urn:ietf:params:jmap:websocket": { url: "ws://127.0.0.1:8080/jmap/ws", supportsPush: true },
      "urn:postern:jmap:ticket": {
        url: "http://127.0.0.1:8080/jmap/ws-ticket",
        parameter: "ticket",
        lifetimeSeconds: 60,
        usableWith: ["websocket", "eventSourceUrl"],
      },
    });
    assert.deepEqual(session.accounts, {
      b: {
        name: "admin@example.org",
        isPersonal: true,
        isReadOnly: false,
        accountCapabilities: {
          [MAIL]: {
            maxMailboxesPerEmail: null,
            maxMailboxDepth: 10,
            maxSizeMailboxName: 255,
            maxSizeAttachmentsPerEmail: 50_000_000,
            emailQuerySortOptions: [
              "receivedAt",
              "sentAt",
              "size",
              "from",
              "to",
              "subject",
              "hasKeyword",
              "allInThreadHaveKeyword",
              "someInThreadHaveKeyword",
            ],
            mayCreateTopLevelMailbox: true,
          },
          [QUOTA]: {},
          "urn:ietf:params:jmap:submission": {
            maxDelayedSend: 604800,
            submissionExtensions: { FUTURERELEASE: ["604800"] },
          },
          "urn:ietf:params:jmap:vacationresponse": {},
          [MANAGEMENT]: {},
          [PRINCIPALS]: { currentUserPrincipalId: "b" },
          [PRINCIPALS_OWNER]: { accountIdForPrincipal: "b", principalId: "b" },
        },
      },
    });
    assert.deepEqual(session.primaryAccounts, {
      [MAIL]: "b",
      [QUOTA]: "b",
      "urn:ietf:params:jmap:submission": "b",
      "urn:ietf:params:jmap:vacationresponse": "b",
      [PRINCIPALS]: "b",
      [MANAGEMENT]: "b",
    });
    assert.equal(session.username, "admin@example.org");
    assert.equal(session.apiUrl, `${ORIGIN}/jmap/`);
    assert.equal(session.downloadUrl, `${ORIGIN}/jmap/download/{accountId}/{blobId}/{name}?accept={type}`);
    assert.equal(session.uploadUrl, `${ORIGIN}/jmap/upload/{accountId}/`);
    assert.equal(
      session.eventSourceUrl,
      `${ORIGIN}/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}`,
    );
    assert.match(session.state, /^\S+$/);
  }));

Deno.test("the session state is the sessionState of every API response and is stable between calls", () =>
  withApp(async (t) => {
    const first = await (await t.fetch("/jmap/session", { headers: { authorization: ADMIN } })).json();
    const second = await (await t.fetch("/jmap/session", { headers: { authorization: ADMIN } })).json();
    assert.equal(second.state, first.state);
    const result = await jmap(t, [["Core/echo", { hello: "world" }, "0"]]);
    assert.equal(result.sessionState, first.state);
  }));

Deno.test("a user's session names the user's own account, not the admin's", () =>
  withApp(async (t) => {
    const user = await createUser(t, "alice");
    const session = await (await t.fetch("/jmap/session", { headers: { authorization: user.auth } })).json();
    assert.deepEqual(Object.keys(session.accounts), [user.id]);
    assert.equal(session.accounts[user.id].name, "alice@example.org");
    assert.deepEqual(session.primaryAccounts, {
      [MAIL]: user.id,
      [QUOTA]: user.id,
      "urn:ietf:params:jmap:submission": user.id,
      "urn:ietf:params:jmap:vacationresponse": user.id,
      [PRINCIPALS]: user.id,
      [MANAGEMENT]: user.id,
    });
    assert.equal(session.username, "alice@example.org");
    const admin = await (await t.fetch("/jmap/session", { headers: { authorization: ADMIN } })).json();
    assert.notEqual(session.state, admin.state);
    const result = await jmap(t, [["Core/echo", {}, "0"]], { auth: user.auth });
    assert.equal(result.sessionState, session.state);
  }));

Deno.test("/.well-known/jmap redirects to the session resource on the request's origin", () =>
  withApp(async (t) => {
    const response = await t.fetch("/.well-known/jmap");
    assert.equal(response.status, 307);
    assert.equal(response.headers.get("location"), `${ORIGIN}/jmap/session`);
  }));

Deno.test("X-Forwarded-* headers from a client that is not a trusted proxy do not change the URLs", () =>
  withApp(async (t) => {
    const forwarded = {
      "x-forwarded-proto": "https",
      "x-forwarded-host": "evil.example",
      "x-forwarded-for": "203.0.113.9",
    };
    const session = await (await t.fetch("/jmap/session", {
      headers: { authorization: ADMIN, ...forwarded },
    })).json();
    assert.equal(session.apiUrl, `${ORIGIN}/jmap/`);
    assert.ok(session.uploadUrl.startsWith(`${ORIGIN}/`));
    assert.ok(session.downloadUrl.startsWith(`${ORIGIN}/`));
    assert.ok(session.eventSourceUrl.startsWith(`${ORIGIN}/`));
    const redirect = await t.fetch("/.well-known/jmap", { headers: forwarded });
    assert.equal(redirect.headers.get("location"), `${ORIGIN}/jmap/session`);
  }));

Deno.test("the session and the API answer 401 with a challenge when credentials are missing or wrong", () =>
  withApp(async (t) => {
    const session = await t.fetch("/jmap/session");
    await problem(session, 401);
    assert.match(session.headers.get("www-authenticate")!, /Basic realm="Postern"/);

    const api = await post(t, body([["Core/echo", {}, "0"]]), { authorization: "" });
    await problem(api, 401);
    assert.match(api.headers.get("www-authenticate")!, /Basic realm="Postern"/);

    const wrong = await post(t, body([["Core/echo", {}, "0"]]), {
      authorization: basic("admin@example.org", `${PASSWORD}x`),
    });
    await problem(wrong, 401);
  }));

Deno.test("Core/echo answers with exactly the arguments it was given, on /jmap and /jmap/", () =>
  withApp(async (t) => {
    const args = { text: "héllo", n: 42, nested: { list: [1, null, true] }, empty: {} };
    for (const path of ["/jmap", "/jmap/"]) {
      const response = await t.fetch(path, {
        method: "POST",
        headers: { authorization: ADMIN, "content-type": "application/json" },
        body: body([["Core/echo", args, "call-1"]]),
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("cache-control"), "no-store");
      const result = await response.json();
      assert.deepEqual(result.methodResponses, [["Core/echo", args, "call-1"]]);
      assert.equal(result.createdIds, undefined, "createdIds is only returned when the request had it");
    }
  }));

Deno.test("responses come back in call order, each with its own call id", () =>
  withApp(async (t) => {
    const calls: Invocation[] = [
      ["Core/echo", { n: 1 }, "a"],
      ["Core/echo", { n: 2 }, "b"],
      ["Core/echo", { n: 3 }, "a"],
    ];
    const result = await jmap(t, calls, { using: [CORE] });
    assert.deepEqual(result.methodResponses, calls);
  }));

Deno.test("a capability the server does not know is an unknownCapability problem naming it", () =>
  withApp(async (t) => {
    const response = await post(t, body([["Core/echo", {}, "0"]], [CORE, "urn:example:nope"]));
    const error = await problem(response, 400);
    assert.equal(error.type, `${ERROR}unknownCapability`);
    assert.match(error.detail as string, /urn:example:nope/);
  }));

Deno.test("the management capability is accepted whether or not it is listed in using", () =>
  withApp(async (t) => {
    for (const using of [[CORE], [CORE, MANAGEMENT], [MANAGEMENT], []]) {
      const result = await jmap(t, [["x:Domain/get", { accountId: "b", ids: ["b"] }, "0"]], { using });
      assert.equal(result.methodResponses[0][0], "x:Domain/get", JSON.stringify(using));
    }
  }));

Deno.test("a body that is not JSON is a notJSON problem", () =>
  withApp(async (t) => {
    const cases: [string, BodyInit, Record<string, string>][] = [
      ["truncated JSON", '{"using": [', {}],
      ["trailing garbage", body([]) + "}", {}],
      ["an empty body", "", {}],
      ["single quotes", "{'using': []}", {}],
      ["Latin-1 bytes", new Uint8Array([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d]), {}],
      ["a lone continuation byte", new Uint8Array([0x22, 0x80, 0x22]), {}],
      ["an XML content type", body([]), { "content-type": "application/xml" }],
      ["a form content type", "using=x", { "content-type": "application/x-www-form-urlencoded" }],
      ["an HTML content type", body([]), { "content-type": "text/html" }],
    ];
    for (const [label, raw, headers] of cases) {
      const error = await problem(await post(t, raw, headers), 400);
      assert.equal(error.type, `${ERROR}notJSON`, label);
    }
  }));

Deno.test("JSON that is not a request object is a notRequest problem", () =>
  withApp(async (t) => {
    const shapes: [string, unknown][] = [
      ["null", null],
      ["an array", [[CORE], []]],
      ["a string", "request"],
      ["a number", 42],
      ["no using", { methodCalls: [] }],
      ["using not an array", { using: CORE, methodCalls: [] }],
      ["using with a number", { using: [CORE, 1], methodCalls: [] }],
      ["no methodCalls", { using: [CORE] }],
      ["methodCalls an object", { using: [CORE], methodCalls: { 0: ["Core/echo", {}, "0"] } }],
      ["a call of two elements", { using: [CORE], methodCalls: [["Core/echo", {}]] }],
      ["a call of four elements", { using: [CORE], methodCalls: [["Core/echo", {}, "0", "x"]] }],
      ["a call that is an object", { using: [CORE], methodCalls: [{ name: "Core/echo" }] }],
      ["a numeric method name", { using: [CORE], methodCalls: [[1, {}, "0"]] }],
      ["arguments that are an array", { using: [CORE], methodCalls: [["Core/echo", [], "0"]] }],
      ["arguments that are null", { using: [CORE], methodCalls: [["Core/echo", null, "0"]] }],
      ["a numeric call id", { using: [CORE], methodCalls: [["Core/echo", {}, 0]] }],
      ["createdIds an array", { using: [CORE], methodCalls: [], createdIds: ["a"] }],
      ["createdIds with a number", { using: [CORE], methodCalls: [], createdIds: { a: 1 } }],
    ];
    for (const [label, shape] of shapes) {
      const error = await problem(await post(t, JSON.stringify(shape)), 400);
      assert.equal(error.type, `${ERROR}notRequest`, label);
      assert.match(error.detail as string, /not a JMAP request/, label);
    }
  }));

Deno.test("17 method calls exceed maxCallsInRequest; 16 are answered", () =>
  withApp(async (t) => {
    const calls = (n: number) => Array.from({ length: n }, (_, i) => ["Core/echo", { i }, `c${i}`]);
    const error = await problem(await post(t, body(calls(17))), 400);
    assert.equal(error.type, `${ERROR}limit`);
    assert.equal(error.limit, "maxCallsInRequest");
    assert.match(error.detail as string, /17/);

    const result = await jmap(t, calls(16) as Invocation[], { using: [CORE] });
    assert.equal(result.methodResponses.length, 16);
  }));

Deno.test("a request larger than maxSizeRequest is a limit problem naming maxSizeRequest", () =>
  withApp(async (t) => {
    const padding = "x".repeat(11 * 1024 * 1024);
    const big = body([["Core/echo", { padding }, "0"]]);
    const error = await problem(await post(t, big), 400);
    assert.equal(error.type, `${ERROR}limit`);
    assert.equal(error.limit, "maxSizeRequest");

    // The same limit holds when the client announces the size up front.
    const announced = await problem(
      await post(t, new TextEncoder().encode(big), { "content-length": String(big.length) }),
      400,
    );
    assert.equal(announced.type, `${ERROR}limit`);
    assert.equal(announced.limit, "maxSizeRequest");
  }));

Deno.test("a request just under maxSizeRequest is processed", () =>
  withApp(async (t) => {
    const padding = "x".repeat(10 * 1024 * 1024 - 200);
    const result = await jmap(t, [["Core/echo", { padding }, "0"]], { using: [CORE] });
    assert.equal((result.methodResponses[0][1].padding as string).length, padding.length);
  }));

Deno.test("a cross-site form's text/plain or untyped body is refused as notJSON and changes nothing", () =>
  withApp(async (t) => {
    // What `<form enctype="text/plain">` posts: a JSON-looking body, sent with cached Basic credentials.
    const user = await createUser(t, "victim");
    const forged = body([[
      "x:Account/set",
      { accountId: "b", update: { [user.id]: { name: "Owned" } } },
      "0",
    ]], [
      CORE,
      MANAGEMENT,
    ]);
    for (
      const type of ["text/plain", "text/plain;charset=UTF-8", undefined, "application/x-www-form-urlencoded"]
    ) {
      const headers: Record<string, string> = { authorization: ADMIN };
      if (type) headers["content-type"] = type;
      const response = await t.fetch("/jmap", {
        method: "POST",
        headers,
        body: new TextEncoder().encode(forged),
      });
      const error = await problem(response, 400);
      assert.equal(error.type, `${ERROR}notJSON`, String(type));
    }
    const [[, got]] = (await jmap(t, [["x:Account/get", { accountId: "b", ids: [user.id] }, "0"]]))
      .methodResponses;
    assert.notEqual((got.list as { name: string }[])[0].name, "Owned");
    // application/json, with or without parameters, is read.
    for (const type of ["application/json", "application/json; charset=utf-8"]) {
      const response = await post(t, body([["Core/echo", { type }, "0"]]), { "content-type": type });
      assert.equal(response.status, 200, type);
      assert.deepEqual((await response.json()).methodResponses, [["Core/echo", { type }, "0"]]);
    }
  }));

Deno.test("a POST with Basic credentials from another site is refused; the same site's is served", () =>
  withApp(async (t) => {
    const echo = body([["Core/echo", {}, "0"]]);
    for (
      const headers of <Record<string, string>[]> [
        { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
        { origin: "https://evil.example" },
        { origin: "null" },
        { origin: "https://sub.example.org", "sec-fetch-site": "same-site" },
      ]
    ) {
      const error = await problem(await post(t, echo, headers), 403);
      assert.match(String(error.detail), /another site/, JSON.stringify(headers));
    }
    for (
      const headers of <Record<string, string>[]> [
        { origin: ORIGIN, "sec-fetch-site": "same-origin" },
        { origin: ORIGIN },
        { "sec-fetch-site": "none" },
        {},
      ]
    ) {
      assert.equal((await post(t, echo, headers)).status, 200, JSON.stringify(headers));
    }
    // A cross-site WebSocket handshake with the cached credentials is refused the same way.
    const socket = await t.fetch("/jmap/ws", {
      headers: { authorization: ADMIN, upgrade: "websocket", origin: "https://evil.example" },
    });
    assert.equal((await problem(socket, 403)).status, 403);
    // A Bearer token is never added by a browser on its own: not a cross-site forgery.
    const anonymous = await post(t, echo, {
      origin: "https://evil.example",
      "sec-fetch-site": "cross-site",
      authorization: "Bearer not-a-token",
    });
    assert.equal(anonymous.status, 401);
  }));

Deno.test("JSON nested 10,000 deep is a 400 notJSON problem, and nesting up to the limit is served", () =>
  withApp(async (t) => {
    const deep = "[".repeat(10_000) + "]".repeat(10_000);
    const inCall = `{"using":["${CORE}"],"methodCalls":[["Core/echo",{"a":${deep}},"0"]]}`;
    for (const text of [inCall, deep]) {
      const error = await problem(await post(t, text), 400);
      assert.equal(error.type, `${ERROR}notJSON`);
      assert.match(String(error.detail), /nested deeper than 128/);
    }
    const fine = "[".repeat(100) + "]".repeat(100);
    const result = await jmap(t, [["Core/echo", { a: JSON.parse(fine) }, "0"]], { using: [CORE] });
    assert.deepEqual(result.methodResponses[0][1].a, JSON.parse(fine));
  }));

Deno.test("a fifth concurrent request of one account is refused with limit maxConcurrentRequests", () =>
  withApp(async (t) => {
    // A first request verifies the password, so the ones below are authenticated at once from the cache.
    const first = await post(t, JSON.stringify({ using: [CORE], methodCalls: [] }));
    assert.equal(first.status, 200);
    await first.body?.cancel();
    // Four requests whose bodies never finish keep four slots busy.
    const controllers: ReadableStreamDefaultController<Uint8Array>[] = [];
    const pending = Array.from({ length: 4 }, () => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controllers.push(controller);
          controller.enqueue(new TextEncoder().encode('{"using":[],"methodCalls":['));
        },
      });
      return t.fetch("/jmap", {
        method: "POST",
        body,
        headers: { authorization: ADMIN, "content-type": "application/json" },
      });
    });
    // Until the four hold their slots a fifth goes through; then one is refused (polled, never a sleep).
    let fifth!: Response;
    await until(async () => {
      fifth = await post(t, JSON.stringify({ using: [CORE], methodCalls: [["Core/echo", {}, "0"]] }));
      if (fifth.status === 200) await fifth.body?.cancel();
      return fifth.status !== 200;
    }, "four requests to hold their slots");
    const body = await problem(fifth, 400);
    assert.equal(body.type, "urn:ietf:params:jmap:error:limit");
    assert.equal(body.limit, "maxConcurrentRequests");
    for (const controller of controllers) {
      controller.enqueue(new TextEncoder().encode("]}"));
      controller.close();
    }
    for (const response of await Promise.all(pending)) {
      assert.equal(response.status, 200);
      await response.body?.cancel();
    }
    // The slots are free again.
    const after = await post(t, JSON.stringify({ using: [CORE], methodCalls: [["Core/echo", {}, "0"]] }));
    assert.equal(after.status, 200);
    await after.body?.cancel();
  }));
