/**
 * Sending as a group (x:Account sendAsGroupIds): an administrator lets a member send as a group; the
 * member's identities then include the group's addresses and EmailSubmission takes them as From and
 * MAIL FROM. A member without the right and a non-member get forbiddenFrom / forbiddenMailFrom; the
 * right is the administrator's to give (a user cannot give it to themselves), must name one of the
 * account's groups, goes with the membership, and a revoked right holds from the next submission.
 */
import assert from "node:assert/strict";
import { call as managementCall, create, notCreated, notUpdated, withApp } from "./jmap_helpers.ts";
import type { TestApp } from "./helpers.ts";
import { adminSetAccounts, createUsers, mailCall, type Obj, type Who } from "./mail_helpers.ts";
import { call, draft } from "./submission_helpers.ts";

/** A team group with an alias and three users: alice may send as it, bob is a member, carol is not. */
async function team(t: TestApp) {
  const group = await create(t, "x:Account", {
    "@type": "Group",
    name: "team",
    domainId: "b",
    description: "The Team",
    aliases: ["help@example.org"],
  });
  const teamId = group.id as string;
  const [alice, bob] = await createUsers(t, ["alice", "bob"], { memberGroupIds: [teamId] });
  const [carol] = await createUsers(t, ["carol"]);
  await adminSetAccounts(t, { update: { [alice.accountId]: { sendAsGroupIds: [teamId] } } });
  return { teamId, alice, bob, carol };
}

async function identities(t: TestApp, who: Who): Promise<Obj[]> {
  return (await call(t, who, "Identity/get", { ids: null })).list as Obj[];
}

/** Submits a draft from `from` (an address) to carol; the /set answer. */
async function submit(t: TestApp, who: Who, from: string, envelopeFrom?: string): Promise<Obj> {
  const own = (await identities(t, who)).find((i) => i.email === (envelopeFrom ?? from)) ??
    (await identities(t, who))[0];
  const emailId = await draft(t, who, {
    from: [{ name: null, email: from }],
    to: [{ name: null, email: "carol@example.org" }],
    subject: `from ${from}`,
  });
  return await call(t, who, "EmailSubmission/set", {
    create: {
      s: {
        identityId: own.id,
        emailId,
        ...(envelopeFrom
          ? { envelope: { mailFrom: { email: envelopeFrom }, rcptTo: [{ email: "carol@example.org" }] } }
          : {}),
      },
    },
  });
}

function refusal(result: Obj): string | undefined {
  return ((result.notCreated as Record<string, Obj> | null)?.s?.type) as string | undefined;
}

async function subjects(t: TestApp, who: Who): Promise<string[]> {
  const { ids } = await mailCall(t, "Email/query", {}, who);
  const { list } = await mailCall(t, "Email/get", { ids, properties: ["subject"] }, who);
  return (list as Obj[]).map((e) => e.subject as string).sort();
}

Deno.test("a member with the right sends as the group; a member without it and a non-member cannot", () =>
  withApp(async (t) => {
    const { teamId, alice, bob, carol } = await team(t);
    const read = await managementCall(t, "x:Account/get", { ids: [alice.accountId] }, alice);
    assert.deepEqual((read.list as Obj[])[0].sendAsGroupIds, { "0": teamId });

    // Alice's identities: her own and the group's two addresses, named after the group.
    const mine = (await identities(t, alice)).map((i) => [i.email, i.name, i.mayDelete]).sort();
    assert.deepEqual(mine, [
      ["alice@example.org", "", false],
      ["help@example.org", "The Team", false],
      ["team@example.org", "The Team", false],
    ]);
    assert.deepEqual((await identities(t, bob)).map((i) => i.email), ["bob@example.org"]);

    // Identity/set: Alice may add one for a group address; Bob and Carol get forbiddenFrom.
    const made = await call(t, alice, "Identity/set", {
      create: { i: { email: "Help@example.org", name: "Help" } },
    });
    assert.equal((made.created as Record<string, Obj>).i.mayDelete, true);
    for (const who of [bob, carol]) {
      const refused = await call(t, who, "Identity/set", { create: { i: { email: "team@example.org" } } });
      assert.equal((refused.notCreated as Record<string, Obj>).i.type, "forbiddenFrom");
    }

    // EmailSubmission: Alice's From and envelope as the group go through; the others' are refused.
    assert.equal(refusal(await submit(t, alice, "team@example.org")), undefined);
    assert.equal(refusal(await submit(t, alice, "help@example.org", "help@example.org")), undefined);
    assert.deepEqual(await subjects(t, carol), ["from help@example.org", "from team@example.org"]);
    assert.equal(refusal(await submit(t, bob, "team@example.org")), "forbiddenFrom");
    assert.equal(refusal(await submit(t, carol, "team@example.org")), "forbiddenFrom");
    assert.equal(refusal(await submit(t, bob, "bob@example.org", "team@example.org")), "forbiddenMailFrom");
  }));

Deno.test("a revoked right holds from the next submission, and the right goes with the membership", () =>
  withApp(async (t) => {
    const { teamId, alice, carol } = await team(t);
    assert.equal(refusal(await submit(t, alice, "team@example.org")), undefined);
    await adminSetAccounts(t, { update: { [alice.accountId]: { sendAsGroupIds: [] } } });
    assert.equal(refusal(await submit(t, alice, "team@example.org")), "forbiddenFrom");
    assert.equal(
      refusal(await submit(t, alice, "alice@example.org", "team@example.org")),
      "forbiddenMailFrom",
    );
    assert.deepEqual((await identities(t, alice)).map((i) => i.email), ["alice@example.org"]);
    assert.deepEqual(await subjects(t, carol), ["from team@example.org"]);

    // Given again, then the membership ends: the right is gone with it, and stays gone on rejoining.
    await adminSetAccounts(t, { update: { [alice.accountId]: { sendAsGroupIds: [teamId] } } });
    assert.equal(refusal(await submit(t, alice, "team@example.org")), undefined);
    await adminSetAccounts(t, { update: { [alice.accountId]: { memberGroupIds: [] } } });
    await adminSetAccounts(t, { update: { [alice.accountId]: { memberGroupIds: [teamId] } } });
    const read = await managementCall(t, "x:Account/get", { ids: [alice.accountId] });
    assert.deepEqual((read.list as Obj[])[0].sendAsGroupIds, {});
    assert.equal(refusal(await submit(t, alice, "team@example.org")), "forbiddenFrom");

    // Deleting the group takes the right (and its addresses) away too.
    await adminSetAccounts(t, { update: { [alice.accountId]: { sendAsGroupIds: [teamId] } } });
    await adminSetAccounts(t, { destroy: [teamId] });
    assert.deepEqual((await identities(t, alice)).map((i) => i.email), ["alice@example.org"]);
    assert.equal(refusal(await submit(t, alice, "team@example.org")), "forbiddenFrom");
  }));

Deno.test("only an administrator gives the right to send as a group", () =>
  withApp(async (t) => {
    const { teamId, alice, bob } = await team(t);
    // Bob cannot give it to himself, nor take Alice's away.
    const self = await notUpdated(t, "x:Account", bob.accountId, { sendAsGroupIds: [teamId] }, bob);
    assert.equal(self.type, "forbidden");
    assert.match(self.description as string, /"sendAsGroupIds"/);
    const other = await notUpdated(t, "x:Account", alice.accountId, { sendAsGroupIds: [] }, bob);
    assert.equal(other.type, "forbidden");
    // Alice, who has it, cannot extend it either (a second group), nor create an account with it.
    const ops = await create(t, "x:Account", { "@type": "Group", name: "ops", domainId: "b" });
    const more = await notUpdated(
      t,
      "x:Account",
      alice.accountId,
      { sendAsGroupIds: [teamId, ops.id] },
      alice,
    );
    assert.equal(more.type, "forbidden");
    const made = await notCreated(t, "x:Account", {
      "@type": "User",
      name: "mallory",
      domainId: "b",
      memberGroupIds: [teamId],
      sendAsGroupIds: [teamId],
    }, alice);
    assert.equal(made.type, "forbidden");
    assert.deepEqual((await identities(t, bob)).map((i) => i.email), ["bob@example.org"]);
  }));

Deno.test("the right to send as a group must name one of the user's groups", () =>
  withApp(async (t) => {
    const { teamId, bob, carol } = await team(t);
    const cases: [string, Obj][] = [
      ["not a member", { sendAsGroupIds: [teamId] }],
      ["a user, not a group", { memberGroupIds: [], sendAsGroupIds: [bob.accountId] }],
      ["not an id", { sendAsGroupIds: ["not an id!"] }],
      ["not a list", { sendAsGroupIds: teamId }],
      ["a missing account", { sendAsGroupIds: ["zzzzzz"] }],
    ];
    for (const [what, patch] of cases) {
      const error = await notUpdated(t, "x:Account", carol.accountId, patch);
      assert.equal(error.type, "invalidProperties", `${what}: ${JSON.stringify(error)}`);
      assert.deepEqual(error.properties, ["sendAsGroupIds"], `${what}: ${JSON.stringify(error)}`);
    }
    // A group sends as no group: the field is not one of a Group's.
    const ops = await create(t, "x:Account", { "@type": "Group", name: "ops", domainId: "b" });
    const group = await notUpdated(t, "x:Account", ops.id as string, {
      memberGroupIds: [teamId],
      sendAsGroupIds: [teamId],
    });
    assert.equal(group.type, "invalidProperties", JSON.stringify(group));
    // Creating a member with the right in one step works; without the membership it does not.
    const dave = await create(t, "x:Account", {
      "@type": "User",
      name: "dave",
      domainId: "b",
      memberGroupIds: [teamId],
      sendAsGroupIds: [teamId],
    });
    assert.deepEqual(dave.sendAsGroupIds, { "0": teamId });
    const erin = await notCreated(t, "x:Account", {
      "@type": "User",
      name: "erin",
      domainId: "b",
      sendAsGroupIds: [teamId],
    });
    assert.equal(erin.type, "invalidProperties", JSON.stringify(erin));
    const read = await managementCall(t, "x:Account/get", { ids: [carol.accountId] });
    assert.deepEqual((read.list as Obj[])[0].sendAsGroupIds, {});
  }));
