/**
 * Settings forms are generated from the schema: a field added to a declaration appears in the form,
 * with the prompt its type calls for, without any change to the admin UI; refusals use the field's words.
 */
import assert from "node:assert/strict";
import type { WireObject } from "../src/directory/mod.ts";
import { InvalidInputError } from "../src/model/errors.ts";
import { CACHE_SETTINGS, describeObject, type ObjectSpec, validateObject } from "../src/model/objects/mod.ts";
import { z } from "zod";
import {
  type AdminBackend,
  fieldLabel,
  formFields,
  promptKind,
  type SchemaType,
  settingsChoices,
  settingsForm,
  type TuiClient,
  Ui,
} from "../tui/mod.ts";
import { cli } from "./helpers.ts";
import { HAS_TMUX, ScriptedTerminal, withTuiOnNewDatabase } from "./tui_helpers.ts";

/** The Cache declaration with one new field of each kind the forms know, and one they do not. */
const TEST_SPEC: ObjectSpec = {
  ...CACHE_SETTINGS,
  fields: {
    ...CACHE_SETTINGS.fields,
    shardCount: {
      schema: z.number().int().min(1).max(64),
      type: "UnsignedInt",
      description: "Shards per namespace",
      default: 4,
    },
    evictionPolicy: {
      schema: z.enum(["lru", "lfu"]),
      type: "String",
      description: "Which entry goes first",
      default: "lru",
      enum: ["lru", "lfu"],
    },
    warmOnStart: { schema: z.boolean(), type: "Boolean", description: "Preload accounts", default: false },
    purgeAfter: { schema: z.string(), type: "Duration", description: "Purge interval", default: "1d" },
    peerKey: { schema: z.unknown(), type: "SecretKey?", description: "Key shared with peers", default: null },
    label: { schema: z.string().nullable(), type: "String?", description: "A note", default: null },
    weights: { schema: z.unknown(), type: "Map<String, UnsignedInt>", description: "Per-namespace weights" },
  },
};

const TEST_TYPE = describeObject(TEST_SPEC) as unknown as SchemaType;

Deno.test("a field added to a declaration appears in the generated settings form, with its prompt", () => {
  const names = formFields(TEST_TYPE).map((f) => f.field.name);
  assert.deepEqual(names, Object.keys(TEST_SPEC.fields));
  const kinds = Object.fromEntries(formFields(TEST_TYPE).map((f) => [f.field.name, f.kind]));
  assert.deepEqual(kinds, {
    maxEntries: "number",
    ttlSeconds: "duration",
    negativeTtlSeconds: "duration",
    authTtlSeconds: "duration",
    shardCount: "number",
    evictionPolicy: "select",
    warmOnStart: "confirm",
    purgeAfter: "duration",
    peerKey: "secretKey",
    label: "text",
    weights: "json",
  });
  const current = { id: "singleton", maxEntries: 50_000, ttlSeconds: 1800, shardCount: 8 };
  const choices = settingsChoices(TEST_TYPE, current);
  assert.deepEqual(choices.map((c) => c.value), names);
  const shard = choices.find((c) => c.value === "shardCount")!;
  assert.match(shard.name, /^Shards per namespace +8 +\(default 4\)$/);
  assert.match(shard.description!, /^shardCount · UnsignedInt · Shards per namespace/);
  assert.match(choices.find((c) => c.value === "ttlSeconds")!.name, /1800 \(30m\)/);
});

Deno.test("server-set fields are never offered, and list types with an enum get a checkbox", () => {
  assert.equal(promptKind({ name: "grantTypes", type: "List<GrantType>", enum: ["a", "b"] }), "checkbox");
  assert.equal(promptKind({ name: "redirectUris", type: "List<Uri>" }), "list");
  assert.equal(promptKind({ name: "ownerId", type: "Id<Account>" }), "text");
  const type: SchemaType = {
    name: "T",
    fields: [
      { name: "id", type: "Id", serverSet: true },
      { name: "createdAt", type: "UTCDate", serverSet: true },
      { name: "note", type: "String" },
    ],
  };
  assert.deepEqual(formFields(type).map((f) => f.field.name), ["note"]);
});

/** A client over one settings object validated by TEST_SPEC, recording the updates it receives. */
function fakeBackend(updates: WireObject[]): AdminBackend {
  const stored: WireObject = { id: "singleton", maxEntries: 50_000, ttlSeconds: 1800, shardCount: 4 };
  const client: TuiClient = {
    local: true,
    get: () => Promise.resolve({ ...stored }),
    query: () => Promise.resolve([{ ...stored }]),
    create: () => Promise.reject(new Error("not in this test")),
    delete: () => Promise.reject(new Error("not in this test")),
    action: () => Promise.reject(new Error("not in this test")),
    update(_type, _id, patch) {
      updates.push(patch);
      const checked = validateObject(TEST_SPEC, patch, { mode: "update" });
      if (!checked.ok) return Promise.reject(new InvalidInputError("Invalid Cache", checked.problems));
      Object.assign(stored, checked.value);
      return Promise.resolve({ ...stored });
    },
    schema: () => Promise.resolve([TEST_TYPE as unknown as Record<string, unknown>]),
  };
  return {
    mode: "local",
    location: "test",
    client,
    facts: () => Promise.resolve([]),
    actions: () => Promise.resolve([]),
    runAction: () => Promise.reject(new Error("not in this test")),
  };
}

Deno.test("the generated form edits the new field: a refused value shows the field's message, then it saves", async () => {
  const terminal = new ScriptedTerminal();
  const updates: WireObject[] = [];
  const ui = new Ui(terminal, fakeBackend(updates));
  const done = settingsForm(ui, TEST_TYPE);
  try {
    let screen = await terminal.waitFor("? Field");
    for (const field of TEST_TYPE.fields.filter((f) => !f.serverSet && f.name !== "id")) {
      assert.ok(screen.includes(fieldLabel(field).slice(0, 20)), `${field.name} is not offered in words`);
    }
    // shardCount is the fifth field.
    terminal.press("down", "down", "down", "down", "enter");
    screen = await terminal.waitFor("? Shards per namespace (default 4)");
    assert.match(screen, /UnsignedInt · Shards per namespace/);
    terminal.press("ctrl-u", "99", "enter");
    screen = await terminal.waitFor("Refused:");
    assert.match(screen, /Refused: Invalid "shardCount" \(99\): .*64/);
    terminal.press("ctrl-u", "16", "enter");
    screen = await terminal.waitFor("? Field");
    assert.match(screen, /Shards per namespace +16 +\(default 4\)/);
    assert.deepEqual(updates, [{ shardCount: 99 }, { shardCount: 16 }]);
    terminal.press("q");
    await done;
  } finally {
    terminal.input.end();
  }
});

Deno.test({
  name: "settings screen on the database: a duration in words is saved in seconds; a refusal is shown",
  ignore: !HAS_TMUX,
  fn: () =>
    withTuiOnNewDatabase(async (tui, dataDir) => {
      await tui.waitFor("? Go to");
      await tui.choose("Settings");
      let screen = await tui.waitFor("? Edit");
      assert.match(screen, /Cache[\s\S]*Authentication[\s\S]*OidcProvider/);
      await tui.keys("Enter");
      screen = await tui.waitFor("? Field");
      for (const name of Object.keys(CACHE_SETTINGS.fields)) {
        const label = fieldLabel({ name, type: "", description: CACHE_SETTINGS.fields[name].description });
        assert.ok(screen.includes(label.slice(0, 20)), `${name} is not offered in words`);
      }
      await tui.keys("Down", "Enter");
      await tui.waitFor("? Life of a positive entry (default 1800 (30m))");
      await tui.keys("C-u");
      await tui.type("45m");
      await tui.keys("Enter");
      screen = await tui.waitFor(/Life of a positive entry +2700 \(45m\)[\s\S]*↑↓ move/);
      const cache = await cli(["--data", dataDir, "get", "cache", "singleton", "--json"]);
      assert.equal(JSON.parse(cache.stdout).ttlSeconds, 2700);

      // A value the declaration refuses: the field's own message, and nothing saved.
      await tui.keys("Up", "Enter");
      await tui.waitFor("? Entries per cache namespace");
      await tui.keys("C-u");
      await tui.type("3");
      await tui.keys("Enter");
      screen = await tui.waitFor("Refused:");
      assert.match(screen, /Refused: Invalid "maxEntries" \(3\)/);
      await tui.keys("Escape");
      await tui.waitFor(/Entries per cache namespace +50000[\s\S]*↑↓ move/);
      const after = await cli(["--data", dataDir, "get", "cache", "singleton", "--json"]);
      assert.equal(JSON.parse(after.stdout).maxEntries, 50_000);
    }),
});
