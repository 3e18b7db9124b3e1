/** Shared helpers for the JMAP integration tests: calling /jmap and creating accounts through it. */
import assert from "node:assert/strict";
import { ADMIN_PASSWORD, basic, PASSWORD, startTestApp, type TestApp } from "./helpers.ts";

/** Capability URIs as clients write them. */
export const CORE = "urn:ietf:params:jmap:core";
export const MANAGEMENT = "urn:postern:jmap";
export const MAIL = "urn:ietf:params:jmap:mail";
export const QUOTA = "urn:ietf:params:jmap:quota";

/** The admin's Authorization header. */
export const ADMIN = basic("admin@example.org", ADMIN_PASSWORD);

/** A method call or response: [name, arguments, call id]. */
export type Invocation = [string, Record<string, unknown>, string];

/** A parsed JMAP response object. */
export interface JmapResult {
  methodResponses: Invocation[];
  sessionState: string;
  createdIds?: Record<string, string>;
}

/** Runs `body` against a fresh test app and closes it afterwards. */
export async function withApp(body: (t: TestApp) => Promise<void>): Promise<void> {
  const t = await startTestApp();
  try {
    await body(t);
  } finally {
    await t.close();
  }
}

/** POSTs a raw body to /jmap with the given headers (admin credentials unless overridden). */
export function post(
  t: TestApp,
  body: BodyInit | null,
  headers: Record<string, string> = {},
): Promise<Response> {
  return t.fetch("/jmap", {
    method: "POST",
    headers: { authorization: ADMIN, "content-type": "application/json", ...headers },
    body,
  });
}

/** Sends a JMAP request and returns its parsed response, asserting HTTP 200. */
export async function jmap(
  t: TestApp,
  methodCalls: Invocation[],
  options: { auth?: string; using?: string[]; createdIds?: Record<string, string> } = {},
): Promise<JmapResult> {
  const request: Record<string, unknown> = { using: options.using ?? [CORE, MANAGEMENT], methodCalls };
  if (options.createdIds) request.createdIds = options.createdIds;
  const response = await post(t, JSON.stringify(request), { authorization: options.auth ?? ADMIN });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  assert.equal(response.headers.get("content-type"), "application/json");
  return JSON.parse(text);
}

/** Who calls: credentials, and the accountId passed when the arguments do not name one (default "b"). */
export interface CallOptions {
  auth?: string;
  accountId?: string;
}

/** Makes one call and returns its response arguments, asserting the response has the method's name. */
export async function call(
  t: TestApp,
  name: string,
  args: Record<string, unknown>,
  options: CallOptions = {},
): Promise<Record<string, unknown>> {
  const accountId = options.accountId ?? "b";
  const { methodResponses } = await jmap(t, [[name, { accountId, ...args }, "c0"]], options);
  assert.equal(methodResponses.length, 1, JSON.stringify(methodResponses));
  const [answered, result, callId] = methodResponses[0];
  assert.equal(callId, "c0");
  assert.equal(answered, name, JSON.stringify(result));
  return result;
}

/** Makes one call expected to fail and returns its error arguments (`type`, `description`…). */
export async function callError(
  t: TestApp,
  name: string,
  args: Record<string, unknown>,
  options: { auth?: string; using?: string[] } = {},
): Promise<Record<string, unknown>> {
  const { methodResponses } = await jmap(t, [[name, args, "c0"]], options);
  assert.equal(methodResponses.length, 1, JSON.stringify(methodResponses));
  const [answered, result, callId] = methodResponses[0];
  assert.equal(callId, "c0");
  assert.equal(answered, "error", `${name} was expected to fail: ${JSON.stringify(result)}`);
  assert.equal(typeof result.description, "string");
  return result;
}

/** Runs an x:…/set and returns its response arguments. */
export function set(
  t: TestApp,
  type: string,
  args: Record<string, unknown>,
  options: CallOptions = {},
): Promise<Record<string, unknown>> {
  return call(t, `${type}/set`, args, options);
}

/** Creates one object through x:…/set and returns it, failing with the SetError if it was refused. */
export async function create(
  t: TestApp,
  type: string,
  object: Record<string, unknown>,
  options: CallOptions = {},
): Promise<Record<string, unknown>> {
  const result = await set(t, type, { create: { new: object } }, options);
  assert.equal(result.notCreated, null, JSON.stringify(result.notCreated));
  return (result.created as Record<string, Record<string, unknown>>).new;
}

/** The SetError of a single create that is expected to be refused. */
export async function notCreated(
  t: TestApp,
  type: string,
  object: unknown,
  options: CallOptions = {},
): Promise<Record<string, unknown>> {
  const result = await set(t, type, { create: { new: object } }, options);
  assert.equal(result.created, null, JSON.stringify(result.created));
  return (result.notCreated as Record<string, Record<string, unknown>>).new;
}

/** The SetError of a single update that is expected to be refused. */
export async function notUpdated(
  t: TestApp,
  type: string,
  id: string,
  patch: unknown,
  options: CallOptions = {},
): Promise<Record<string, unknown>> {
  const result = await set(t, type, { update: { [id]: patch } }, options);
  assert.equal(result.updated, null, JSON.stringify(result.updated));
  return (result.notUpdated as Record<string, Record<string, unknown>>)[id];
}

/** Creates a user in example.org through JMAP (password {@link PASSWORD}); returns id and auth header. */
export async function createUser(
  t: TestApp,
  name: string,
  extra: Record<string, unknown> = {},
): Promise<{ id: string; auth: string; accountId: string; emailAddress: string }> {
  const account = await create(t, "x:Account", {
    "@type": "User",
    name,
    domainId: "b",
    roles: { "0": "user" },
    credentials: { "0": { "@type": "Password", secret: PASSWORD } },
    ...extra,
  });
  const emailAddress = `${name}@example.org`;
  assert.equal(account.emailAddress, emailAddress);
  const id = account.id as string;
  // accountId lets the result be passed as CallOptions: the user acting on their own account.
  return { id, auth: basic(emailAddress, PASSWORD), accountId: id, emailAddress };
}

/** Reads a problem+json body, checking the parts every problem response has. */
export async function problem(response: Response, status: number): Promise<Record<string, unknown>> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  assert.equal(response.headers.get("content-type"), "application/problem+json");
  const body = JSON.parse(text);
  assert.equal(body.status, status);
  assert.equal(typeof body.detail, "string");
  assert.equal(body.requestId, response.headers.get("x-request-id"));
  return body;
}

/** One management call as the administrator on a server at `url` (real HTTP); the method's arguments. */
export async function adminCallAt(url: string, name: string, args: Record<string, unknown>) {
  const response = await fetch(`${url}/jmap`, {
    method: "POST",
    headers: { authorization: ADMIN, "content-type": "application/json" },
    body: JSON.stringify({
      using: [CORE, MANAGEMENT],
      methodCalls: [[name, { accountId: "b", ...args }, "c0"]],
    }),
  });
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.equal(body.methodResponses[0][0], name, JSON.stringify(body));
  return body.methodResponses[0][1];
}
