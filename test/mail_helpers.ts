/**
 * Helpers of the mailbox tests: JMAP mail calls as a user, against an in-process app or a server
 * process; users created in one request; mailboxes by name; sharing; OAuth access tokens for a user.
 */
import assert from "node:assert/strict";
import { basic, PASSWORD, type TestApp } from "./helpers.ts";
import { ADMIN, CORE, type Invocation, type JmapResult, MAIL, MANAGEMENT, withApp } from "./jmap_helpers.ts";
import { pkce, type TestBrowser, type TestClient } from "./oauth_helpers.ts";

/** A JSON object of a response. */
export type Obj = Record<string, unknown>;

/** Anything that answers HTTP requests by path: a TestApp, or a server process (see {@link serverTarget}). */
export interface Target {
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

/** A server process as a {@link Target}. */
export function serverTarget(url: string): Target {
  return { fetch: (path, init) => fetch(url + path, init) };
}

/** A user as these tests use one: their account id and the Authorization header they send. */
export interface Who {
  accountId: string;
  auth: string;
  emailAddress: string;
}

/** The ten rights of RFC 8621 §2 (MailboxRights) and RFC 9670's mayShare, in wire order. */
export const RIGHTS = [
  "mayReadItems",
  "mayAddItems",
  "mayRemoveItems",
  "maySetSeen",
  "maySetKeywords",
  "mayCreateChild",
  "mayRename",
  "mayDelete",
  "maySubmit",
  "mayShare",
] as const;

/** A MailboxRights object with exactly `granted` true. */
export function rights(...granted: string[]): Record<string, boolean> {
  return Object.fromEntries(RIGHTS.map((r) => [r, granted.includes(r)]));
}

/** The default mailboxes of a new user with their roles, in sortOrder. */
export const DEFAULT_MAILBOXES = [
  ["Inbox", "inbox"],
  ["Drafts", "drafts"],
  ["Sent", "sent"],
  ["Archive", "archive"],
  ["Junk", "junk"],
  ["Trash", "trash"],
] as const;

/** Runs `body` against a fresh app with two users, alice and bob. */
export function withAliceAndBob(body: (t: TestApp, alice: Who, bob: Who) => Promise<void>): Promise<void> {
  return withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    await body(t, alice, bob);
  });
}

/** Ids in a stable order, to compare them as sets. */
export function sortedIds(ids: unknown): string[] {
  return [...(ids as string[])].sort();
}

/** The Mailbox state of `who`'s own account. */
export async function mailboxState(target: Target, who: Who): Promise<string> {
  return (await mailCall(target, "Mailbox/get", { ids: [] }, who)).state as string;
}

/** RFC 9670's capability (Principal, ShareNotification). */
export const PRINCIPALS = "urn:ietf:params:jmap:principals";

/** Sends a JMAP request with the core, mail and principals capabilities, asserting HTTP 200 and JSON. */
export async function mailRequest(
  target: Target,
  methodCalls: Invocation[],
  auth: string,
): Promise<JmapResult> {
  const response = await target.fetch("/jmap", {
    method: "POST",
    headers: { authorization: auth, "content-type": "application/json" },
    body: JSON.stringify({ using: [CORE, MAIL, PRINCIPALS], methodCalls }),
  });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  assert.equal(response.headers.get("content-type"), "application/json");
  return JSON.parse(text);
}

/** One mail method call as `who`, in their own account unless `args` name another; returns its arguments. */
export async function mailCall(target: Target, name: string, args: Obj, who: Who): Promise<Obj> {
  const { methodResponses } = await mailRequest(
    target,
    [[name, { accountId: who.accountId, ...args }, "c0"]],
    who.auth,
  );
  assert.equal(methodResponses.length, 1, JSON.stringify(methodResponses));
  const [answered, result] = methodResponses[0];
  assert.equal(answered, name, JSON.stringify(result));
  return result;
}

/** One mail method call expected to fail at method level; returns the error's arguments. */
export async function mailError(target: Target, name: string, args: Obj, who: Who): Promise<Obj> {
  const { methodResponses } = await mailRequest(
    target,
    [[name, { accountId: who.accountId, ...args }, "c0"]],
    who.auth,
  );
  assert.equal(methodResponses.length, 1, JSON.stringify(methodResponses));
  const [answered, result] = methodResponses[0];
  assert.equal(answered, "error", `${name} was expected to fail: ${JSON.stringify(result)}`);
  return result;
}

/** The mailboxes `who` sees in an account (their own by default), by name. */
export async function mailboxesByName(
  target: Target,
  who: Who,
  accountId = who.accountId,
): Promise<Record<string, Obj>> {
  const got = await mailCall(target, "Mailbox/get", { accountId, ids: null }, who);
  return Object.fromEntries((got.list as Obj[]).map((m) => [m.name as string, m]));
}

/** Mailbox/set as `who` (in their own account unless `args` name another). */
export function setMailboxes(target: Target, who: Who, args: Obj): Promise<Obj> {
  return mailCall(target, "Mailbox/set", args, who);
}

/** Creates one mailbox and returns the created object, failing with the SetError if it was refused. */
export async function createMailbox(
  target: Target,
  who: Who,
  object: Obj,
  accountId = who.accountId,
): Promise<Obj> {
  const result = await setMailboxes(target, who, { accountId, create: { new: object } });
  assert.equal(result.notCreated, null, JSON.stringify(result.notCreated));
  const created = (result.created as Record<string, Obj>).new;
  assert.equal(typeof created?.id, "string", JSON.stringify(result));
  return created;
}

/** What happened to one create, update or destroy: the SetError, or undefined when it succeeded. */
export async function setOutcome(
  target: Target,
  who: Who,
  operation: { create: Obj } | { update: [string, Obj] } | { destroy: string },
  accountId = who.accountId,
): Promise<Obj | undefined> {
  if ("create" in operation) {
    const r = await setMailboxes(target, who, { accountId, create: { new: operation.create } });
    return (r.notCreated as Record<string, Obj> | null)?.new;
  }
  if ("update" in operation) {
    const [id, patch] = operation.update;
    const r = await setMailboxes(target, who, { accountId, update: { [id]: patch } });
    return (r.notUpdated as Record<string, Obj> | null)?.[id];
  }
  const r = await setMailboxes(target, who, { accountId, destroy: [operation.destroy] });
  return (r.notDestroyed as Record<string, Obj> | null)?.[operation.destroy];
}

/** The owner replaces the grants of one of their mailboxes (shareWith null revokes them all). */
export async function share(
  target: Target,
  owner: Who,
  mailboxId: string,
  shareWith: Record<string, Record<string, boolean>> | null,
): Promise<void> {
  const error = await setOutcome(target, owner, { update: [mailboxId, { shareWith }] });
  assert.equal(error, undefined, JSON.stringify(error));
}

/** Creates users in example.org in one x:Account/set as the admin (password {@link PASSWORD}). */
export async function createUsers(target: Target, names: string[], extra: Obj = {}): Promise<Who[]> {
  const create = Object.fromEntries(names.map((name) => [name, {
    "@type": "User",
    name,
    domainId: "b",
    roles: { "0": "user" },
    credentials: { "0": { "@type": "Password", secret: PASSWORD } },
    ...extra,
  }]));
  const response = await target.fetch("/jmap", {
    method: "POST",
    headers: { authorization: ADMIN, "content-type": "application/json" },
    body: JSON.stringify({
      using: [CORE, MANAGEMENT],
      methodCalls: [["x:Account/set", { accountId: "b", create }, "0"]],
    }),
  });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  const [[name, result]] = (JSON.parse(text) as JmapResult).methodResponses;
  assert.equal(name, "x:Account/set", text);
  assert.equal(result.notCreated, null, text);
  const created = result.created as Record<string, Obj>;
  return names.map((n) => {
    const emailAddress = `${n}@example.org`;
    return { accountId: created[n].id as string, auth: basic(emailAddress, PASSWORD), emailAddress };
  });
}

/** Runs x:Account/set as the admin and asserts every operation went through. */
export async function adminSetAccounts(target: Target, args: Obj): Promise<Obj> {
  const response = await target.fetch("/jmap", {
    method: "POST",
    headers: { authorization: ADMIN, "content-type": "application/json" },
    body: JSON.stringify({
      using: [CORE, MANAGEMENT],
      methodCalls: [["x:Account/set", { accountId: "b", ...args }, "0"]],
    }),
  });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  const [[name, result]] = (JSON.parse(text) as JmapResult).methodResponses;
  assert.equal(name, "x:Account/set", text);
  for (const failed of ["notCreated", "notUpdated", "notDestroyed"]) assert.equal(result[failed], null, text);
  return result;
}

/** The session resource as `auth` sees it (asserting 200). */
export async function getSession(
  target: Target,
  auth: string,
): Promise<{ accounts: Record<string, Obj>; state: string } & Obj> {
  const response = await target.fetch("/jmap/session", { headers: { authorization: auth } });
  const text = await response.text();
  assert.equal(
    response.status,
    200,
    `${text} (www-authenticate: ${response.headers.get("www-authenticate")})`,
  );
  return JSON.parse(text);
}

/**
 * Signs `username` in through the code flow in `browser` and redeems the code with `client`; returns
 * the access token.
 */
export async function userAccessToken(
  target: Target,
  browser: TestBrowser,
  client: TestClient,
  options: { username: string; scope: string; password?: string },
): Promise<string> {
  const { verifier, challenge } = pkce();
  const query = new URLSearchParams({
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    response_type: "code",
    scope: options.scope,
    state: "s",
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  const redirect = await browser.authorize(`/auth/authorize?${query}`, {
    username: options.username,
    password: options.password ?? PASSWORD,
  });
  const code = redirect.searchParams.get("code");
  assert.ok(code, `no code in ${redirect.href}`);
  const response = await target.fetch("/auth/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: client.redirectUri,
      code_verifier: verifier,
      client_id: client.clientId,
      ...(client.secret ? { client_secret: client.secret } : {}),
    }),
  });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  assert.equal(body.scope.split(" ").sort().join(" "), options.scope.split(" ").sort().join(" "));
  return body.access_token;
}
