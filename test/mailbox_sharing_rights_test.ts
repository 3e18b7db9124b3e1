/**
 * Mailbox sharing (RFC 8621 §2 MailboxRights, RFC 9670 shareWith) as the grantee sees it: each right
 * allows exactly what it names, grants to groups reach their members for as long as they are members,
 * the session's isReadOnly and state follow the grants, and only the owner or a holder of mayShare
 * changes who a mailbox is shared with.
 */
import assert from "node:assert/strict";
import type { TestApp } from "./helpers.ts";
import { MAIL, withApp } from "./jmap_helpers.ts";
import {
  adminSetAccounts,
  createMailbox,
  createUsers,
  getSession,
  mailboxesByName,
  mailCall,
  mailError,
  mailRequest,
  type Obj,
  RIGHTS,
  rights,
  setOutcome,
  share,
  type Who,
} from "./mail_helpers.ts";

/** The session state and the sessionState of an API response, which must agree (RFC 8620 §3.4). */
async function sessionStates(t: TestApp, who: Who): Promise<{ session: string; api: string }> {
  const session = (await getSession(t, who.auth)).state;
  const { sessionState } = await mailRequest(
    t,
    [["Mailbox/get", { accountId: who.accountId, ids: [] }, "0"]],
    who.auth,
  );
  return { session, api: sessionState };
}

/** Asserts a write went through (no SetError) or was refused as `forbidden`. */
function assertOutcome(error: Obj | undefined, allowed: boolean, what: string): void {
  if (allowed) assert.equal(error, undefined, `${what} should be allowed: ${JSON.stringify(error)}`);
  else assert.equal(error?.type, "forbidden", `${what} should be forbidden: ${JSON.stringify(error)}`);
}

Deno.test("a grant of exactly one right lets the grantee do exactly what it names with Mailbox methods", (test) =>
  withApp(async (t) => {
    const [owner, third, ...grantees] = await createUsers(t, [
      "owner",
      "third",
      ...RIGHTS.map((_, i) => `g${i}`),
    ]);
    const ownerInbox = (await mailboxesByName(t, owner)).Inbox.id as string;
    for (const [index, right] of RIGHTS.entries()) {
      await test.step(right, async () => {
        const grantee = grantees[index];
        const mailbox = await createMailbox(t, owner, { name: `Shared ${right}` });
        const id = mailbox.id as string;
        await share(t, owner, id, { [grantee.accountId]: rights(right) });
        const inOwner = { accountId: owner.accountId };

        const account = (await getSession(t, grantee.auth)).accounts[owner.accountId];
        assert.ok(account, "the owner's account is in the grantee's session");
        assert.equal(account.isPersonal, false);
        assert.equal(account.isReadOnly, right === "mayReadItems");
        const mail = (account.accountCapabilities as Record<string, Obj>)[MAIL];
        assert.equal(mail.mayCreateTopLevelMailbox, false);

        // Only the shared mailbox is visible, with exactly the granted right.
        const seen = await mailCall(t, "Mailbox/get", { ...inOwner, ids: null }, grantee);
        assert.deepEqual((seen.list as Obj[]).map((m) => m.id), [id]);
        const view = (seen.list as Obj[])[0];
        assert.deepEqual(view.myRights, rights(right));
        assert.deepEqual(
          view.shareWith,
          right === "mayShare" ? { [grantee.accountId]: rights("mayShare") } : null,
          "shareWith is shown to holders of mayShare only",
        );
        assert.deepEqual((await mailCall(t, "Mailbox/query", inOwner, grantee)).ids, [id]);
        const hidden = await mailCall(t, "Mailbox/get", { ...inOwner, ids: [ownerInbox] }, grantee);
        assert.deepEqual(hidden.notFound, [ownerInbox]);
        const other = await setOutcome(
          t,
          grantee,
          { update: [ownerInbox, { name: "Mine" }] },
          owner.accountId,
        );
        assert.equal(other?.type, "notFound", JSON.stringify(other));

        // Subscribing is the grantee's own choice, whatever the rights.
        assertOutcome(
          await setOutcome(t, grantee, { update: [id, { isSubscribed: true }] }, owner.accountId),
          true,
          "subscribe",
        );
        const subscribed = await mailCall(t, "Mailbox/get", { ...inOwner, ids: [id] }, grantee);
        assert.equal((subscribed.list as Obj[])[0].isSubscribed, true);

        const renamed = await setOutcome(
          t,
          grantee,
          { update: [id, { name: `Renamed ${right}` }] },
          owner.accountId,
        );
        assertOutcome(renamed, right === "mayRename", "renaming");
        const child = await setOutcome(
          t,
          grantee,
          { create: { name: "Child", parentId: id } },
          owner.accountId,
        );
        assertOutcome(child, right === "mayCreateChild", "creating a child");
        const top = await setOutcome(t, grantee, { create: { name: `Top ${right}` } }, owner.accountId);
        assertOutcome(top, false, "creating a top-level mailbox in a shared account");
        const reshared = await setOutcome(t, grantee, {
          update: [id, {
            shareWith: { [grantee.accountId]: rights(right), [third.accountId]: rights("mayReadItems") },
          }],
        }, owner.accountId);
        assertOutcome(reshared, right === "mayShare", "changing shareWith");
        const destroyed = await setOutcome(t, grantee, { destroy: id }, owner.accountId);
        assertOutcome(destroyed, right === "mayDelete", "destroying");

        // What the owner sees afterwards matches what the grantee was allowed.
        const after = await mailboxesByName(t, owner);
        const name = right === "mayRename" ? `Renamed ${right}` : `Shared ${right}`;
        assert.equal(after[name] !== undefined, right !== "mayDelete", `the owner still has "${name}"`);
        if (right === "mayCreateChild") {
          assert.equal(after.Child?.parentId, id, "the child is in the owner's account");
        }
        assert.equal(after.Inbox.isSubscribed, true);
        if (right !== "mayDelete") {
          assert.equal(after[name].isSubscribed, true, "the owner's own subscription is untouched");
          const expected = right === "mayShare"
            ? { [grantee.accountId]: rights("mayShare"), [third.accountId]: rights("mayReadItems") }
            : { [grantee.accountId]: rights(right) };
          assert.deepEqual(after[name].shareWith, expected);
        }
        if (right === "mayCreateChild") {
          await setOutcome(t, owner, { destroy: after.Child.id as string });
        }
      });
    }
  }));

Deno.test("a grant to a group reaches its members, and leaving the group removes access on the next request", () =>
  withApp(async (t) => {
    const [owner, member, outsider] = await createUsers(t, ["owner", "member", "outsider"]);
    const { created } = await adminSetAccounts(t, {
      create: { team: { "@type": "Group", name: "team", domainId: "b" } },
    });
    const team = (created as Record<string, Obj>).team.id as string;
    await adminSetAccounts(t, { update: { [member.accountId]: { memberGroupIds: [team] } } });
    const shared = await createMailbox(t, owner, { name: "Team" });
    const id = shared.id as string;
    await share(t, owner, id, { [team]: rights("mayReadItems") });

    const reach = async (who: Who) => {
      const session = await getSession(t, who.auth);
      const { methodResponses } = await mailRequest(t, [["Mailbox/get", {
        accountId: owner.accountId,
        ids: null,
      }, "0"]], who.auth);
      return { listed: owner.accountId in session.accounts, state: session.state, get: methodResponses[0] };
    };
    const before = await reach(member);
    assert.equal(before.listed, true, "a member sees the group's shared account");
    assert.equal(before.get[0], "Mailbox/get", JSON.stringify(before.get));
    assert.deepEqual((before.get[1].list as Obj[]).map((m) => [m.id, m.myRights]), [[
      id,
      rights("mayReadItems"),
    ]]);
    const outside = await reach(outsider);
    assert.equal(outside.listed, false);
    assert.equal(outside.get[1].type, "accountNotFound");

    // A direct grant adds to the group's: the member holds the union.
    await share(t, owner, id, { [team]: rights("mayReadItems"), [member.accountId]: rights("mayRename") });
    const union = await mailCall(t, "Mailbox/get", { accountId: owner.accountId, ids: [id] }, member);
    assert.deepEqual((union.list as Obj[])[0].myRights, rights("mayReadItems", "mayRename"));
    await share(t, owner, id, { [team]: rights("mayReadItems") });

    await adminSetAccounts(t, { update: { [member.accountId]: { memberGroupIds: [] } } });
    const left = await reach(member);
    assert.equal(left.listed, false, "the former member's session no longer lists the owner");
    assert.equal(left.get[1].type, "accountNotFound", JSON.stringify(left.get));
    assert.notEqual(left.state, before.state);
    const states = await sessionStates(t, member);
    assert.equal(states.api, states.session);

    await adminSetAccounts(t, { update: { [member.accountId]: { memberGroupIds: [team] } } });
    const back = await reach(member);
    assert.equal(back.listed, true, "joining again gives access on the next request");
    assert.equal(back.get[0], "Mailbox/get");
  }));

Deno.test("isReadOnly and the session state follow every sharing change, in /jmap/session and in sessionState", () =>
  withApp(async (t) => {
    const [owner, a] = await createUsers(t, ["owner", "a"]);
    const first = (await createMailbox(t, owner, { name: "First" })).id as string;
    const second = (await createMailbox(t, owner, { name: "Second" })).id as string;
    // The state is a digest of the session: it changes with every change, and may come back to an
    // earlier value when the session does.
    let previous = "";
    const step = async (what: string, expected: { listed: boolean; readOnly?: boolean }) => {
      const states = await sessionStates(t, a);
      assert.equal(
        states.api,
        states.session,
        `${what}: an API response's sessionState is the session's state`,
      );
      assert.notEqual(states.session, previous, `${what}: the session state changed`);
      previous = states.session;
      const account = (await getSession(t, a.auth)).accounts[owner.accountId];
      assert.equal(account !== undefined, expected.listed, `${what}: listed`);
      if (expected.readOnly !== undefined) {
        assert.equal(account.isReadOnly, expected.readOnly, `${what}: isReadOnly`);
      }
    };
    await step("before sharing", { listed: false });
    // A patch of one key of shareWith, as RFC 9670 clients send it.
    const patched = await setOutcome(t, owner, {
      update: [first, { [`shareWith/${a.accountId}`]: rights("mayReadItems") }],
    });
    assert.equal(patched, undefined, JSON.stringify(patched));
    await step("read-only share", { listed: true, readOnly: true });
    await share(t, owner, first, { [a.accountId]: rights("mayReadItems", "maySetSeen") });
    await step("a write right added", { listed: true, readOnly: false });
    await share(t, owner, second, { [a.accountId]: rights("mayReadItems") });
    const union = (await getSession(t, a.auth)).accounts[owner.accountId];
    assert.equal(union.isReadOnly, false, "a write right on any mailbox makes the account writable");
    await share(t, owner, first, null);
    await step("the write share revoked", { listed: true, readOnly: true });
    await setOutcome(t, owner, { destroy: second });
    await step("the last shared mailbox destroyed", { listed: false });
    assert.equal(
      (await mailError(t, "Mailbox/get", { accountId: owner.accountId }, a)).type,
      "accountNotFound",
    );
  }));

Deno.test("only the owner or a holder of mayShare changes shareWith; grants must name other existing accounts", () =>
  withApp(async (t) => {
    const [owner, sharer, reader, stranger] = await createUsers(t, ["owner", "sharer", "reader", "stranger"]);
    const shared = (await createMailbox(t, owner, { name: "Shared" })).id as string;
    const other = (await createMailbox(t, owner, { name: "Other" })).id as string;
    await share(t, owner, shared, {
      [sharer.accountId]: rights("mayReadItems", "mayShare"),
      [reader.accountId]: rights(...RIGHTS.filter((r) => r !== "mayShare")),
    });
    await share(t, owner, other, { [sharer.accountId]: rights("mayReadItems") });
    const attempt = (who: Who, id: string, shareWith: Obj | null) =>
      setOutcome(t, who, { update: [id, { shareWith }] }, owner.accountId);

    const everyOther = await attempt(reader, shared, { [reader.accountId]: rights(...RIGHTS) });
    assertOutcome(everyOther, false, "every right but mayShare, changing shareWith");
    assertOutcome(
      await attempt(sharer, other, { [stranger.accountId]: rights("mayReadItems") }),
      false,
      "mayShare held on another mailbox",
    );
    const strangerTry = await mailError(t, "Mailbox/set", {
      accountId: owner.accountId,
      update: { [shared]: { shareWith: null } },
    }, stranger);
    assert.equal(strangerTry.type, "accountNotFound");

    const byHolder = await attempt(sharer, shared, {
      [sharer.accountId]: rights("mayReadItems", "mayShare"),
      [reader.accountId]: rights("mayReadItems"),
      [stranger.accountId]: rights("mayReadItems"),
    });
    assertOutcome(byHolder, true, "a holder of mayShare changing shareWith");
    assert.ok(
      stranger.accountId in (await getSession(t, stranger.auth)).accounts,
      "the new grantee sees the account",
    );

    for (
      const [label, shareWith] of [
        ["an account that does not exist", { zzzzzz: rights("mayReadItems") }],
        ["the owner", { [owner.accountId]: rights("mayReadItems") }],
        ["an unknown right", { [reader.accountId]: { mayFly: true } }],
        ["a right that is not a boolean", { [reader.accountId]: { mayReadItems: "yes" } }],
      ] as const
    ) {
      const error = await setOutcome(t, owner, { update: [shared, { shareWith }] });
      assert.equal(error?.type, "invalidProperties", `${label}: ${JSON.stringify(error)}`);
      assert.deepEqual(error?.properties, ["shareWith"], label);
    }
    const kept = (await mailboxesByName(t, owner)).Shared.shareWith as Obj;
    assert.deepEqual(
      Object.keys(kept).sort(),
      [sharer.accountId, reader.accountId, stranger.accountId].sort(),
    );
  }));

Deno.test("a child created by a holder of mayCreateChild is answered as created, with its id, and is in the owner's account", () =>
  withApp(async (t) => {
    const [owner, grantee] = await createUsers(t, ["owner", "grantee"]);
    const parent = (await createMailbox(t, owner, { name: "Parent" })).id as string;
    await share(t, owner, parent, { [grantee.accountId]: rights("mayReadItems", "mayCreateChild") });
    const { methodResponses } = await mailRequest(t, [[
      "Mailbox/set",
      { accountId: owner.accountId, create: { kid: { name: "Kid", parentId: parent } } },
      "0",
    ]], grantee.auth);
    const [name, result] = methodResponses[0];
    const answer = name === "error" ? `error ${result.type}` : name;
    const created = (result.created as Record<string, Obj> | null)?.kid;
    const kid = (await mailboxesByName(t, owner)).Kid;
    // Both facts at once: a serverFail after the write was made would leave a mailbox the client never heard of.
    assert.deepEqual(
      { answer, createdId: typeof created?.id, inOwnersAccount: kid?.parentId === parent },
      { answer: "Mailbox/set", createdId: "string", inOwnersAccount: true },
      JSON.stringify(result),
    );
    assert.equal(created!.id, kid.id);
  }));
