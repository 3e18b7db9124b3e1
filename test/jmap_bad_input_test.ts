/**
 * Bad input through JMAP /set for every field of every management type, driven by the declarations
 * (OBJECT_SPECS) as src/model/objects/spec_test.ts drives validateObject: a field added later is
 * covered here too. Each refusal is an invalidProperties SetError naming the property, and nothing in
 * the directory changes.
 */
import assert from "node:assert/strict";
import { type FieldSpec, OBJECT_SPECS } from "../src/model/objects/mod.ts";
import {
  baseType,
  type Case,
  cases,
  itemType,
  minimal as minimalFor,
  OVERLONG,
  WRONG_VALUES,
} from "./object_cases.ts";
import type { TestApp } from "./helpers.ts";
import { create, createUser, type Invocation, jmap, set, withApp } from "./jmap_helpers.ts";

type Obj = Record<string, unknown>;

const UNKNOWN_PROPERTIES = ["colour", "Name", "__proto__x", "id2"];
const minimal = (c: Case): Obj => minimalFor(c, { domain: "fresh.example", withType: true });

/** An overlong value of the field's type, or undefined when length does not apply to it. */
function overlong(field: FieldSpec): unknown {
  const type = baseType(field);
  const item = itemType(field);
  if (type === "String" || type === "Id" || type === "UTCDate") return OVERLONG;
  if (item === "String" || item.startsWith("Id") || item === "Role") return [OVERLONG];
  if (item === "Credential") return [{ "@type": "Password", secret: OVERLONG }];
  return undefined;
}

function describeValue(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 40 ? text.slice(0, 40) + "…" : text;
}

/** One bad write: the property it must be refused for, and a label for messages. */
interface BadWrite {
  label: string;
  property: string;
  value: Obj;
}

/** Everything in the directory a client can read, with the states. */
async function snapshot(t: TestApp): Promise<unknown> {
  const types = ["x:Account", "x:Domain", "x:AppPassword", "x:ApiKey", "x:Cache", "x:Authentication"];
  const { methodResponses } = await jmap(
    t,
    types.map((type, i): Invocation => [`${type}/get`, { accountId: "b" }, `${i}`]),
  );
  return methodResponses;
}

/** Objects to update: a user, a group, the first domain and the singletons. */
async function targets(t: TestApp): Promise<Record<string, string>> {
  const user = await createUser(t, "target");
  const group = await create(t, "x:Account", { "@type": "Group", name: "crew", domainId: "b" });
  return {
    "Account/User": user.id,
    "Account/Group": group.id as string,
    Domain: "b",
    Cache: "singleton",
    Authentication: "singleton",
  };
}

/** Sends all the creates of one type in one /set and checks each is refused naming its property. */
async function expectCreatesRefused(t: TestApp, c: Case, writes: BadWrite[]): Promise<void> {
  if (writes.length === 0) return;
  const create = Object.fromEntries(writes.map((w, i) => [`c${i}`, w.value]));
  const result = await set(t, `x:${c.spec.name}`, { create });
  assert.equal(result.created, null, `${c.label}: created ${JSON.stringify(result.created)}`);
  const errors = result.notCreated as Record<string, Obj>;
  writes.forEach((w, i) => {
    const error = errors[`c${i}`];
    const context = `${c.label} create ${w.label}: ${JSON.stringify(error)}`;
    // A type only the server makes refuses every create as forbidden (an `id` is refused earlier, by JMAP).
    if (c.spec.readOnly && error?.type === "forbidden") return;
    assert.equal(error?.type, "invalidProperties", context);
    assert.deepEqual(error.properties, [w.property], context);
    assert.ok((error.description as string).length < 1000, `${context}: the description echoes the value`);
  });
}

/** Sends each update as its own call (16 per request) and checks each is refused naming its property. */
async function expectUpdatesRefused(t: TestApp, c: Case, id: string, writes: BadWrite[]): Promise<void> {
  for (let start = 0; start < writes.length; start += 16) {
    const chunk = writes.slice(start, start + 16);
    const { methodResponses } = await jmap(
      t,
      chunk.map((
        w,
        i,
      ): Invocation => [`x:${c.spec.name}/set`, { accountId: "b", update: { [id]: w.value } }, `${i}`]),
    );
    chunk.forEach((w, i) => {
      const [name, result] = methodResponses[i];
      const error = (result.notUpdated as Record<string, Obj> | null)?.[id];
      const context = `${c.label} update ${w.label}: ${name} ${JSON.stringify(result)}`;
      assert.equal(result.updated, null, context);
      assert.equal(error?.type, "invalidProperties", context);
      assert.deepEqual(error.properties, [w.property], context);
    });
  }
}

/**
 * Runs `writes(c)` for every declared type and variant as creates (non-singletons) and updates
 * (types that can be updated), then checks the directory is exactly as before.
 */
async function checkEveryType(
  writes: (c: Case, mode: "create" | "update") => BadWrite[],
  atLeast: number,
): Promise<void> {
  await withApp(async (t) => {
    const ids = await targets(t);
    const before = await snapshot(t);
    let checked = 0;
    for (const c of cases()) {
      if (!c.spec.singleton) {
        const creates = writes(c, "create");
        await expectCreatesRefused(t, c, creates);
        checked += creates.length;
      }
      const id = ids[c.label];
      if (id) {
        const updates = writes(c, "update");
        await expectUpdatesRefused(t, c, id, updates);
        checked += updates.length;
      }
    }
    assert.ok(checked >= atLeast, `only ${checked} writes were checked`);
    assert.deepEqual(await snapshot(t), before, "a refused write changed the directory");
  });
}

/** The object of a bad write: the minimal valid object plus the bad property, or a bare patch. */
function withProperty(c: Case, mode: "create" | "update", name: string, value: unknown): Obj {
  return mode === "create" ? { ...minimal(c), [name]: value } : { [name]: value };
}

Deno.test("a value of the wrong type for any field is invalidProperties naming it, on create and update", () =>
  checkEveryType(
    (c, mode) =>
      c.fields.flatMap(([name, field]) => {
        if (field.serverSet || (mode === "update" && field.immutable)) return [];
        return WRONG_VALUES[baseType(field)].map((wrong) => ({
          label: `${name} = ${describeValue(wrong)}`,
          property: name,
          value: withProperty(c, mode, name, wrong),
        }));
      }),
    250,
  ));

Deno.test("a property the type does not declare is invalidProperties naming it, on create and update", () =>
  checkEveryType(
    (c, mode) =>
      UNKNOWN_PROPERTIES.map((unknown) => ({
        label: JSON.stringify(unknown),
        property: unknown,
        value: withProperty(c, mode, unknown, "x"),
      })),
    40,
  ));

Deno.test("a field of the other variant is invalidProperties naming it, on create and update", () =>
  checkEveryType(
    (c, mode) =>
      Object.entries(c.spec.fields)
        .filter(([, field]) => c.variant && field.variants && !field.variants.includes(c.variant))
        .map(([name, field]) => ({
          label: `${name} of another variant`,
          property: name,
          value: withProperty(c, mode, name, baseType(field) === "List" ? [] : "x"),
        })),
    4,
  ));

Deno.test("an overlong value for any field is invalidProperties naming it, on create and update", () =>
  checkEveryType(
    (c, mode) =>
      c.fields.flatMap(([name, field]) => {
        const value = overlong(field);
        if (field.serverSet || value === undefined || (mode === "update" && field.immutable)) return [];
        return [{
          label: `${name} = ${describeValue(value)}`,
          property: name,
          value: withProperty(c, mode, name, value),
        }];
      }),
    30,
  ));

Deno.test("a server-set field is invalidProperties naming it, on create and on an update that changes it", () =>
  checkEveryType(
    (c, mode) =>
      c.fields.filter(([, field]) => field.serverSet).map(([name]) => ({
        label: `${name} (server-set)`,
        property: name,
        value: withProperty(c, mode, name, "zz"),
      })),
    25,
  ));

Deno.test("an update of an app password or API key is refused and changes nothing", () =>
  withApp(async (t) => {
    // Access keys cannot be changed at all (delete and create instead), so even a valid value for a
    // mutable field is refused; a different owner (accountId) may be refused either way.
    const keys = {
      AppPassword: await create(t, "x:AppPassword", { description: "phone" }),
      ApiKey: await create(t, "x:ApiKey", { description: "script" }),
    };
    const before = await snapshot(t);
    let checked = 0;
    for (const [type, key] of Object.entries(keys)) {
      for (const [name, field] of Object.entries(OBJECT_SPECS[type].fields)) {
        if (field.serverSet) continue;
        checked++;
        // An unchanged value is no change at all (RFC 8620 §5.3), so the immutable owner gets another one.
        const value = field.immutable ? "zz" : baseType(field) === "UTCDate" ? "2099-01-01T00:00:00Z" : "new";
        const result = await set(t, `x:${type}`, { update: { [key.id as string]: { [name]: value } } });
        const error = (result.notUpdated as Record<string, Obj>)[key.id as string];
        assert.ok(
          error?.type === "forbidden" || error?.type === "invalidProperties",
          `${type}.${name}: ${JSON.stringify(result)}`,
        );
      }
    }
    assert.ok(checked >= 6);
    assert.deepEqual(await snapshot(t), before);
  }));

Deno.test("a create that is not a JSON object is invalidProperties and creates nothing", () =>
  withApp(async (t) => {
    const before = await snapshot(t);
    for (const c of cases()) {
      if (c.spec.singleton) continue;
      for (const input of [null, "x", 42, [], [{ name: "x" }]]) {
        const result = await set(t, `x:${c.spec.name}`, { create: { c: input } });
        const error = (result.notCreated as Record<string, Obj>).c;
        assert.equal(error.type, "invalidProperties", `${c.label} ${JSON.stringify(input)}`);
      }
    }
    assert.deepEqual(await snapshot(t), before);
  }));

Deno.test("several bad fields in one create are all named", () =>
  withApp(async (t) => {
    const result = await set(t, "x:Account", {
      create: {
        c: {
          name: "x'; DROP TABLE accounts;--",
          domainId: 7,
          enabled: "yes",
          emailAddress: "a@b.c",
          colour: "red",
        },
      },
    });
    const error = (result.notCreated as Record<string, Obj>).c;
    assert.equal(error.type, "invalidProperties");
    assert.deepEqual(
      [...(error.properties as string[])].sort(),
      ["colour", "domainId", "emailAddress", "enabled", "name"],
    );
  }));

Deno.test("an unknown property with an empty name is still named in properties", {
  // Was a bug: src/jmap/standard/methods.ts toSetError keeps only truthy problem properties
  // (`.filter(Boolean)`), so the unknown property "" is refused as invalidProperties without a
  // `properties` list; RFC 8620 §5.3 asks for the invalid properties to be listed.
}, () =>
  withApp(async (t) => {
    const result = await set(t, "x:Domain", { create: { c: { name: "fresh.example", "": "x" } } });
    const error = (result.notCreated as Record<string, Obj>).c;
    assert.equal(error.type, "invalidProperties");
    assert.deepEqual(error.properties, [""]);
  }));
