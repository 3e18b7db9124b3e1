/** Calls and drafts for the sending tests (Identity, EmailSubmission, VacationResponse). */
import assert from "node:assert/strict";
import type { TestApp } from "./helpers.ts";
import { CORE, MAIL } from "./jmap_helpers.ts";
import { mailboxesByName, mailCall, type Obj, type Who } from "./mail_helpers.ts";

export const SUBMISSION = "urn:ietf:params:jmap:submission";
export const VACATION = "urn:ietf:params:jmap:vacationresponse";

/** A call with the submission and vacation capabilities too. */
export async function call(t: TestApp, who: Who, name: string, args: Obj): Promise<Obj> {
  const response = await t.fetch("/jmap", {
    method: "POST",
    headers: { authorization: who.auth, "content-type": "application/json" },
    body: JSON.stringify({
      using: [CORE, MAIL, SUBMISSION, VACATION],
      methodCalls: [[name, { accountId: who.accountId, ...args }, "0"]],
    }),
  });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  const [[answered, result]] = body.methodResponses;
  assert.equal(answered, name, JSON.stringify(result));
  return result;
}

/** A draft from `from` in its Drafts; returns the email id. */
export async function draft(t: TestApp, from: Who, fields: Obj): Promise<string> {
  const drafts = (await mailboxesByName(t, from)).Drafts.id as string;
  const created = await mailCall(t, "Email/set", {
    create: {
      d: {
        mailboxIds: { [drafts]: true },
        keywords: { $draft: true },
        from: [{ name: null, email: from.emailAddress }],
        bodyValues: { t: { value: "Hello there" } },
        textBody: [{ partId: "t" }],
        ...fields,
      },
    },
  }, from);
  const made = (created.created as Record<string, Obj> | null)?.d;
  assert.ok(made, JSON.stringify(created));
  return made.id as string;
}

/** Sends an email of `from` as its first identity; returns the submission's /set answer. */
export async function send(t: TestApp, from: Who, emailId: string): Promise<Obj> {
  const identity = ((await call(t, from, "Identity/get", { ids: null })).list as Obj[])[0];
  return await call(t, from, "EmailSubmission/set", { create: { s: { identityId: identity.id, emailId } } });
}
