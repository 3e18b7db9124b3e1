/**
 * JMAP over WebSocket (RFC 8887) against a server process: the session names the URL, a Request is
 * answered with its requestId, push sends StateChange after an import by another client, bad
 * messages get a RequestError and the connection goes on; a plain GET is 426, a missing subprotocol 400.
 */
import assert from "node:assert/strict";
import { startServerProcess } from "./helpers.ts";
import { imported, message } from "./email_helpers.ts";
import { createUsers, getSession, type Obj, serverTarget, type Who } from "./mail_helpers.ts";

/** A connected socket and the messages it received, in order. */
class Socket {
  readonly messages: Obj[] = [];
  #waiters: (() => void)[] = [];
  private constructor(readonly socket: WebSocket) {
    socket.onmessage = (event) => {
      this.messages.push(JSON.parse(event.data));
      for (const wake of this.#waiters.splice(0)) wake();
    };
  }

  static async open(url: string, who: Who): Promise<Socket> {
    const socket = new WebSocket(url, { protocols: ["jmap"], headers: { authorization: who.auth } } as never);
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = (event) => reject(new Error(`WebSocket failed: ${(event as ErrorEvent).message}`));
    });
    assert.equal(socket.protocol, "jmap");
    return new Socket(socket);
  }

  send(message: unknown): void {
    this.socket.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** The first received message matching `test`, waiting up to `timeoutMs`. */
  async next(test: (m: Obj) => boolean, timeoutMs = 60_000): Promise<Obj> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.messages.findIndex(test);
      if (index !== -1) return this.messages.splice(index, 1)[0];
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`No such message within ${timeoutMs} ms; got ${JSON.stringify(this.messages)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.readyState === WebSocket.CLOSED) return resolve();
      this.socket.onclose = () => resolve();
      this.socket.close();
    });
  }
}

Deno.test("JMAP over WebSocket: requests answered by id, push after another client's import, bad messages survive", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-ws-" });
  const server = await startServerProcess(dataDir);
  const target = serverTarget(server.url);
  let socket: Socket | undefined;
  try {
    const [alice] = await createUsers(target, ["alice"]);
    const session = await getSession(target, alice.auth);
    const capability = (session.capabilities as Record<string, Obj>)["urn:ietf:params:jmap:websocket"];
    assert.deepEqual(capability, { url: server.url.replace("http", "ws") + "/jmap/ws", supportsPush: true });
    socket = await Socket.open(capability.url as string, alice);

    socket.send({
      "@type": "Request",
      id: "r1",
      using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
      methodCalls: [["Mailbox/get", { accountId: alice.accountId, ids: null, properties: ["name"] }, "0"]],
    });
    const answer = await socket.next((m) => m.requestId === "r1");
    assert.equal(answer["@type"], "Response");
    assert.equal(answer.sessionState, session.state);
    const [[name, result]] = answer.methodResponses as [string, Obj][];
    assert.equal(name, "Mailbox/get");
    assert.equal((result.list as Obj[]).length, 6);

    // Bad messages: each gets a RequestError and the connection stays.
    socket.send("this is not json");
    assert.equal(
      (await socket.next((m) => m["@type"] === "RequestError")).type,
      "urn:ietf:params:jmap:error:notJSON",
    );
    socket.send({ "@type": "Request", id: "r2", using: ["urn:example:nope"], methodCalls: [] });
    const unknown = await socket.next((m) => m.requestId === "r2");
    assert.equal(unknown.type, "urn:ietf:params:jmap:error:unknownCapability");
    socket.send({ "@type": "Dance", id: "r3" });
    assert.equal(
      (await socket.next((m) => m.requestId === "r3")).type,
      "urn:ietf:params:jmap:error:notRequest",
    );
    socket.socket.send(new Uint8Array([1, 2, 3]));
    assert.equal(
      (await socket.next((m) => m["@type"] === "RequestError")).type,
      "urn:ietf:params:jmap:error:notJSON",
    );

    // Push: another client imports; the socket hears the new Email state.
    socket.send({ "@type": "WebSocketPushEnable", dataTypes: ["Email"] });
    // The server handles a socket's messages in order: once a later request is answered, push is on.
    socket.send({
      "@type": "Request",
      id: "after-enable",
      using: ["urn:ietf:params:jmap:core"],
      methodCalls: [],
    });
    await socket.next((m) => m.requestId === "after-enable");
    await imported(target, alice, message("Subject: over the socket\n\nhello\n"));
    const change = await socket.next((m) => m["@type"] === "StateChange");
    const emailState = (change.changed as Record<string, Obj>)[alice.accountId].Email;
    const now = await fetch(`${server.url}/jmap`, {
      method: "POST",
      headers: { authorization: alice.auth, "content-type": "application/json" },
      body: JSON.stringify({
        using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
        methodCalls: [["Email/get", { accountId: alice.accountId, ids: [] }, "0"]],
      }),
    });
    assert.equal(emailState, (await now.json()).methodResponses[0][1].state);
    socket.send({ "@type": "WebSocketPushDisable" });
  } finally {
    await socket?.close();
    await server.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
  }
});

Deno.test("the WebSocket URL without an upgrade is 426; without the jmap subprotocol 400; without credentials 401", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-ws-" });
  const server = await startServerProcess(dataDir);
  try {
    const [alice] = await createUsers(serverTarget(server.url), ["alice"]);
    const plain = await fetch(`${server.url}/jmap/ws`, { headers: { authorization: alice.auth } });
    assert.equal(plain.status, 426);
    await plain.body?.cancel();
    const noProtocol = new WebSocket(server.url.replace("http", "ws") + "/jmap/ws", {
      headers: { authorization: alice.auth },
    } as never);
    const refused = await new Promise<boolean>((resolve) => {
      noProtocol.onopen = () => resolve(false);
      noProtocol.onerror = () => resolve(true);
    });
    assert.ok(refused, "a socket without the jmap subprotocol is refused");
    const anonymous = await fetch(`${server.url}/jmap/ws`, { headers: { upgrade: "websocket" } });
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
  }
});
