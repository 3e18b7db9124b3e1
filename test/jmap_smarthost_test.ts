/**
 * Relaying through a smarthost (RFC 8621 §7 deliveryStatus): with the x:Outbound route "smarthost",
 * a submission to outside addresses is queued, and the queue's worker sends it to the SMTP server
 * the x:Smarthost singleton names — here a real SMTP server (smtp-server) on 127.0.0.1 — and each
 * recipient's status shows what it answered: accepted, refused (5xx: failed), or unreachable (still
 * queued, to be tried again). Local recipients of the same submission are delivered here at once,
 * and Bcc never travels.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import type { TestApp } from "./helpers.ts";
import { call as adminCall, set, withApp } from "./jmap_helpers.ts";
import { createUsers, mailboxesByName, type Obj } from "./mail_helpers.ts";
import { call, draft, send } from "./submission_helpers.ts";

interface Received {
  from: string;
  to: string[];
  data: string;
  auth?: string;
}

/** A smarthost on a free loopback port that refuses recipients starting with "refuse". */
async function smarthost(options: { login?: [string, string] } = {}) {
  const received: Received[] = [];
  const server = new SMTPServer({
    disabledCommands: options.login ? ["STARTTLS"] : ["STARTTLS", "AUTH"],
    authOptional: !options.login,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      const [user, pass] = options.login ?? [];
      if (auth.username === user && auth.password === pass) callback(null, { user });
      else callback(Object.assign(new Error("Bad credentials"), { responseCode: 535 }));
    },
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith("refuse")) {
        callback(Object.assign(new Error("5.1.1 No such mailbox here"), { responseCode: 550 }));
      } else callback();
    },
    onData(stream, session, callback) {
      const chunks: Uint8Array[] = [];
      stream.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          data: new TextDecoder().decode(Uint8Array.from(chunks.flatMap((c) => [...c]))),
          auth: session.user as string | undefined,
        });
        callback(null, "2.0.0 Queued as T1");
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = ((server as unknown as { server: { address(): AddressInfo } }).server.address()).port;
  return {
    port,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function useSmarthost(t: TestApp, settings: Obj) {
  const route = await set(t, "x:Outbound", { update: { singleton: { route: "smarthost" } } });
  assert.deepEqual(route.updated, { singleton: null }, JSON.stringify(route));
  return await set(t, "x:Smarthost", { update: { singleton: settings } });
}

const statusOf = async (t: TestApp, who: Parameters<typeof call>[1], id: string) =>
  ((await call(t, who, "EmailSubmission/get", { ids: [id] })).list as Obj[])[0].deliveryStatus as Record<
    string,
    Obj
  >;

Deno.test("a submission to outside addresses is relayed through the smarthost; accepted and refused recipients each get their status", async () => {
  const host = await smarthost();
  try {
    await withApp(async (t) => {
      const [alice, bob] = await createUsers(t, ["alice", "bob"]);
      const changed = await useSmarthost(t, { host: "127.0.0.1", port: host.port, security: "none" });
      assert.deepEqual(changed.updated, { singleton: null }, JSON.stringify(changed));
      const emailId = await draft(t, alice, {
        to: [{ name: null, email: "friend@elsewhere.example" }, { name: null, email: "bob@example.org" }],
        cc: [{ name: null, email: "refuse-me@elsewhere.example" }],
        bcc: [{ name: null, email: "secret@elsewhere.example" }],
        subject: "Relayed",
      });
      const submitted = await send(t, alice, emailId);
      const id = (submitted.created as Record<string, Obj>).s.id as string;
      const queued = await statusOf(t, alice, id);
      assert.equal(queued["friend@elsewhere.example"].delivered, "queued", "queued until the worker runs");
      assert.equal(queued["bob@example.org"].delivered, "yes", "local recipients are delivered at once");
      assert.equal(await t.services.queue.runDue(), 1, "one delivery: the domain elsewhere.example");
      const status = await statusOf(t, alice, id);
      assert.equal(status["friend@elsewhere.example"].delivered, "unknown");
      assert.match(String(status["friend@elsewhere.example"].smtpReply), /^250 .*Queued as T1/);
      assert.equal(status["secret@elsewhere.example"].delivered, "unknown");
      assert.equal(status["refuse-me@elsewhere.example"].delivered, "no");
      assert.match(String(status["refuse-me@elsewhere.example"].smtpReply), /^550 .*No such mailbox/);
      assert.equal(status["bob@example.org"].delivered, "yes", "local recipients are delivered here");
      assert.equal((await mailboxesByName(t, bob)).Inbox.totalEmails, 1);

      assert.equal(host.received.length, 1, "one SMTP transaction for the outside recipients");
      const [mail] = host.received;
      assert.equal(mail.from, "alice@example.org");
      assert.deepEqual(mail.to.sort(), ["friend@elsewhere.example", "secret@elsewhere.example"]);
      assert.match(mail.data, /^Subject: Relayed\r$/m);
      assert.doesNotMatch(mail.data, /^Bcc:/im, "the Bcc header never travels");
    });
  } finally {
    await host.close();
  }
});

Deno.test("smarthost failures are each recipient's status: unreachable, wrong login, and no smarthost at all", async () => {
  const host = await smarthost({ login: ["relay-user", "relay-pass"] });
  try {
    await withApp(async (t) => {
      const [alice] = await createUsers(t, ["alice"]);
      const submitTo = async (address: string) => {
        const emailId = await draft(t, alice, { to: [{ name: null, email: address }], subject: "x" });
        const created = (await send(t, alice, emailId)).created as Record<string, Obj>;
        await t.services.queue.runDue();
        return (await statusOf(t, alice, created.s.id as string))[address];
      };
      // The smarthost route, but no smarthost configured: a configuration error, kept for a retry.
      await set(t, "x:Outbound", { update: { singleton: { route: "smarthost" } } });
      const none = await submitTo("a@elsewhere.example");
      assert.equal(none.delivered, "queued");
      assert.match(String(none.smtpReply), /^451 4\.3\.5 .*no Smarthost host is set/);
      // A port nobody listens on.
      const closed = await smarthost();
      await closed.close();
      await useSmarthost(t, { host: "127.0.0.1", port: closed.port, security: "none", timeoutSeconds: 5 });
      const unreachable = await submitTo("b@elsewhere.example");
      assert.equal(unreachable.delivered, "queued", "tried again later");
      assert.match(
        String(unreachable.smtpReply),
        /^451 4\.4\.1 No answer from \[127\.0\.0\.1\]: connection refused/,
      );
      // The right server, the wrong password; then the right one.
      await useSmarthost(t, { port: host.port, username: "relay-user", password: "wrong" });
      const refused = await submitTo("c@elsewhere.example");
      // A refused login is kept for a retry, as Postfix does (smtp_sasl_auth_soft_bounce): the
      // operator can fix the password without the mail bouncing.
      assert.equal(refused.delivered, "queued", "tried again later");
      assert.match(String(refused.smtpReply), /^454 4\.7\.0 Authentication with .* failed: 535 /);
      await useSmarthost(t, { password: "relay-pass" });
      const accepted = await submitTo("d@elsewhere.example");
      assert.equal(accepted.delivered, "unknown");
      assert.equal(host.received.at(-1)?.auth, "relay-user");
      // The password is write-only: reading the settings never shows it.
      const [settings] = (await adminCall(t, "x:Smarthost/get", { ids: ["singleton"] })).list as Obj[];
      assert.equal(settings.username, "relay-user");
      assert.equal(settings.password, "********", "the password is never shown");
      // Written back as read (a form saving every field), the mask changes nothing.
      await useSmarthost(t, { ...settings, id: undefined, port: host.port });
      assert.equal((await submitTo("e@elsewhere.example")).delivered, "unknown");
      assert.equal(host.received.length, 2);
    });
  } finally {
    await host.close();
  }
});
