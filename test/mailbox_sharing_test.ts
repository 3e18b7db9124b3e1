/**
 * The stale-ACL report (Stalwart 0.16.2) with mailbox sharing: a user whose sharers were deleted kept
 * a valid OIDC token, yet /jmap/session answered 401 with a Basic challenge. Here the report's steps
 * run against a server process; grants forced in with foreign keys off are skipped, logged, counted
 * and repaired; and a bad token is only ever challenged as a Bearer token.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { decodeId, encodeId } from "../src/model/ids.ts";
import { openStore } from "../src/store/mod.ts";
import { captureJmapLogs, cli, startServerProcess, type TestApp } from "./helpers.ts";
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
  rights,
  serverTarget,
  share,
  type Target,
  userAccessToken,
  type Who,
} from "./mail_helpers.ts";
import { inProcessFetch, registerClient, registerClientWithCli, TestBrowser } from "./oauth_helpers.ts";

const SCOPE = "openid urn:ietf:params:jmap:mail";

/** Acl rows that name any of `accountIds` as owner or grantee, read without writing the database. */
function aclRowsNaming(databasePath: string, accountIds: number[]): number {
  const db = new DatabaseSync(databasePath, { readOnly: true });
  try {
    const marks = accountIds.map(() => "?").join(", ");
    const row = db.prepare(
      `SELECT count(*) AS n FROM acl WHERE owner_id IN (${marks}) OR grantee_id IN (${marks})`,
    ).get(...accountIds, ...accountIds) as { n: number };
    return Number(row.n);
  } finally {
    db.close();
  }
}

/** GET `path` with a Bearer token; returns the status and the body's text. */
async function bearerGet(
  target: Target,
  path: string,
  token: string,
): Promise<{ status: number; text: string }> {
  const response = await target.fetch(path, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, text: await response.text() };
}

/** Acting as A with a Bearer token instead of Basic credentials. */
const withToken = (who: Who, token: string): Who => ({ ...who, auth: `Bearer ${token}` });

Deno.test("the report's steps against a server process: after the sharers are deleted, the token still opens every endpoint and no acl row is left", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-sharing-" });
  const server = await startServerProcess(dataDir);
  const target = serverTarget(server.url);
  let stopped = false;
  try {
    const [client, [a, b, c]] = await Promise.all([
      registerClientWithCli(dataDir, { requireConsent: false }),
      createUsers(target, ["a", "b", "c"]),
    ]);
    // B shares its Inbox read-only; C shares a new mailbox with a write right.
    await share(target, b, (await mailboxesByName(target, b)).Inbox.id as string, {
      [a.accountId]: rights("mayReadItems"),
    });
    const projects = await createMailbox(target, c, { name: "Projects" });
    await share(target, c, projects.id as string, { [a.accountId]: rights("mayReadItems", "mayAddItems") });
    const removed = [decodeId(b.accountId)!, decodeId(c.accountId)!];
    assert.equal(aclRowsNaming(`${dataDir}/postern.db`, removed), 2);

    const token = await userAccessToken(target, new TestBrowser(server.url), client, {
      username: a.emailAddress,
      scope: SCOPE,
    });
    const asA = withToken(a, token);
    const before = await getSession(target, asA.auth);
    assert.deepEqual(Object.keys(before.accounts).sort(), [a.accountId, b.accountId, c.accountId].sort());
    for (const [sharer, readOnly] of [[b, true], [c, false]] as const) {
      const account = before.accounts[sharer.accountId];
      assert.equal(account.isPersonal, false);
      assert.equal(account.isReadOnly, readOnly, `${sharer.emailAddress}`);
      assert.ok(MAIL in (account.accountCapabilities as Obj), "a shared account has the mail capability");
    }
    const shared = await mailboxesByName(target, asA, b.accountId);
    assert.deepEqual(Object.keys(shared), ["Inbox"]);

    // Delete B through JMAP on the server and C with the CLI in another process.
    await adminSetAccounts(target, { destroy: [b.accountId] });
    const deleted = await cli(["--data", dataDir, "delete", "account", c.accountId, "--json"]);
    assert.equal(deleted.code, 0, deleted.stderr);

    for (const path of ["/auth/userinfo", "/api/account", "/api/schema", "/jmap/session"]) {
      const { status, text } = await bearerGet(target, path, token);
      assert.equal(status, 200, `${path}: ${text.slice(0, 300)}`);
    }
    const userinfo = JSON.parse((await bearerGet(target, "/auth/userinfo", token)).text);
    assert.equal(userinfo.sub, a.accountId);
    const after = await getSession(target, asA.auth);
    assert.deepEqual(Object.keys(after.accounts), [a.accountId]);
    assert.notEqual(after.state, before.state);
    // An API response reports the session state the session resource shows now (RFC 8620 §3.4).
    const { sessionState } = await mailRequest(target, [[
      "Mailbox/get",
      { accountId: a.accountId, ids: [] },
      "0",
    ]], asA.auth);
    assert.equal(sessionState, after.state, "sessionState of an API response is the session's current state");
    const gone = await mailError(target, "Mailbox/get", { accountId: b.accountId, ids: null }, asA);
    assert.equal(gone.type, "accountNotFound");

    await server.stop();
    stopped = true;
    assert.equal(aclRowsNaming(`${dataDir}/postern.db`, removed), 0);
    const store = openStore(`${dataDir}/postern.db`);
    try {
      const report = await store.integrity.check();
      assert.equal(report.ok, true, JSON.stringify(report));
    } finally {
      store.close();
    }
  } finally {
    if (!stopped) await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

async function skippedMetric(t: TestApp): Promise<number> {
  const response = await t.fetch("/metrics");
  const text = await response.text();
  assert.equal(response.status, 200, text);
  const line = /^postern_session_skipped_accounts_total(?:\{[^}]*\})? (\d+)/m.exec(text);
  assert.ok(line, "the metric postern_session_skipped_accounts_total is exported");
  return Number(line[1]);
}

/** Forces in the report's rows: grants to `grantee` from owners 39 and 40 and their mailboxes, none of which exist. */
function forceStaleGrants(t: TestApp, grantee: number): void {
  t.services.store.unsafeExec(`PRAGMA foreign_keys = OFF;
    INSERT INTO acl (grantee_id, owner_id, object_type, object_id, rights, mailbox_id)
    VALUES (${grantee}, 39, 'Mailbox', 9039, 1, 9039), (${grantee}, 40, 'Mailbox', 9040, 1023, 9040);
    PRAGMA foreign_keys = ON;`);
}

/** A client of the in-process app and an access token of `who` from the code flow. */
async function tokenOf(t: TestApp, who: Who): Promise<string> {
  const name = `Mail app of ${who.emailAddress}`;
  const client = await registerClient(t.services, { name, requireConsent: false });
  const browser = new TestBrowser("http://127.0.0.1:8080", inProcessFetch(t));
  return await userAccessToken(t, browser, client, { username: who.emailAddress, scope: SCOPE });
}

Deno.test("grants naming owners that do not exist are skipped by the session, logged and counted, and db check --repair removes them", () =>
  withApp(async (t) => {
    const { stop } = await captureJmapLogs();
    try {
      const [a, b] = await createUsers(t, ["a", "b"]);
      await share(t, b, (await mailboxesByName(t, b)).Inbox.id as string, {
        [a.accountId]: rights("mayReadItems"),
      });
      const token = await tokenOf(t, a);
      const asA = withToken(a, token);
      const metricBefore = await skippedMetric(t);

      // The report's rows: grants to A from owners 39 and 40 (and their mailboxes), which do not exist.
      const grantee = decodeId(a.accountId)!;
      forceStaleGrants(t, grantee);

      for (const path of ["/jmap/session", "/api/account", "/auth/userinfo", "/api/schema"]) {
        const { status, text } = await bearerGet(t, path, token);
        assert.equal(status, 200, `${path}: ${text.slice(0, 300)}`);
      }
      const session = await getSession(t, asA.auth);
      assert.deepEqual(Object.keys(session.accounts).sort(), [a.accountId, b.accountId].sort());
      assert.ok((await skippedMetric(t)) >= metricBefore + 2, "both missing owners are counted");
      const warned = (await stop()).filter((r) => r.level === "warning");
      for (const owner of [39, 40]) {
        assert.ok(
          warned.some((r) => r.properties.ownerId === owner && r.properties.accountId === grantee),
          `a warning names owner ${owner}: ${JSON.stringify(warned.map((r) => r.properties))}`,
        );
      }

      assert.equal((await mailboxesByName(t, asA, b.accountId)).Inbox.name, "Inbox");

      const report = await t.services.store.integrity.check();
      assert.equal(report.ok, false);
      assert.ok(
        report.dangling.some((d) => d.table === "acl" && /owner_id=39/.test(d.detail)),
        JSON.stringify(report),
      );
      const repaired = await t.services.store.integrity.check({ repair: true });
      assert.ok(repaired.repaired >= 2, JSON.stringify(repaired));
      assert.equal((await t.services.store.integrity.check()).ok, true);
      const grants = await t.services.store.mailboxes.grantsHeld([grantee]);
      assert.deepEqual(grants.map((g) => g.ownerId), [decodeId(b.accountId)]);

      const counted = await skippedMetric(t);
      assert.deepEqual(
        Object.keys((await getSession(t, asA.auth)).accounts).sort(),
        [a.accountId, b.accountId].sort(),
      );
      assert.equal(await skippedMetric(t), counted, "nothing is skipped once the rows are gone");
    } finally {
      await stop();
    }
  }));

Deno.test("Mailbox calls on an account that only a stale grant names are accountNotFound, not an empty account", () =>
  withApp(async (t) => {
    const [a] = await createUsers(t, ["a"]);
    const asA = withToken(a, await tokenOf(t, a));
    forceStaleGrants(t, decodeId(a.accountId)!);
    // RFC 8620 §3.6.2: accountNotFound when "the accountId does not correspond to a valid account".
    for (const owner of [39, 40]) {
      for (const [name, args] of [["Mailbox/get", { ids: null }], ["Mailbox/query", {}]] as const) {
        const { methodResponses } = await mailRequest(t, [[
          name,
          { accountId: encodeId(owner), ...args },
          "0",
        ]], asA.auth);
        const [answered, result] = methodResponses[0];
        assert.deepEqual(
          [answered, result.type],
          ["error", "accountNotFound"],
          `${name} on account ${encodeId(owner)} (owner ${owner} does not exist): ${JSON.stringify(result)}`,
        );
      }
    }
  }));

Deno.test("an invalid Bearer token on /jmap/session gets 401 with only a Bearer challenge, never Basic", () =>
  withApp(async (t) => {
    const [a] = await createUsers(t, ["a"]);
    const token = await tokenOf(t, a);
    assert.equal((await bearerGet(t, "/jmap/session", token)).status, 200);
    const tampered = token.slice(0, -2) + (token.endsWith("AA") ? "BB" : "AA");
    for (const bad of ["not-a-token", tampered, "eyJhbGciOiJub25lIn0.e30."]) {
      for (const path of ["/jmap/session", "/api/account"]) {
        const response = await t.fetch(path, { headers: { authorization: `Bearer ${bad}` } });
        const text = await response.text();
        assert.equal(response.status, 401, `${path} with ${bad.slice(0, 20)}…: ${text.slice(0, 200)}`);
        const challenge = response.headers.get("www-authenticate") ?? "";
        assert.match(challenge, /^Bearer\b/, `${path}: ${challenge}`);
        assert.doesNotMatch(challenge, /Basic/i, `${path}: ${challenge}`);
        assert.match(challenge, /error="invalid_token"/);
      }
    }
    // The user's own Mailbox calls with the real token still work next to the refusals.
    const mine = await mailCall(t, "Mailbox/get", { ids: null }, withToken(a, token));
    assert.equal((mine.list as Obj[]).length, 6);
  }));

Deno.test("deleting a grantee or a grantee group leaves no grant behind and every session answers", () =>
  withApp(async (t) => {
    const [owner, a, member] = await createUsers(t, ["owner", "a", "member"]);
    const { created } = await adminSetAccounts(t, {
      create: { team: { "@type": "Group", name: "team", domainId: "b" } },
    });
    const team = (created as Record<string, Obj>).team.id as string;
    await adminSetAccounts(t, { update: { [member.accountId]: { memberGroupIds: [team] } } });
    const inbox = (await mailboxesByName(t, owner)).Inbox.id as string;
    await share(t, owner, inbox, { [a.accountId]: rights("mayReadItems"), [team]: rights("mayReadItems") });
    assert.ok(owner.accountId in (await getSession(t, member.auth)).accounts);
    const stateBefore = (await mailCall(t, "Mailbox/get", { ids: [] }, owner)).state;

    await adminSetAccounts(t, { destroy: [a.accountId, team] });
    assert.deepEqual(
      (await mailboxesByName(t, owner)).Inbox.shareWith,
      {},
      "shareWith lists no deleted grantee",
    );
    const memberSession = await getSession(t, member.auth);
    assert.deepEqual(
      Object.keys(memberSession.accounts),
      [member.accountId],
      "the group's grant went with it",
    );
    const { sessionState } = await mailRequest(t, [[
      "Mailbox/get",
      { accountId: member.accountId, ids: [] },
      "0",
    ]], member.auth);
    assert.equal(sessionState, memberSession.state);
    assert.equal(
      (await mailError(t, "Mailbox/get", { accountId: owner.accountId }, member)).type,
      "accountNotFound",
    );
    assert.equal((await t.services.store.integrity.check()).ok, true);
    // The owner's mailbox changed (its shareWith), so a client refreshing it learns so.
    const changes = await mailCall(t, "Mailbox/changes", { sinceState: stateBefore }, owner);
    assert.deepEqual(changes.updated, [inbox], JSON.stringify(changes));
  }));

Deno.test("a shared child whose parent is not shared appears at the top level to the grantee", () =>
  withApp(async (t) => {
    const [owner, a] = await createUsers(t, ["owner", "a"]);
    const parent = await createMailbox(t, owner, { name: "Parent" });
    const child = await createMailbox(t, owner, { name: "Child", parentId: parent.id });
    await share(t, owner, child.id as string, { [a.accountId]: rights("mayReadItems") });
    const seen = await mailboxesByName(t, a, owner.accountId);
    assert.deepEqual(Object.keys(seen), ["Child"]);
    assert.equal(seen.Child.parentId, null);
    const top = await mailCall(
      t,
      "Mailbox/query",
      { accountId: owner.accountId, filter: { parentId: null } },
      a,
    );
    assert.deepEqual(top.ids, [child.id]);
  }));

Deno.test("renaming an account that shares with a user moves the user's session state everywhere at once", () =>
  withApp(async (t) => {
    const [owner, user] = await createUsers(t, ["sharer", "reader"]);
    const inbox = (await mailboxesByName(t, owner)).Inbox.id as string;
    await share(t, owner, inbox, { [user.accountId]: rights("mayReadItems") });
    const before = await getSession(t, user.auth);
    assert.equal((before.accounts[owner.accountId] as Obj).name, "sharer@example.org");
    const { sessionState: apiBefore } = await mailRequest(t, [["Core/echo", {}, "0"]], user.auth);
    assert.equal(apiBefore, before.state);

    await adminSetAccounts(t, { update: { [owner.accountId]: { name: "renamed" } } });
    const after = await getSession(t, user.auth);
    assert.equal((after.accounts[owner.accountId] as Obj).name, "renamed@example.org");
    assert.notEqual(after.state, before.state);
    // The state in API responses is the session's, on the very next request.
    const { sessionState: apiAfter } = await mailRequest(t, [["Core/echo", {}, "0"]], user.auth);
    assert.equal(apiAfter, after.state);
  }));
