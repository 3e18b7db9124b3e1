/**
 * A server killed mid-delivery (SIGKILL) does not lose the message nor send it twice (issue 23):
 * `postern serve` delivers to a receiver of this test that stalls in DATA, is killed while the
 * receiver holds the message, and is started again on the same data. Once the lease of the dead
 * process's claim (x:Outbound leaseSeconds) has run out, the new process delivers the message, and
 * the receiver, counting the transactions it completed, has it exactly once.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { cli, type ServerProcess, startServerProcess, until } from "./helpers.ts";
import { ADMIN } from "./jmap_helpers.ts";
import { managementCall } from "./live_connection_helpers.ts";
import { createUsers, type Obj, serverTarget } from "./mail_helpers.ts";
import { call, draft, send } from "./submission_helpers.ts";

/** The receiving server: holds the first DATA without answering; completes the others. */
async function stallingReceiver() {
  const state = { stalled: 0, completed: 0 };
  const server = new SMTPServer({
    disabledCommands: ["STARTTLS", "AUTH"],
    authOptional: true,
    logger: false,
    onData(stream, _session, callback) {
      const first = state.stalled === 0;
      if (first) state.stalled++;
      stream.on("data", () => undefined);
      stream.on("end", () => {
        if (first) return; // never answered: the sender is killed while it waits
        state.completed++;
        callback(null);
      });
    },
  });
  server.on("error", () => undefined); // the killed sender's connection resets
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = ((server as unknown as { server: { address(): AddressInfo } }).server.address()).port;
  return { port, state, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

Deno.test("a server killed with SIGKILL mid-delivery delivers the message once after restarting, after the lease", async () => {
  const dir = await Deno.makeTempDir({ prefix: "postern-kill-" });
  const receiver = await stallingReceiver();
  const init = await cli(["--data", dir, "init", "--domain", "example.org"], {
    POSTERN_ADMIN_PASSWORD: "admin password for tests",
  });
  assert.equal(init.code, 0, init.stderr);
  let server: ServerProcess | undefined = await startServerProcess(dir);
  try {
    let target = serverTarget(server.url);
    await managementCall(target, ADMIN, "x:Outbound/set", {
      accountId: "b",
      update: {
        singleton: {
          relays: [{ domain: "remote.test", host: "127.0.0.1", port: receiver.port }],
          leaseSeconds: 10,
        },
      },
    });
    const [alice] = await createUsers(target, ["alice"]);
    const emailId = await draft(target as never, alice, {
      to: [{ name: null, email: "bob@remote.test" }],
      subject: "Killed mid-delivery",
    });
    const id =
      (((await send(target as never, alice, emailId)).created as Record<string, Obj>).s.id) as string;
    await until(() => receiver.state.stalled === 1, "the delivery to be in DATA");
    server.kill("SIGKILL");
    await server.status;
    server = await startServerProcess(dir);
    target = serverTarget(server.url);
    const statusOf = async () =>
      (((await call(target as never, alice, "EmailSubmission/get", { ids: [id] })).list as Obj[])[0]
        .deliveryStatus as Record<string, Obj>)["bob@remote.test"];
    // Relayed: the receiver took it, whether it reached the mailbox is not known (RFC 8621 §7).
    await until(async () => (await statusOf()).delivered === "unknown", "the delivery after the lease");
    const { list } = await managementCall(target, ADMIN, "x:QueuedMessage/get", {
      accountId: "b",
      ids: null,
    });
    const [queued] = list as Obj[];
    const [recipient] = Object.values(queued.recipients as Record<string, Obj>);
    assert.deepEqual(
      [recipient.state, recipient.attempts],
      ["delivered", 1],
      "the killed attempt was not counted",
    );
    assert.equal(receiver.state.completed, 1, "received exactly once");
    assert.equal(receiver.state.stalled, 1);
  } finally {
    await server?.stop();
    await receiver.close();
    await Deno.remove(dir, { recursive: true }).catch(() => undefined);
  }
});
