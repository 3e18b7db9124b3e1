/**
 * Differential test against a real client's encoder: imapflow's command builders (lib/commands/*)
 * run on a stand-in connection that records what they would send, imapflow's compiler
 * (lib/handler/imap-compiler.js) turns that into bytes, with and without LITERAL+, and the decoder
 * must read back the command the client meant.
 */
import assert from "node:assert/strict";
import imapCompiler from "imapflow/lib/handler/imap-compiler.js";
import fetchCommand from "imapflow/lib/commands/fetch.js";
import searchCommand from "imapflow/lib/commands/search.js";
import storeCommand from "imapflow/lib/commands/store.js";
import appendCommand from "imapflow/lib/commands/append.js";
import listCommand from "imapflow/lib/commands/list.js";
import statusCommand from "imapflow/lib/commands/status.js";
import moveCommand from "imapflow/lib/commands/move.js";
import copyCommand from "imapflow/lib/commands/copy.js";
import loginCommand from "imapflow/lib/commands/login.js";
import idCommand from "imapflow/lib/commands/id.js";
import createCommand from "imapflow/lib/commands/create.js";
import renameCommand from "imapflow/lib/commands/rename.js";
import type { CommandBody, DecodeEvent } from "./command.ts";
import { createCommandDecoder } from "./decoder.ts";
import { TEST_LIMITS } from "./test_helpers.ts";

/** imapflow's builders, typed loosely: the test hands them a stand-in connection. */
type Builder = (connection: unknown, ...args: unknown[]) => Promise<unknown>;
const loose = (builder: unknown) => builder as Builder;
const [fetch, search, store, append, list, status, move, copy, login, id, create, rename] = [
  fetchCommand,
  searchCommand,
  storeCommand,
  appendCommand,
  listCommand,
  statusCommand,
  moveCommand,
  copyCommand,
  loginCommand,
  idCommand,
  createCommand,
  renameCommand,
].map(loose);
const compiler = imapCompiler as unknown as (command: Call & { tag: string }, options: object) => Uint8Array;

interface Call {
  command: string;
  attributes: unknown;
}

/** A stand-in for imapflow's connection: a selected mailbox, Postern's capabilities, exec recorded. */
function standIn(state: "NOT_AUTHENTICATED" | "SELECTED") {
  const calls: Call[] = [];
  const states = { NOT_AUTHENTICATED: 1, AUTHENTICATED: 2, SELECTED: 3, LOGOUT: 4 };
  const capabilities = [
    "IMAP4rev1",
    "CONDSTORE",
    "QRESYNC",
    "ESEARCH",
    "OBJECTID",
    "BINARY",
    "LITERAL+",
    "MOVE",
  ];
  const connection = {
    id: "test",
    states,
    state: states[state],
    capabilities: new Map(
      [...capabilities, "UIDPLUS", "ID", "SPECIAL-USE", "LIST-STATUS"].map((c) => [c, true]),
    ),
    enabled: new Set(["CONDSTORE", "QRESYNC"]),
    mailbox: { path: "INBOX", flags: new Set(), permanentFlags: new Set(["\\*"]), uidValidity: 1n },
    namespace: { delimiter: "/", prefix: "" },
    log: { debug() {}, warn() {}, info() {}, error() {}, trace() {} },
    emit() {},
    run() {},
    exec(command: string, attributes: unknown) {
      calls.push({ command, attributes });
      return Promise.resolve({ next() {}, response: { attributes: [] } });
    },
  };
  return { connection, calls };
}

/** What the decoder makes of the command imapflow sends for `run`, with and without LITERAL+. */
async function roundTrip(
  state: "NOT_AUTHENTICATED" | "SELECTED",
  run: (connection: unknown) => Promise<unknown>,
): Promise<Array<{ uid: boolean; body: CommandBody }>> {
  const { connection, calls } = standIn(state);
  try {
    await run(connection);
  } catch { /* the stand-in's answers do not satisfy every command; what it sent is recorded */ }
  assert.ok(calls.length > 0, "imapflow sent nothing");
  const results: Array<{ uid: boolean; body: CommandBody }> = [];
  for (const literalPlus of [true, false]) {
    for (const call of calls) {
      const bytes = compiler({ tag: "A1", command: call.command, attributes: call.attributes }, {
        literalPlus,
      });
      const decoder = createCommandDecoder(TEST_LIMITS);
      const events: DecodeEvent[] = decoder.push(new Uint8Array([...bytes, 0x0d, 0x0a]));
      const commands = events.filter((e) => e.type !== "continue");
      assert.equal(commands.length, 1, `${new TextDecoder().decode(bytes)}: ${Deno.inspect(commands)}`);
      const event = commands[0];
      if (event.type !== "command") {
        throw new Error(`${new TextDecoder().decode(bytes)}: ${Deno.inspect(event)}`);
      }
      assert.equal(event.command.tag, "A1");
      if (!literalPlus) results.push({ uid: event.command.uid, body: event.command.body });
    }
  }
  return results;
}

Deno.test("imapflow's FETCH decodes to the items it asked for", async () => {
  const [fetched] = await roundTrip("SELECTED", (c) =>
    fetch(c, "1:*", {
      uid: true,
      flags: true,
      envelope: true,
      headers: ["date", "from"],
      bodyParts: ["1.2", { key: "2", start: 10, maxLength: 100 }],
      source: true,
      threadId: true,
    }, { uid: true, changedSince: 5n }));
  assert.deepEqual(fetched, {
    uid: true,
    body: {
      name: "FETCH",
      set: [{ start: 1, end: "*" }],
      items: [
        { kind: "UID" },
        { kind: "FLAGS" },
        { kind: "ENVELOPE" },
        { kind: "BODY[]", peek: true, section: { part: [] } },
        { kind: "EMAILID" },
        { kind: "THREADID" },
        { kind: "MODSEQ" },
        {
          kind: "BODY[]",
          peek: true,
          section: { part: [], text: "HEADER.FIELDS", fields: ["date", "from"] },
        },
        { kind: "BODY[]", peek: true, section: { part: [1, 2] } },
        { kind: "BODY[]", peek: true, section: { part: [2] }, partial: { offset: 10, length: 100 } },
      ],
      changedSince: 5n,
      vanished: true,
    },
  });
  const [binary] = await roundTrip(
    "SELECTED",
    (c) => fetch(c, "7", { bodyParts: ["1"], size: true }, { binary: true }),
  );
  assert.deepEqual((binary.body as { items: unknown[] }).items, [
    { kind: "RFC822.SIZE" },
    { kind: "EMAILID" },
    { kind: "MODSEQ" },
    { kind: "UID" },
    { kind: "BINARY[]", peek: true, part: [1] },
  ]);
});

Deno.test("imapflow's SEARCH decodes to the criteria it asked for, UTF-8 literal included", async () => {
  const [searched] = await roundTrip("SELECTED", (c) =>
    search(c, {
      seen: false,
      from: "Smith",
      since: new Date("1994-02-01T00:00:00Z"),
      or: [{ to: "a" }, { cc: "b", deleted: true }],
      header: { "X-A": "y" },
      larger: 10,
      uid: "1:5",
      body: "жиб",
      not: { keyword: "$Junk" },
      modseq: 12n,
    }, { uid: true }));
  assert.deepEqual(searched, {
    uid: true,
    body: {
      name: "SEARCH",
      charset: "UTF-8",
      criteria: {
        op: "and",
        keys: [
          { op: "flag", flag: "\\Seen", present: false },
          { op: "header", field: "FROM", value: "Smith" },
          { op: "date", field: "internal", compare: "since", date: "1994-02-01" },
          {
            op: "or",
            left: { op: "header", field: "TO", value: "a" },
            right: {
              op: "and",
              keys: [{ op: "header", field: "CC", value: "b" }, {
                op: "flag",
                flag: "\\Deleted",
                present: true,
              }],
            },
          },
          { op: "header", field: "X-A", value: "y" },
          { op: "size", compare: "larger", size: 10 },
          { op: "uid", set: [{ start: 1, end: 5 }] },
          { op: "body", value: "жиб" },
          { op: "not", key: { op: "flag", flag: "$Junk", present: true } },
          { op: "modseq", modseq: 12n },
        ],
      },
      returns: [],
      esearch: false,
    },
  });
  const [esearch] = await roundTrip(
    "SELECTED",
    (c) => search(c, { all: true }, { returnOptions: ["min", "count"] }),
  );
  assert.deepEqual(esearch.body, {
    name: "SEARCH",
    criteria: { op: "all" },
    returns: ["MIN", "COUNT"],
    esearch: true,
  });
});

Deno.test("imapflow's STORE, APPEND, COPY and MOVE decode to what it asked for", async () => {
  const [stored] = await roundTrip(
    "SELECTED",
    (c) =>
      store(c, "1:3", ["\\Seen", "$Junk"], { uid: true, operation: "add", silent: true, unchangedSince: 7n }),
  );
  assert.deepEqual(stored, {
    uid: true,
    body: {
      name: "STORE",
      set: [{ start: 1, end: 3 }],
      unchangedSince: 7n,
      operation: "add",
      silent: true,
      flags: ["\\Seen", "$Junk"],
    },
  });
  const message = "Subject: x\r\n\r\nbody\r\n";
  const [appended] = await roundTrip(
    "SELECTED",
    (c) => append(c, "Entwürfe", message, ["\\Seen"], new Date("2024-02-01T10:00:00Z")),
  );
  assert.deepEqual(appended.body, {
    name: "APPEND",
    mailbox: "Entwürfe",
    messages: [{
      flags: ["\\Seen"],
      date: new Date("2024-02-01T10:00:00Z"),
      message: new TextEncoder().encode(message),
      binary: false,
    }],
  });
  const [moved] = await roundTrip("SELECTED", (c) => move(c, "1:2", "台北", { uid: true }));
  assert.deepEqual(moved, {
    uid: true,
    body: { name: "MOVE", set: [{ start: 1, end: 2 }], mailbox: "台北" },
  });
  const [copied] = await roundTrip("SELECTED", (c) => copy(c, "5,7:*", "Archive", {}));
  assert.deepEqual(copied.body, {
    name: "COPY",
    set: [{ start: 5, end: 5 }, { start: 7, end: "*" }],
    mailbox: "Archive",
  });
});

Deno.test("imapflow's LOGIN, ID, LIST, STATUS, CREATE and RENAME decode to what it asked for", async () => {
  const [loggedIn] = await roundTrip("NOT_AUTHENTICATED", (c) => login(c, "fred", 'p"a ss\\'));
  assert.deepEqual(loggedIn.body, { name: "LOGIN", username: "fred", password: 'p"a ss\\' });
  const [identified] = await roundTrip("SELECTED", (c) => id(c, { name: "imapflow", version: "1" }));
  assert.deepEqual({ ...(identified.body as { parameters: object }).parameters }, {
    name: "imapflow",
    version: "1",
  });
  const listed = await roundTrip(
    "SELECTED",
    (c) => list(c, "", "*", { statusQuery: { messages: true, unseen: true } }),
  );
  assert.deepEqual(listed[0].body, {
    name: "LIST",
    reference: "",
    patterns: ["*"],
    selection: [],
    returns: { subscribed: false, children: false, specialUse: true, status: ["MESSAGES", "UNSEEN"] },
    basic: false,
  });
  assert.deepEqual(listed[1].body, { name: "LSUB", reference: "", pattern: "*" });
  const [statused] = await roundTrip("SELECTED", (c) => status(c, "Sent", { messages: true, uidNext: true }));
  assert.deepEqual(statused.body, { name: "STATUS", mailbox: "Sent", items: ["MESSAGES", "UIDNEXT"] });
  const [created] = await roundTrip("SELECTED", (c) => create(c, "new/日本語"));
  assert.deepEqual(created.body, { name: "CREATE", mailbox: "new/日本語", specialUse: [] });
  const [renamed] = await roundTrip("SELECTED", (c) => rename(c, "a b", "c&d"));
  assert.deepEqual(renamed.body, { name: "RENAME", from: "a b", to: "c&d" });
});
