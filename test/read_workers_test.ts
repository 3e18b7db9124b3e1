// Email/query on read workers (src/store/read_pool.ts) against the main-thread path: two apps on one
// database file, one with read workers and one without, must answer every query alike (ids, total,
// position, queryState), see every write before the next query, and refuse what the main thread refuses.
import assert from "node:assert/strict";
import { distinctMessage, imported } from "./email_helpers.ts";
import { startTestApp, type TestApp } from "./helpers.ts";
import {
  createUsers,
  mailboxesByName,
  mailCall,
  mailError,
  mailRequest,
  type Obj,
  rights,
  share,
  type Who,
} from "./mail_helpers.ts";

interface Pair {
  /** With two read workers. */
  workers: TestApp;
  /** Without: every query on the main thread. */
  main: TestApp;
  alice: Who;
  bob: Who;
  /** Alice's mailbox ids by name. */
  boxes: Record<string, string>;
}

async function withPair(body: (p: Pair) => Promise<void>): Promise<void> {
  const workers = await startTestApp({ readWorkers: 2 });
  const main = await startTestApp({ dataDir: workers.dataDir, readWorkers: 0 });
  try {
    const [alice, bob] = await createUsers(workers, ["alice", "bob"]);
    const byName = await mailboxesByName(workers, alice);
    const boxes = Object.fromEntries(Object.entries(byName).map(([name, m]) => [name, m.id as string]));
    await body({ workers, main, alice, bob, boxes });
  } finally {
    await main.close();
    await workers.close();
  }
}

const WORDS = ["apple", "banana", "cherry", "apricot", "blueberry"];

/** Twenty messages: words, senders and mailboxes in a pattern, two threads of replies, some flagged. */
async function corpus(p: Pair): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await imported(
      p.workers,
      p.alice,
      distinctMessage(
        `${WORDS[i % 5]} report`,
        `Notes about ${WORDS[(i * 3) % 5]} and ${WORDS[(i + 1) % 5]}`,
        `sender${i % 3}@example.net`,
      ),
      {
        mailboxIds: [i % 4 === 0 ? p.boxes.Archive : p.boxes.Inbox],
        keywords: i % 3 === 0 ? ["$flagged"] : [],
        receivedAt: new Date(Date.UTC(2026, 0, 1 + (i * 7) % 20)).toISOString(),
      },
    );
  }
}

/** The query mix: text, prefixes, from/subject, inMailbox, no match, paging, anchors, threads. */
function mix(p: Pair, anchor: string): Obj[] {
  const newest = [{ property: "receivedAt", isAscending: false }];
  return [
    { filter: { text: "apple" }, sort: newest, limit: 5 },
    { filter: { text: "ap" }, sort: newest, limit: 50, calculateTotal: true },
    { filter: { text: "blue" }, sort: [{ property: "receivedAt", isAscending: true }], limit: 3 },
    { filter: { from: "sender1" }, sort: newest },
    { filter: { subject: "cherry" }, sort: newest, calculateTotal: true },
    {
      filter: { operator: "AND", conditions: [{ inMailbox: p.boxes.Inbox }, { text: "banana" }] },
      sort: newest,
    },
    { filter: { operator: "AND", conditions: [{ inMailbox: p.boxes.Archive }, { from: "sender0" }] } },
    { filter: { inMailbox: p.boxes.Inbox }, sort: newest, position: 2, limit: 4, calculateTotal: true },
    { filter: { text: "durian" }, sort: newest, calculateTotal: true },
    { filter: { text: "report" }, sort: newest, position: 4, limit: 3, calculateTotal: true },
    { filter: { text: "report" }, sort: newest, position: -3 },
    { filter: { text: "notes" }, sort: newest, anchor, anchorOffset: -1, limit: 3 },
    { filter: { text: "report" }, sort: [{ property: "size", isAscending: true }], collapseThreads: true },
    { filter: { operator: "NOT", conditions: [{ text: "apple" }] }, sort: newest, calculateTotal: true },
    { filter: { hasKeyword: "$flagged" }, sort: [{ property: "subject", isAscending: true }] },
  ];
}

/** The parts of an Email/query answer both paths must agree on. */
function answer(result: Obj): Obj {
  const { ids, total, position, queryState } = result;
  return { ids, total, position, queryState };
}

Deno.test("Email/query answers alike on read workers and on the main thread: ids, total, position, queryState", () =>
  withPair(async (p) => {
    await corpus(p);
    const all = await mailCall(p.workers, "Email/query", {
      sort: [{ property: "receivedAt", isAscending: false }],
    }, p.alice);
    const queries = mix(p, (all.ids as string[])[5]);
    const before = p.workers.services.store.readWorkers!.jobs;
    for (const args of queries) {
      const onWorkers = await mailCall(p.workers, "Email/query", args, p.alice);
      const onMain = await mailCall(p.main, "Email/query", args, p.alice);
      assert.deepEqual(answer(onWorkers), answer(onMain), JSON.stringify(args));
      assert.equal(onWorkers.queryState, await emailState(p.main, p.alice), JSON.stringify(args));
    }
    // Every query of the mix ran on a worker but the mailbox listing (src/store/email_query_snapshot.ts);
    // the main-thread app has none.
    assert.equal(p.workers.services.store.readWorkers!.jobs - before, queries.length - 1);
    assert.equal(p.main.services.store.readWorkers, undefined);
    // And /metrics says so.
    const metrics = await (await p.workers.fetch("/metrics")).text();
    assert.match(metrics, /^postern_read_workers 2$/m);
    assert.match(metrics, /^postern_read_worker_jobs_total [1-9]\d*$/m);
    assert.match(metrics, /^postern_read_workers_replaced_total 0$/m);
    // Some queries found something, and one found nothing: the comparison was not between empty lists.
    const found = await mailCall(p.workers, "Email/query", queries[1], p.alice);
    assert.ok((found.ids as string[]).length > 3);
  }));

async function emailState(app: TestApp, who: Who): Promise<string> {
  return (await mailCall(app, "Email/get", { ids: [] }, who)).state as string;
}

Deno.test("a write between two queries on read workers is seen by the second, with the new queryState", () =>
  withPair(async (p) => {
    const args = { filter: { text: "zucchini" }, calculateTotal: true };
    const first = await mailCall(p.workers, "Email/query", args, p.alice);
    assert.deepEqual(first.ids, []);
    const email = await imported(p.workers, p.alice, distinctMessage("zucchini soup"));
    const second = await mailCall(p.workers, "Email/query", args, p.alice);
    assert.deepEqual(second.ids, [email.id]);
    assert.equal(second.total, 1);
    assert.notEqual(second.queryState, first.queryState);
    assert.equal(second.queryState, await emailState(p.workers, p.alice));
    // A write through the other app (another connection, as another process) too.
    const other = await imported(p.main, p.alice, distinctMessage("zucchini bread"));
    const third = await mailCall(p.workers, "Email/query", args, p.alice);
    assert.deepEqual([...(third.ids as string[])].sort(), [email.id, other.id].sort());
    // One request: the query and the get after it (by reference) see the same emails.
    const { methodResponses } = await mailRequest(p.workers, [
      ["Email/query", { accountId: p.alice.accountId, ...args }, "q"],
      ["Email/get", {
        accountId: p.alice.accountId,
        "#ids": { resultOf: "q", name: "Email/query", path: "/ids" },
        properties: ["subject"],
      }, "g"],
    ], p.alice.auth);
    assert.equal((methodResponses[1][1].list as Obj[]).length, 2);
    assert.equal(methodResponses[0][1].queryState, methodResponses[1][1].state);
  }));

Deno.test("on read workers, another account's query is refused and a grantee finds only granted mailboxes", () =>
  withPair(async (p) => {
    const inInbox = await imported(p.workers, p.alice, distinctMessage("quince jam"), {
      mailboxIds: [p.boxes.Inbox],
    });
    await imported(p.workers, p.alice, distinctMessage("quince tart"), { mailboxIds: [p.boxes.Archive] });
    const args = { accountId: p.alice.accountId, filter: { text: "quince" }, calculateTotal: true };
    // Nothing shared: bob cannot query alice's account at all.
    const refused = await mailError(p.workers, "Email/query", args, p.bob);
    assert.equal(refused.type, "accountNotFound");
    // The Inbox shared for reading: bob finds the Inbox's email only, as on the main thread.
    await share(p.workers, p.alice, p.boxes.Inbox, { [p.bob.accountId]: rights("mayReadItems") });
    const granted = await mailCall(p.workers, "Email/query", args, p.bob);
    assert.deepEqual(granted.ids, [inInbox.id]);
    assert.equal(granted.total, 1);
    assert.deepEqual(answer(granted), answer(await mailCall(p.main, "Email/query", args, p.bob)));
    // The grant revoked: refused again at once.
    await share(p.workers, p.alice, p.boxes.Inbox, null);
    assert.equal((await mailError(p.workers, "Email/query", args, p.bob)).type, "accountNotFound");
    // A revoked credential: 401 before any query runs.
    const bobId = (await p.workers.services.accounts.idByLogin(p.bob.emailAddress))!;
    await p.workers.services.accounts.update(bobId, { password: "a completely different password" });
    const response = await p.workers.fetch("/jmap", {
      method: "POST",
      headers: { authorization: p.bob.auth, "content-type": "application/json" },
      body: JSON.stringify({
        using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
        methodCalls: [],
      }),
    });
    assert.equal(response.status, 401);
    await response.body?.cancel();
  }));

Deno.test("bad Email/query input gets the same JMAP error with read workers as without", () =>
  withPair(async (p) => {
    await corpus(p);
    const bad: [Obj, string][] = [
      [{ filter: { color: "red" } }, "unsupportedFilter"],
      [{ filter: { text: 42 } }, "invalidArguments"],
      [{ filter: { before: "monday" } }, "invalidArguments"],
      [{ filter: { text: "apple" }, anchor: "zzzzzz" }, "anchorNotFound"],
      [{ sort: [{ property: "color", isAscending: true }] }, "unsupportedSort"],
      [{ filter: { text: "apple" }, collapseThreads: "yes" }, "invalidArguments"],
    ];
    for (const [args, type] of bad) {
      assert.equal(
        (await mailError(p.workers, "Email/query", args, p.alice)).type,
        type,
        JSON.stringify(args),
      );
      assert.equal((await mailError(p.main, "Email/query", args, p.alice)).type, type, JSON.stringify(args));
    }
  }));

/** The raw text of a JMAP request's methodResponses: what the client reads, byte for byte. */
async function rawResponses(app: TestApp, who: Who, methodCalls: unknown[]): Promise<string> {
  const response = await app.fetch("/jmap", {
    method: "POST",
    headers: { authorization: who.auth, "content-type": "application/json" },
    body: JSON.stringify({ using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"], methodCalls }),
  });
  assert.equal(response.status, 200);
  const text = await response.text();
  // The session state is the one part that names the app rather than the data.
  return text.slice(0, text.lastIndexOf(',"sessionState"'));
}

Deno.test("Email/get of many emails reads them on a read worker and answers byte for byte as the main thread", () =>
  withPair(async (p) => {
    await corpus(p);
    const page = (accountId: string, properties?: string[]) => [
      ["Email/query", { accountId, sort: [{ property: "receivedAt", isAscending: false }] }, "q"],
      ["Email/get", {
        accountId,
        "#ids": { resultOf: "q", name: "Email/query", path: "/ids" },
        ...(properties ? { properties } : {}),
      }, "g"],
      ["Email/get", { accountId, ids: ["zzzzzz", "Mzzzzz"], properties: ["subject"] }, "n"],
    ];
    const listed = ["id", "threadId", "mailboxIds", "keywords", "from", "subject", "receivedAt", "preview"];
    const before = p.workers.services.store.readWorkers!.jobs;
    const onWorkers = await rawResponses(p.workers, p.alice, page(p.alice.accountId, listed));
    assert.equal(onWorkers, await rawResponses(p.main, p.alice, page(p.alice.accountId, listed)));
    // The query and the get of 20 went to the workers; the get of two unknown ids stayed.
    assert.equal(p.workers.services.store.readWorkers!.jobs - before, 2);
    assert.equal((JSON.parse(onWorkers + "}").methodResponses[1][1].list as Obj[]).length, 20);
    // Every default property, body ones included (the message is read on the main thread).
    assert.equal(
      await rawResponses(p.workers, p.alice, page(p.alice.accountId)),
      await rawResponses(p.main, p.alice, page(p.alice.accountId)),
    );
    // A keyword and a mailbox changed: the next get on a worker sees both, as the main thread does.
    const first = JSON.parse(onWorkers + "}").methodResponses[1][1].list[0] as Obj;
    await mailCall(p.workers, "Email/set", {
      update: { [first.id as string]: { "keywords/$seen": true, [`mailboxIds/${p.boxes.Archive}`]: true } },
    }, p.alice);
    const after = await rawResponses(p.workers, p.alice, page(p.alice.accountId, listed));
    assert.notEqual(after, onWorkers);
    assert.equal(after, await rawResponses(p.main, p.alice, page(p.alice.accountId, listed)));
    const changed = JSON.parse(after + "}").methodResponses[1][1].list[0] as Obj;
    assert.deepEqual(changed.keywords, { ...first.keywords as Obj, $seen: true });
    assert.equal((changed.mailboxIds as Obj)[p.boxes.Archive], true);
    // A grantee of the Inbox alone: the emails of the Inbox, each with only its visible mailboxes.
    await share(p.workers, p.alice, p.boxes.Inbox, { [p.bob.accountId]: rights("mayReadItems") });
    const granted = await rawResponses(p.workers, p.bob, page(p.alice.accountId, listed));
    assert.equal(granted, await rawResponses(p.main, p.bob, page(p.alice.accountId, listed)));
    const seen = JSON.parse(granted + "}").methodResponses[1][1].list as Obj[];
    assert.equal(seen.length, 15);
    assert.ok(seen.every((e) => Object.keys(e.mailboxIds as Obj).join() === p.boxes.Inbox));
  }));
