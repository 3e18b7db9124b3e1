import assert from "node:assert/strict";
import type { MethodDefinition } from "./engine.ts";
import { METHODS, methodTable } from "./method_table.ts";
import { CAPABILITY } from "./types.ts";

const echo: MethodDefinition = { capability: CAPABILITY.core, handler: (args) => args };
const names = { "Core/echo": CAPABILITY.core, "Foo/get": CAPABILITY.mail };
const foo: MethodDefinition = { capability: CAPABILITY.mail, handler: () => ({ first: true }) };

Deno.test("a method registered twice stops the start instead of replacing the first handler", () => {
  const again: MethodDefinition = { capability: CAPABILITY.mail, handler: () => ({ first: false }) };
  assert.throws(
    () => methodTable([[["Core/echo", echo], ["Foo/get", foo]], [["Foo/get", again]]], names),
    /JMAP method "Foo\/get" is registered twice/,
  );
});

Deno.test("a method missing from the table, or a listed method left without a handler, stops the start", () => {
  assert.throws(
    () => methodTable([[["Core/echo", echo], ["Foo/get", foo], ["Foo/set", foo]]], names),
    /"Foo\/set" is not in the method table/,
  );
  assert.throws(() => methodTable([[["Core/echo", echo]]], names), /without a handler: Foo\/get/);
});

Deno.test("a method registered under another capability than the table names stops the start", () => {
  assert.throws(
    () => methodTable([[["Core/echo", echo], ["Foo/get", { ...foo, capability: CAPABILITY.core }]]], names),
    /"Foo\/get" is registered under "urn:ietf:params:jmap:core", the table says "urn:ietf:params:jmap:mail"/,
  );
});

Deno.test("the table keeps every registration under its name", () => {
  const table = methodTable([[["Core/echo", echo]], [["Foo/get", foo]]], names);
  assert.deepEqual([...table.keys()], ["Core/echo", "Foo/get"]);
  assert.equal(table.get("Foo/get"), foo);
  assert.equal(METHODS["Mailbox/get"], CAPABILITY.mail);
});
