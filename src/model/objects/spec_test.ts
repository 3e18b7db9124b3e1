/**
 * Every field of every management object type, driven from the declarations themselves: a field added
 * later is covered without touching this file, and a field of a new declared type makes the tables
 * below fail until a wrong (and, for required fields, a valid) value for that type is added.
 */
import assert from "node:assert/strict";
import type { PropertyProblem } from "../errors.ts";
import { OBJECT_SPECS, validateObject } from "./mod.ts";
import {
  baseType,
  type Case,
  cases,
  itemType,
  minimal as minimalFor,
  OVERLONG,
  VALID_ITEMS,
  WRONG_VALUES,
} from "../../../test/object_cases.ts";

const minimal = (c: Case) => minimalFor(c, { domain: "example.org" });

function problemsOf(c: Case, input: unknown, mode: "create" | "update"): PropertyProblem[] {
  const result = validateObject(c.spec, input, { mode, variant: c.variant });
  return result.ok ? [] : result.problems;
}

/** Asserts exactly one problem, about `property`, whose message quotes the property's name. */
function assertOnlyProblem(problems: PropertyProblem[], property: string, context: string): PropertyProblem {
  assert.equal(problems.length, 1, `${context}: expected one problem, got ${JSON.stringify(problems)}`);
  assert.equal(problems[0].property, property, context);
  assert.ok(problems[0].message.includes(`"${property}"`), `${context}: ${problems[0].message}`);
  return problems[0];
}

function describeValue(value: unknown): string {
  const text = typeof value === "number" ? String(value) : JSON.stringify(value);
  return text.length > 40 ? text.slice(0, 40) + "…" : text;
}

Deno.test("every object type is covered, with every declared field type in the tables", () => {
  assert.deepEqual(
    Object.keys(OBJECT_SPECS).sort(),
    [
      "Account",
      "ApiKey",
      "AppPassword",
      "Authentication",
      "Cache",
      "DkimKey",
      "Domain",
      "MailboxGrant",
      "OAuthClient",
      "OAuthGrant",
      "OidcProvider",
      "Outbound",
      "QueuedMessage",
      "Sharing",
      "Smarthost",
    ],
  );
  for (const c of cases()) {
    for (const [name, field] of c.fields) {
      if (field.serverSet) continue;
      assert.ok(WRONG_VALUES[baseType(field)], `${c.label}.${name}: add wrong values for ${field.type}`);
      if (baseType(field) === "List") {
        assert.ok(VALID_ITEMS[itemType(field)], `${c.label}.${name}: add a valid item for ${field.type}`);
      }
    }
  }
});

Deno.test("the minimal object of every type and variant validates", () => {
  for (const c of cases()) {
    const result = validateObject(c.spec, minimal(c), { mode: "create", variant: c.variant });
    assert.ok(result.ok, `${c.label}: ${JSON.stringify(result)}`);
  }
});

Deno.test("a value of the wrong type is refused naming exactly that property", () => {
  for (const c of cases()) {
    const base = minimal(c);
    for (const [name, field] of c.fields) {
      if (field.serverSet) continue;
      for (const wrong of WRONG_VALUES[baseType(field)]) {
        const context = `${c.label}.${name} = ${describeValue(wrong)}`;
        const problem = assertOnlyProblem(problemsOf(c, { ...base, [name]: wrong }, "create"), name, context);
        assert.match(problem.message, /^Invalid "/, context);
        if (!field.immutable) {
          assertOnlyProblem(problemsOf(c, { [name]: wrong }, "update"), name, `${context} (update)`);
        }
      }
    }
  }
});

Deno.test("null is refused for a field not declared nullable and accepted for one that is", () => {
  for (const c of cases()) {
    const base = minimal(c);
    for (const [name, field] of c.fields) {
      if (field.serverSet) continue;
      const context = `${c.label}.${name} (${field.type}) = null`;
      const problems = problemsOf(c, { ...base, [name]: null }, "create");
      if (field.type.endsWith("?")) assert.deepEqual(problems, [], context);
      else assertOnlyProblem(problems, name, context);
    }
  }
});

Deno.test("an overlong string is refused naming exactly that property", () => {
  for (const c of cases()) {
    const base = minimal(c);
    for (const [name, field] of c.fields) {
      if (field.serverSet) continue;
      const type = baseType(field);
      const item = itemType(field);
      let overlong: unknown;
      if (type === "String" || type === "Id" || type === "UTCDate") overlong = OVERLONG;
      else if (item === "String" || item.startsWith("Id") || item === "Role") overlong = [OVERLONG];
      else if (item === "Credential") overlong = [{ "@type": "Password", secret: OVERLONG }];
      else continue;
      const context = `${c.label}.${name} = ${describeValue(overlong)}`;
      const problem = assertOnlyProblem(
        problemsOf(c, { ...base, [name]: overlong }, "create"),
        name,
        context,
      );
      // The message explains the problem without echoing the whole value back.
      assert.ok(problem.message.length < 1000, `${context}: message is ${problem.message.length} characters`);
    }
  }
});

Deno.test("a property the type does not declare is refused by name", () => {
  for (const c of cases()) {
    const base = minimal(c);
    for (const unknown of ["colour", "Name", "__proto__x", "id2", ""]) {
      const context = `${c.label}.${JSON.stringify(unknown)}`;
      const problem = assertOnlyProblem(
        problemsOf(c, { ...base, [unknown]: "x" }, "create"),
        unknown,
        context,
      );
      assert.match(problem.message, /^Unknown property/, context);
      assert.ok(problem.message.includes(c.label), `${context}: ${problem.message}`);
      assertOnlyProblem(problemsOf(c, { [unknown]: "x" }, "update"), unknown, `${context} (update)`);
    }
  }
});

Deno.test("a field of another variant is refused by name as unknown in this one", () => {
  let checked = 0;
  for (const c of cases()) {
    if (!c.variant) continue;
    const base = minimal(c);
    for (const [name, field] of Object.entries(c.spec.fields)) {
      if (!field.variants || field.variants.includes(c.variant)) continue;
      checked++;
      const context = `${c.label}.${name}`;
      const problem = assertOnlyProblem(problemsOf(c, { ...base, [name]: null }, "create"), name, context);
      assert.match(problem.message, /^Unknown property/, context);
    }
  }
  assert.ok(checked > 0, "no variant-specific fields were found");
});

Deno.test("a server-set field is refused by name on create and on update", () => {
  for (const c of cases()) {
    const base = minimal(c);
    for (const [name, field] of c.fields) {
      if (!field.serverSet) continue;
      for (const mode of ["create", "update"] as const) {
        const context = `${c.label}.${name} (${mode})`;
        const input = mode === "create" ? { ...base, [name]: "b" } : { [name]: "b" };
        const problem = assertOnlyProblem(problemsOf(c, input, mode), name, context);
        assert.match(problem.message, /set by the server/, context);
      }
    }
  }
});

Deno.test("an immutable field is accepted on create and refused by name on update", () => {
  let checked = 0;
  for (const c of cases()) {
    for (const [name, field] of c.fields) {
      if (!field.immutable || field.serverSet) continue;
      checked++;
      const valid = baseType(field) === "Id" ? "b" : "valid";
      assert.deepEqual(problemsOf(c, { ...minimal(c), [name]: valid }, "create"), [], `${c.label}.${name}`);
      const problem = assertOnlyProblem(
        problemsOf(c, { [name]: valid }, "update"),
        name,
        `${c.label}.${name}`,
      );
      assert.match(problem.message, /cannot be changed/);
    }
  }
  assert.ok(checked > 0, "no immutable fields were found");
});

Deno.test("each missing required field is named on create and not required on update", () => {
  for (const c of cases()) {
    const base = minimal(c);
    const required = c.fields.filter(([, f]) => f.required).map(([name]) => name);
    for (const name of required) {
      const { [name]: _omitted, ...rest } = base;
      const problem = assertOnlyProblem(problemsOf(c, rest, "create"), name, `${c.label} without ${name}`);
      assert.match(problem.message, /is required/);
    }
    const all = problemsOf(c, {}, "create").map((p) => p.property).sort();
    assert.deepEqual(all, [...required].sort(), `${c.label} created empty`);
    assert.deepEqual(problemsOf(c, {}, "update"), [], `${c.label} updated with nothing`);
  }
});

Deno.test("a list is accepted as an array and as Stalwart's keyed object, in index order", () => {
  let checked = 0;
  for (const c of cases()) {
    const base = minimal(c);
    for (const [name, field] of c.fields) {
      if (field.serverSet || baseType(field) !== "List") continue;
      checked++;
      const item = VALID_ITEMS[itemType(field)](field);
      const context = `${c.label}.${name}`;
      const asArray = validateObject(c.spec, { ...base, [name]: [item] }, {
        mode: "create",
        variant: c.variant,
      });
      const asKeyed = validateObject(c.spec, { ...base, [name]: { "0": item } }, {
        mode: "create",
        variant: c.variant,
      });
      assert.ok(asArray.ok, `${context} as array: ${JSON.stringify(asArray)}`);
      assert.ok(asKeyed.ok, `${context} as keyed object: ${JSON.stringify(asKeyed)}`);
      assert.ok(Array.isArray(asKeyed.value[name]), context);
      assert.deepEqual(asKeyed.value[name], asArray.value[name], context);
      const empty = validateObject(c.spec, { ...base, [name]: {} }, { mode: "create", variant: c.variant });
      assert.ok(empty.ok && Array.isArray(empty.value[name]) && empty.value[name].length === 0, context);
    }
  }
  assert.ok(checked > 0, "no list fields were found");
});

Deno.test("keyed list entries come out in numeric index order, not key text order", () => {
  const result = validateObject(OBJECT_SPECS.Account, {
    name: "alice",
    domainId: "b",
    aliases: { "10": "k@example.org", "2": "c@example.org", "0": "a@example.org" },
  }, { mode: "create", variant: "User" });
  assert.ok(result.ok, JSON.stringify(result));
  assert.deepEqual(result.value.aliases, ["a@example.org", "c@example.org", "k@example.org"]);
});

Deno.test("a list with more entries than its declared maximum is refused by name", () => {
  const tooMany = Object.fromEntries(Array.from({ length: 201 }, (_, i) => [String(i), `a${i}@example.org`]));
  const result = validateObject(OBJECT_SPECS.Account, { aliases: tooMany }, {
    mode: "update",
    variant: "User",
  });
  assert.ok(!result.ok);
  assertOnlyProblem(result.problems, "aliases", "201 aliases");
  const twoPasswords = [
    { "@type": "Password", secret: "first strong password" },
    { "@type": "Password", secret: "second strong password" },
  ];
  const passwords = validateObject(OBJECT_SPECS.Account, { credentials: twoPasswords }, {
    mode: "update",
    variant: "User",
  });
  assert.ok(!passwords.ok);
  assertOnlyProblem(passwords.problems, "credentials", "two passwords");
});

Deno.test("several problems are all reported, each naming its own property", () => {
  const result = validateObject(OBJECT_SPECS.Account, {
    name: "x'; DROP TABLE accounts;--",
    domainId: 7,
    enabled: "yes",
    emailAddress: "a@b.c",
    colour: "red",
  }, { mode: "create", variant: "User" });
  assert.ok(!result.ok);
  assert.deepEqual(
    result.problems.map((p) => p.property).sort(),
    ["colour", "domainId", "emailAddress", "enabled", "name"],
  );
});

Deno.test("input that is not a JSON object is refused as a whole", () => {
  for (const c of cases()) {
    for (const input of [null, "x", 42, [], [{ name: "x" }]]) {
      const result = validateObject(c.spec, input, { mode: "create", variant: c.variant });
      assert.ok(!result.ok, `${c.label} ${JSON.stringify(input)}`);
      assert.equal(result.problems.length, 1);
      assert.equal(result.problems[0].property, "");
      assert.match(result.problems[0].message, new RegExp(`^${c.spec.name} must be a JSON object`));
    }
  }
});

Deno.test("names and addresses are stored in lower case", () => {
  const result = validateObject(OBJECT_SPECS.Account, {
    name: "Alice",
    domainId: "b",
    aliases: ["Sales@Example.ORG"],
  }, { mode: "create", variant: "User" });
  assert.ok(result.ok, JSON.stringify(result));
  assert.equal(result.value.name, "alice");
  assert.deepEqual(result.value.aliases, ["sales@example.org"]);
  const domain = validateObject(OBJECT_SPECS.Domain, { name: "Example.ORG" }, { mode: "create" });
  assert.ok(domain.ok);
  assert.equal(domain.value.name, "example.org");
});

Deno.test("NaN is refused for every number field (JSON cannot carry it, JavaScript callers can)", () => {
  for (const c of cases()) {
    for (const [name, field] of c.fields) {
      if (!["UnsignedInt", "Duration"].includes(baseType(field)) || field.serverSet) continue;
      const problems = problemsOf(c, { ...minimal(c), [name]: Number.NaN }, "create");
      assertOnlyProblem(problems, name, `${c.label}.${name} = NaN`);
    }
  }
});
