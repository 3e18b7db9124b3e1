/**
 * EventSource push (RFC 8620 §7.3): a listener hears a StateChange for each write that changes a
 * state it can see (its own account, and an account sharing a mailbox with it), with the states the
 * methods report; types filter it, closeafter=state ends the stream after one event, ping keeps it
 * alive; bad parameters are 400 and missing credentials 401. A deleted sharer is heard by those it
 * shared with (directly or through a group), as a StateChange naming its account.
 */
import assert from "node:assert/strict";
import type { TestApp } from "./helpers.ts";
import { imported, message } from "./email_helpers.ts";
import {
  adminSetAccounts,
  createMailbox,
  createUsers,
  mailboxesByName,
  mailCall,
  type Obj,
  rights,
  setOutcome,
  share,
  userAccessToken,
  type Who,
  withAliceAndBob,
} from "./mail_helpers.ts";
import { inProcessFetch, registerClient, TestBrowser } from "./oauth_helpers.ts";
import { call as sendingCall } from "./submission_helpers.ts";

/** An open event stream: the events as they come, parsed. */
class Events {
  #buffer = "";
  #decoder = new TextDecoder();
  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  static async open(
    t: TestApp,
    who: { auth: string },
    query = "types=*&closeafter=no&ping=0",
  ): Promise<Events> {
    const response = await t.fetch(`/jmap/eventsource/?${query}`, { headers: { authorization: who.auth } });
    assert.equal(response.status, 200, await (response.status === 200 ? "" : response.text()));
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    return new Events(response.body!.getReader());
  }

  /** The next event, or undefined when the stream ended; fails after `timeoutMs`. */
  async next(timeoutMs = 60_000): Promise<{ event: string; data: Obj } | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.#buffer.indexOf("\n\n");
      if (end !== -1) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
        const data = /^data: (.*)$/m.exec(block)?.[1] ?? "null";
        return { event, data: JSON.parse(data) };
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`No event within ${timeoutMs} ms`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const chunk = await Promise.race([
        this.reader.read(),
        new Promise<never>((_, reject) =>
          timer = setTimeout(() => reject(new Error(`No event within ${timeoutMs} ms`)), left)
        ),
      ]).finally(() => clearTimeout(timer));
      if (chunk.done) return undefined;
      this.#buffer += this.#decoder.decode(chunk.value, { stream: true });
    }
  }

  async close(): Promise<void> {
    await this.reader.cancel().catch(() => undefined);
  }
}

async function states(t: TestApp, who: Who, accountId = who.accountId): Promise<Record<string, string>> {
  const get = async (method: string) =>
    (await mailCall(t, method, { accountId, ids: [] }, who)).state as string;
  return {
    Email: await get("Email/get"),
    Mailbox: await get("Mailbox/get"),
    Thread: await get("Thread/get"),
  };
}

Deno.test("a listener hears the states an import changes in its account, as the methods report them", async () => {
  await withAliceAndBob(async (t, alice) => {
    const events = await Events.open(t, alice);
    try {
      await imported(t, alice, message("Subject: hello\n\nhi\n"));
      const now = await states(t, alice);
      // Upload, import: the changes may come in one event or several; the last states are the ones reported.
      const seen: Record<string, string> = {};
      while (seen.Email !== now.Email || seen.Mailbox !== now.Mailbox || seen.Thread !== now.Thread) {
        const event = await events.next();
        assert.ok(event, "the stream ended");
        assert.equal(event.event, "state");
        assert.equal(event.data["@type"], "StateChange");
        Object.assign(seen, (event.data.changed as Record<string, Record<string, string>>)[alice.accountId]);
      }
    } finally {
      await events.close();
    }
  });
});

Deno.test("a sharer hears changes of the account sharing with it; an account it cannot see stays silent", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const inbox = (await mailboxesByName(t, alice)).Inbox.id as string;
    const events = await Events.open(t, bob, "types=Email&closeafter=state&ping=0");
    try {
      // Alice shares nothing yet: her import is not Bob's to hear, so the first event Bob hears is after the share.
      await imported(t, alice, message("Subject: before\n\nnot for bob\n"));
      await share(t, alice, inbox, { [bob.accountId]: rights("mayReadItems") });
      const afterShare = await mailCall(t, "Email/get", { accountId: alice.accountId, ids: [] }, bob);
      const created = await imported(t, alice, message("Subject: shared\n\nfor bob too\n"));
      const event = await events.next();
      assert.ok(event);
      const changed = event.data.changed as Record<string, Record<string, string>>;
      assert.deepEqual(Object.keys(changed), [alice.accountId]);
      assert.deepEqual(Object.keys(changed[alice.accountId]), ["Email"]);
      const bobSees = await mailCall(t, "Email/get", { accountId: alice.accountId, ids: [created.id] }, bob);
      // The share or the import after it, whichever was pushed first (the push may or may not coalesce
      // them): never a state from before the share.
      assert.ok(
        [afterShare.state, bobSees.state].includes(changed[alice.accountId].Email),
        `${changed[alice.accountId].Email} is neither ${afterShare.state} nor ${bobSees.state}`,
      );
      // closeafter=state: the stream ends after that one event.
      assert.equal(await events.next(), undefined);
    } finally {
      await events.close();
    }
  });
});

Deno.test("types filter the events; ping arrives with its interval; a Bearer token listens too", async () => {
  await withAliceAndBob(async (t, alice) => {
    const client = await registerClient(t.services, { requireConsent: false });
    const browser = new TestBrowser("http://127.0.0.1:8080", inProcessFetch(t));
    const token = await userAccessToken(t, browser, client, {
      username: alice.emailAddress,
      scope: "urn:ietf:params:jmap:mail",
    });
    const events = await Events.open(t, { auth: `Bearer ${token}` }, "types=Mailbox&closeafter=no&ping=1");
    try {
      const ping = await events.next();
      assert.deepEqual(ping, { event: "ping", data: { interval: 1 } });
      await imported(t, alice, message("Subject: x\n\ny\n"));
      let event = await events.next();
      while (event?.event === "ping") event = await events.next();
      assert.ok(event);
      assert.deepEqual(Object.keys((event.data.changed as Obj)[alice.accountId] as Obj), ["Mailbox"]);
    } finally {
      await events.close();
    }
  });
});

Deno.test("bad EventSource parameters are 400 naming them; no credentials is 401", async () => {
  await withAliceAndBob(async (t, alice) => {
    for (
      const [query, word] of [
        ["types=Email,Unicorn", "Unicorn"],
        ["closeafter=maybe", "closeafter"],
        ["ping=-1", "ping"],
        ["ping=99999999", "ping"],
        ["types=Email&types=Mailbox", "types"],
      ]
    ) {
      const response = await t.fetch(`/jmap/eventsource/?${query}`, {
        headers: { authorization: alice.auth },
      });
      const problem = await response.json();
      assert.equal(response.status, 400, query);
      assert.equal(response.headers.get("content-type"), "application/problem+json");
      assert.match(String(problem.detail), new RegExp(word), query);
    }
    const anonymous = await t.fetch("/jmap/eventsource/?types=*&closeafter=no&ping=0");
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();
  });
});

Deno.test("a read-only grantee hears nothing of the owner's private mailboxes, identities or vacation; it hears its shared mailbox, and losing it", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const shared = (await createMailbox(t, alice, { name: "Shared" })).id as string;
    const secret = (await createMailbox(t, alice, { name: "Secret" })).id as string;
    await share(t, alice, shared, { [bob.accountId]: rights("mayReadItems") });
    const mailboxState = async (who: Who) =>
      (await mailCall(t, "Mailbox/get", { accountId: alice.accountId, ids: [] }, who)).state as string;
    // Alice's own stream tells when the hub has read her writes; Bob's must stay silent meanwhile.
    const own = await Events.open(t, alice);
    const sharer = await Events.open(t, bob);
    try {
      const heardBy = async (events: Events, state: string) => {
        for (;;) {
          const event = await events.next();
          assert.ok(event, "the stream ended");
          const changed = event.data.changed as Record<string, Record<string, string>>;
          if (changed?.[alice.accountId]?.Mailbox === state) return changed[alice.accountId];
        }
      };
      // Private work: mail into Secret, an identity, the vacation response, Secret renamed last.
      await imported(t, alice, message("Subject: private\n\nfor alice only\n"), { mailboxIds: [secret] });
      await sendingCall(t, alice, "Identity/set", {
        create: { i: { email: alice.emailAddress, name: "Al" } },
      });
      await sendingCall(t, alice, "VacationResponse/set", { update: { singleton: { isEnabled: true } } });
      await setOutcome(t, alice, { update: [secret, { name: "Still secret" }] });
      await heardBy(own, await mailboxState(alice));
      // Then something Bob sees: the first thing he hears is that, with only the types he may read.
      await setOutcome(t, alice, { update: [shared, { name: "Shared, renamed" }] });
      const first = await sharer.next();
      const changed = first?.data.changed as Record<string, Record<string, string>>;
      assert.deepEqual(Object.keys(changed ?? {}), [alice.accountId], JSON.stringify(first));
      assert.equal(
        changed[alice.accountId].Mailbox,
        await mailboxState(bob),
        "pushed for the rename, not before",
      );
      for (const type of Object.keys(changed[alice.accountId])) {
        assert.ok(["Mailbox", "Email", "Thread"].includes(type), `${type} is not Bob's to hear`);
      }
      // Alice takes the share back: Bob hears it, so his client drops the mailbox.
      await share(t, alice, shared, null);
      const lost = await heardBy(sharer, await mailboxState(alice));
      assert.ok(lost.Mailbox);
    } finally {
      await own.close();
      await sharer.close();
    }
  });
});

Deno.test("a deleted sharer is pushed to its grantees, directly or through a group, and to no one else", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const [carol, dave] = await createUsers(t, ["carol", "dave"]);
    const { created } = await adminSetAccounts(t, {
      create: { team: { "@type": "Group", name: "team", domainId: "b" } },
    });
    const team = (created as Record<string, Obj>).team.id as string;
    await adminSetAccounts(t, { update: { [bob.accountId]: { memberGroupIds: [team] } } });
    const shared = (await createMailbox(t, alice, { name: "Shared" })).id as string;
    await share(t, alice, shared, {
      [team]: rights("mayReadItems"),
      [carol.accountId]: rights("mayReadItems"),
    });
    const throughGroup = await Events.open(t, bob);
    const direct = await Events.open(t, carol, "types=Email&closeafter=no&ping=0");
    const bystander = await Events.open(t, dave);
    try {
      await adminSetAccounts(t, { destroy: [alice.accountId] });
      const heard = async (events: Events) => {
        for (;;) {
          const event = await events.next();
          assert.ok(event, "the stream ended");
          const changed = event.data.changed as Record<string, Record<string, string>>;
          if (changed?.[alice.accountId]) return changed[alice.accountId];
        }
      };
      assert.deepEqual(Object.keys(await heard(throughGroup)).sort(), ["Email", "Mailbox", "Thread"]);
      assert.deepEqual(Object.keys(await heard(direct)), ["Email"]);
      // Dave's first event is his own write after the deletion, never the deleted account.
      await imported(t, dave, message("Subject: own\n\nhis\n"));
      const own = await bystander.next();
      assert.deepEqual(Object.keys(own?.data.changed as Obj), [dave.accountId], JSON.stringify(own));
    } finally {
      await throughGroup.close();
      await direct.close();
      await bystander.close();
    }
  });
});
