/**
 * The outbound queue with two serving processes (`postern serve --processes 2`): both run the queue
 * timer, each delivery is claimed in the database, so every message reaches the receiver once.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { cli, until, withTempDir } from "./helpers.ts";
import { ADMIN } from "./jmap_helpers.ts";
import { managementCall } from "./live_connection_helpers.ts";
import { createUsers, type Obj, serverTarget } from "./mail_helpers.ts";
import { startProcesses } from "./processes_helpers.ts";
import { draft, send } from "./submission_helpers.ts";

const MESSAGES = 24;

/** A receiver counting each subject it completed a transaction for. */
async function countingReceiver() {
  const subjects = new Map<string, number>();
  const server = new SMTPServer({
    disabledCommands: ["STARTTLS", "AUTH"],
    authOptional: true,
    logger: false,
    onData(stream, _session, callback) {
      let text = "";
      stream.on("data", (chunk: Uint8Array) => text += new TextDecoder().decode(chunk));
      stream.on("end", () => {
        const subject = /^Subject: (.*)$/m.exec(text)?.[1]?.trim() ?? "?";
        subjects.set(subject, (subjects.get(subject) ?? 0) + 1);
        callback(null);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = ((server as unknown as { server: { address(): AddressInfo } }).server.address()).port;
  return { port, subjects, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

Deno.test("with two processes every queued message is delivered exactly once", () =>
  withTempDir("postern-processes-queue-", async (dir) => {
    const receiver = await countingReceiver();
    const init = await cli(["--data", dir, "init", "--domain", "example.org"], {
      POSTERN_ADMIN_PASSWORD: "admin password for tests",
    });
    assert.equal(init.code, 0, init.stderr);
    const server = await startProcesses(dir);
    try {
      const target = serverTarget(server.url);
      await managementCall(target, ADMIN, "x:Outbound/set", {
        accountId: "b",
        update: {
          singleton: { relays: [{ domain: "remote.test", host: "127.0.0.1", port: receiver.port }] },
        },
      });
      const [alice] = await createUsers(target, ["alice"]);
      for (let i = 0; i < MESSAGES; i++) {
        const emailId = await draft(target as never, alice, {
          to: [{ name: null, email: `bob${i % 3}@remote.test` }],
          subject: `Message ${i}`,
        });
        const created = (await send(target as never, alice, emailId)).created as Record<string, Obj>;
        assert.ok(created?.s?.id, `message ${i} submitted`);
      }
      const received = () => [...receiver.subjects.values()].reduce((n, c) => n + c, 0);
      await until(() => receiver.subjects.size === MESSAGES, "every message at the receiver");
      // More queue ticks of both processes pass: nothing arrives twice.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assert.equal(received(), MESSAGES);
      for (const [subject, count] of receiver.subjects) assert.equal(count, 1, subject);
    } finally {
      await server.stop();
      await receiver.close();
    }
  }));
