/**
 * Issue 19, item 5: every name of `Object.prototype` (`constructor`, `toString`, `__proto__`…) sent to
 * every /set — as a property to create, as a patch key and inside a patch path, as a method argument,
 * as a creation id and as an id to update or destroy — answers a proper SetError (or success), never
 * serverFail, never loses an answer, and never pollutes the server's prototypes.
 */
import assert from "node:assert/strict";
import { OBJECT_SPECS } from "../src/model/objects/mod.ts";
import type { TestApp } from "./helpers.ts";
import { ADMIN, CORE, createUser, jmap, MAIL, MANAGEMENT, withApp } from "./jmap_helpers.ts";

// Deno removes the `__proto__` accessor from Object.prototype; it is sent all the same.
const NAMES = [...new Set([...Object.getOwnPropertyNames(Object.prototype), "__proto__"])];
const SUBMISSION = "urn:ietf:params:jmap:submission";
const VACATION = "urn:ietf:params:jmap:vacationresponse";
const USING = [CORE, MANAGEMENT, MAIL, SUBMISSION, VACATION];

/** Properties whose values are maps keyed by the client (ids, keywords, list indexes), by type. */
const MAP_PROPERTIES: Record<string, string[]> = {
  "x:Account": ["quotas", "credentials", "roles", "aliases"],
  "x:OAuthClient": ["redirectUris", "grantTypes", "scopes"],
  Email: ["keywords", "mailboxIds"],
  Mailbox: ["shareWith"],
};

/** An object whose own property `name` holds `value` (a plain literal would set the prototype). */
function own(name: string, value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

function payloadOf(): Record<string, unknown> {
  return { polluted: 1 };
}

/** Asserts no prototype the server shares with this process was polluted. */
function assertNotPolluted(context: string): void {
  const probe = {} as Record<string, unknown>;
  assert.equal(probe.polluted, undefined, `${context}: Object.prototype.polluted is set`);
  assert.equal(typeof probe.toString, "function", `${context}: Object.prototype.toString replaced`);
  assert.equal(([] as unknown as Record<string, unknown>).polluted, undefined, `${context}: arrays polluted`);
}

/** Sends one /set call; asserts no serverFail anywhere and that every create, update and destroy is answered. */
async function sendSet(
  t: TestApp,
  method: string,
  args: Record<string, unknown>,
  context: string,
  refused = false,
) {
  const { methodResponses } = await jmap(t, [[method, args, "c"]], { using: USING });
  assertNotPolluted(context);
  const [name, result] = methodResponses[0];
  const text = `${context}: ${JSON.stringify(methodResponses[0])}`;
  if (name === "error") {
    assert.ok(["invalidArguments", "forbidden", "accountNotFound"].includes(String(result.type)), text);
    return;
  }
  assert.equal(name, method, text);
  for (const [kind, sent] of [["Created", args.create], ["Updated", args.update]] as const) {
    if (!sent) continue;
    const ok = (result[kind.toLowerCase()] ?? {}) as Record<string, unknown>;
    const not = (result[`not${kind}`] ?? {}) as Record<string, { type: string }>;
    for (const key of Object.keys(sent as object)) {
      assert.ok(Object.hasOwn(ok, key) || Object.hasOwn(not, key), `${text}: "${key}" not answered`);
    }
    for (const error of Object.values(not)) assert.notEqual(error.type, "serverFail", text);
    if (refused) assert.deepEqual(Object.keys(ok), [], `${text}: accepted`);
  }
  for (const error of Object.values((result.notDestroyed ?? {}) as Record<string, { type: string }>)) {
    assert.notEqual(error.type, "serverFail", text);
  }
}

/** An id of an existing object of the type, for its updates (a made-up one when there is none). */
async function someId(t: TestApp, type: string, accountId: string): Promise<string> {
  const { methodResponses } = await jmap(t, [[`${type}/get`, { accountId, ids: null }, "g"]], {
    using: USING,
  });
  const list = (methodResponses[0][1].list ?? []) as { id: string }[];
  return list[0]?.id ?? "zzzz";
}

Deno.test("every Object.prototype name sent to every /set gets a SetError or success, never serverFail, and pollutes nothing", async () => {
  await withApp(async (t) => {
    const session = await (await t.fetch("/jmap/session", {
      headers: { authorization: ADMIN },
    })).json();
    const mailAccount = session.primaryAccounts[MAIL] as string;
    const types = [
      ...Object.values(OBJECT_SPECS).map((spec) => ({ type: `x:${spec.name}`, accountId: "b" })),
      { type: "x:Action", accountId: "b" },
      ...["Mailbox", "Email", "Identity", "EmailSubmission", "VacationResponse"].map((type) => ({
        type,
        accountId: mailAccount,
      })),
      { type: "PushSubscription", accountId: undefined },
    ];
    // Every case runs; the failures are reported together.
    const failures: string[] = [];
    let sent = 0;
    const send = async (method: string, args: Record<string, unknown>, context: string, refused = false) => {
      sent++;
      try {
        await sendSet(t, method, args, context, refused);
      } catch (error) {
        failures.push(error instanceof Error ? error.message.split("\n")[0] : String(error));
        if (({} as Record<string, unknown>).polluted !== undefined) throw error;
      }
    };
    // An email to patch: keywords and mailboxIds are maps keyed by the client.
    const boxes = await jmap(t, [["Mailbox/get", { accountId: mailAccount, ids: null }, "m"]], {
      using: USING,
    });
    const inbox = (boxes.methodResponses[0][1].list as { id: string }[])[0].id;
    const made = await jmap(t, [["Email/set", {
      accountId: mailAccount,
      create: {
        e: {
          mailboxIds: { [inbox]: true },
          subject: "patch me",
          bodyValues: { t: { value: "text" } },
          textBody: [{ partId: "t", type: "text/plain" }],
        },
      },
    }, "e"]], { using: USING });
    const email = (made.methodResponses[0][1].created as Record<string, { id: string }> | null)?.e?.id;
    assert.ok(email, JSON.stringify(made));
    // Account patches go to a throwaway user: a patched credential must not lock the admin out.
    const victim = (await createUser(t, "patched")).id;
    for (const { type, accountId } of types) {
      const method = `${type}/set`;
      const base = accountId === undefined ? {} : { accountId };
      const id = type === "x:Account"
        ? victim
        : type === "Email"
        ? email
        : type === "VacationResponse"
        ? "singleton"
        : Object.values(OBJECT_SPECS).some((s) => `x:${s.name}` === type && s.singleton)
        ? "singleton"
        : accountId === undefined
        ? "zzzz"
        : await someId(t, type, accountId);
      for (const name of NAMES) {
        const context = `${method} with "${name}"`;
        const payload = { polluted: 1 };
        await send(method, { ...base, create: { c: own(name, payload) } }, `${context} (create)`);
        await send(method, { ...base, create: own(name, own(name, payload)) }, `${context} (creation id)`);
        for (const key of [name, `${name}/polluted`, `${name}/prototype/polluted`, `name/${name}`]) {
          await send(method, { ...base, update: { [id]: own(key, payload) } }, `${context} (patch ${key})`);
        }
        await send(method, { ...base, update: own(name, { name: "x" }) }, `${context} (update id)`);
        await send(method, { ...base, destroy: [name] }, `${context} (destroy id)`);
        await send(method, { ...base, ...own(name, payload) }, `${context} (argument)`);
        for (const property of MAP_PROPERTIES[type] ?? []) {
          const inside = `${context} in "${property}"`;
          // Management maps are list indexes or fixed keys: "__proto__" is refused, never dropped silently.
          const refused = type.startsWith("x:") && name === "__proto__";
          await send(
            method,
            { ...base, create: { c: own(property, own(name, true)) } },
            `${inside} (create)`,
            refused,
          );
          for (const key of [`${property}/${name}`, `${property}/${name}/polluted`]) {
            await send(method, { ...base, update: { [id]: own(key, true) } }, `${inside} (patch ${key})`);
          }
          await send(
            method,
            { ...base, update: { [id]: own(property, own(name, payload)) } },
            `${inside} (update)`,
            refused,
          );
        }
      }
    }
    // EmailSubmission/set's own arguments are keyed by creation ids and ids.
    for (const name of NAMES) {
      const context = `EmailSubmission/set with "${name}"`;
      const base = { accountId: mailAccount };
      await send("EmailSubmission/set", {
        ...base,
        onSuccessUpdateEmail: own(`#${name}`, own("keywords/$draft", null)),
        onSuccessDestroyEmail: [`#${name}`],
      }, `${context} (onSuccess creation ids)`);
      await send(
        "EmailSubmission/set",
        { ...base, onSuccessUpdateEmail: own(name, payloadOf()) },
        `${context} (onSuccessUpdateEmail id)`,
      );
    }
    assert.ok(sent > 2000, `only ${sent} requests sent`);
    assert.deepEqual(failures, []);
  });
});

Deno.test("every Object.prototype name as a management /query filter or sort property is refused by name, never serverFail", async () => {
  await withApp(async (t) => {
    const failures: string[] = [];
    for (const spec of Object.values(OBJECT_SPECS)) {
      if (spec.singleton) continue;
      const method = `x:${spec.name}/query`;
      for (const name of NAMES) {
        for (const args of [{ filter: own(name, "x") }, { sort: [{ property: name }] }]) {
          const { methodResponses } = await jmap(t, [[method, { accountId: "b", ...args }, "q"]]);
          assertNotPolluted(`${method} ${name}`);
          const [answered, result] = methodResponses[0];
          if (
            answered !== "error" || !["unsupportedFilter", "unsupportedSort"].includes(String(result.type))
          ) {
            failures.push(`${method} ${JSON.stringify(args)}: ${JSON.stringify(methodResponses[0])}`);
          }
        }
      }
    }
    assert.deepEqual(failures, []);
  });
});
