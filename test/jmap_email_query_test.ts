/**
 * Email/query (RFC 8621 §4.4) on a small mailbox whose messages differ in every way a filter or
 * sort can see: each filter, each sort, collapseThreads, paging with position and anchor, totals,
 * queryChanges after a change, full-text search with diacritics, and what a sharer may see.
 */
import assert from "node:assert/strict";
import type { TestApp } from "./helpers.ts";
import { imported, message } from "./email_helpers.ts";
import {
  mailboxesByName,
  mailCall,
  mailError,
  type Obj,
  rights,
  share,
  type Who,
  withAliceAndBob,
} from "./mail_helpers.ts";

interface Fixture {
  ids: Record<string, string>;
  inbox: string;
  archive: string;
}

/** Five messages: name → (message, mailboxes, keywords, receivedAt). */
async function fixture(t: TestApp, alice: Who): Promise<Fixture> {
  const boxes = await mailboxesByName(t, alice);
  const inbox = boxes.Inbox.id as string;
  const archive = boxes.Archive.id as string;
  const ids: Record<string, string> = {};
  const add = async (name: string, text: string, mailboxIds: string[], keywords: string[], day: number) => {
    const created = await imported(t, alice, message(text), {
      mailboxIds,
      keywords,
      receivedAt: `2026-11-${String(day).padStart(2, "0")}T09:00:00Z`,
    });
    ids[name] = created.id as string;
  };
  await add(
    "plans",
    `From: "Zoë Adams" <zoe@example.org>
To: alice@example.org
Subject: Café plans
Date: Mon, 2 Nov 2026 08:00:00 +0000
Message-ID: <plans@example.org>
X-Priority: 1

Shall we meet at the café on the quay?
`,
    [inbox],
    ["$seen"],
    2,
  );
  await add(
    "reply",
    `From: alice@example.org
To: zoe@example.org
Subject: Re: Café plans
Date: Tue, 3 Nov 2026 08:00:00 +0000
In-Reply-To: <plans@example.org>

Yes, at noon.
`,
    [inbox, archive],
    [],
    3,
  );
  await add(
    "invoice",
    `From: Billing <billing@shop.example>
To: alice@example.org
Cc: accounts@example.org
Subject: Invoice 42
Date: Sun, 1 Nov 2026 08:00:00 +0000
Content-Type: multipart/mixed; boundary=x

--x
Content-Type: text/plain

Your invoice is attached.
--x
Content-Type: application/pdf; name="invoice-42.pdf"
Content-Disposition: attachment; filename="invoice-42.pdf"

%PDF-1.4 ${"x".repeat(3000)}
--x--
`,
    [inbox],
    ["$flagged"],
    4,
  );
  await add(
    "news",
    `From: News <news@list.example>
To: subscribers@list.example
Bcc: alice@example.org
Subject: Weekly news
Date: Fri, 6 Nov 2026 08:00:00 +0000
List-Id: <news.list.example>

Nothing happened this week.
`,
    [archive],
    ["$seen"],
    6,
  );
  await add(
    "note",
    `From: bob@example.org
To: alice@example.org
Subject: a note

short
`,
    [inbox],
    [],
    5,
  );
  return { ids, inbox, archive };
}

async function query(t: TestApp, who: Who, args: Obj): Promise<Obj> {
  return await mailCall(t, "Email/query", args, who);
}

const names = (f: Fixture, ids: unknown) =>
  (ids as string[]).map((id) => Object.entries(f.ids).find(([, v]) => v === id)?.[0] ?? id);

Deno.test("every filter condition selects what it says", async () => {
  await withAliceAndBob(async (t, alice) => {
    const f = await fixture(t, alice);
    const byDate = [{ property: "receivedAt", isAscending: true }];
    const check = async (filter: Obj, expected: string[]) => {
      const result = await query(t, alice, { filter, sort: byDate });
      assert.deepEqual(names(f, result.ids), expected, JSON.stringify(filter));
    };
    await check({ inMailbox: f.inbox }, ["plans", "reply", "invoice", "note"]);
    await check({ inMailbox: f.archive }, ["reply", "news"]);
    await check({ inMailboxOtherThan: [f.inbox] }, ["reply", "news"]);
    await check({ before: "2026-11-04T00:00:00Z" }, ["plans", "reply"]);
    await check({ after: "2026-11-05T00:00:00Z" }, ["note", "news"]);
    await check({ minSize: 2000 }, ["invoice"]);
    await check({ maxSize: 100 }, ["note"]);
    await check({ hasKeyword: "$seen" }, ["plans", "news"]);
    await check({ notKeyword: "$seen" }, ["reply", "invoice", "note"]);
    await check({ allInThreadHaveKeyword: "$seen" }, ["news"]);
    await check({ someInThreadHaveKeyword: "$seen" }, ["plans", "reply", "news"]);
    await check({ noneInThreadHaveKeyword: "$seen" }, ["invoice", "note"]);
    await check({ hasAttachment: true }, ["invoice"]);
    await check({ text: "cafe" }, ["plans", "reply"]);
    await check({ text: "invoice-42" }, ["invoice"]);
    await check({ from: "zoe" }, ["plans"]);
    await check({ to: "zoe" }, ["reply"]);
    await check({ cc: "accounts" }, ["invoice"]);
    await check({ bcc: "alice" }, ["news"]);
    await check({ subject: "plans" }, ["plans", "reply"]);
    await check({ body: "quay" }, ["plans"]);
    await check({ header: ["List-Id"] }, ["news"]);
    await check({ header: ["X-Priority", "1"] }, ["plans"]);
    await check({ text: "!!!" }, ["plans", "reply", "invoice", "note", "news"]);
    await check({ operator: "AND", conditions: [{ inMailbox: f.inbox }, { notKeyword: "$seen" }] }, [
      "reply",
      "invoice",
      "note",
    ]);
    await check({ operator: "OR", conditions: [{ hasAttachment: true }, { from: "news" }] }, [
      "invoice",
      "news",
    ]);
    await check({ operator: "NOT", conditions: [{ inMailbox: f.inbox }] }, ["news"]);
  });
});

Deno.test("every sort orders as asked, ties broken the same way each time", async () => {
  await withAliceAndBob(async (t, alice) => {
    const f = await fixture(t, alice);
    const check = async (sort: Obj[], expected: string[]) => {
      const result = await query(t, alice, { sort });
      assert.deepEqual(names(f, result.ids), expected, JSON.stringify(sort));
    };
    await check([{ property: "receivedAt", isAscending: false }], [
      "news",
      "note",
      "invoice",
      "reply",
      "plans",
    ]);
    // Without a Date header the note sorts by when it arrived (RFC 5256 §2.2).
    await check([{ property: "sentAt" }], ["invoice", "plans", "reply", "note", "news"]);
    const bySize = names(
      f,
      (await query(t, alice, { sort: [{ property: "size", isAscending: false }] })).ids,
    );
    assert.equal(bySize[0], "invoice");
    assert.equal(bySize.at(-1), "note");
    await check([{ property: "from" }, { property: "receivedAt" }], [
      "reply",
      "invoice",
      "note",
      "news",
      "plans",
    ]);
    await check([{ property: "subject" }, { property: "receivedAt" }], [
      "note",
      "plans",
      "reply",
      "invoice",
      "news",
    ]);
    await check([{ property: "hasKeyword", keyword: "$flagged", isAscending: false }, {
      property: "receivedAt",
    }], [
      "invoice",
      "plans",
      "reply",
      "note",
      "news",
    ]);
    const missingKeyword = await mailError(t, "Email/query", { sort: [{ property: "hasKeyword" }] }, alice);
    assert.equal(missingKeyword.type, "invalidArguments");
    const unknown = await mailError(t, "Email/query", { sort: [{ property: "color" }] }, alice);
    assert.equal(unknown.type, "unsupportedSort");
  });
});

Deno.test("the session's emailQuerySortOptions lists every sort Email/query accepts, each of which sorts", async () => {
  await withAliceAndBob(async (t, alice) => {
    const f = await fixture(t, alice);
    const session = await (await t.fetch("/jmap/session", { headers: { authorization: alice.auth } })).json();
    const options = session.accounts[alice.accountId].accountCapabilities["urn:ietf:params:jmap:mail"]
      .emailQuerySortOptions as string[];
    // RFC 8621 §1.3.1 emailQuerySortOptions: "A list of all the values the server supports for the
    // "property" field of the Comparator object in an "Email/query" sort (see Section 4.4.2)".
    assert.deepEqual([...options].sort(), [
      "allInThreadHaveKeyword",
      "from",
      "hasKeyword",
      "receivedAt",
      "sentAt",
      "size",
      "someInThreadHaveKeyword",
      "subject",
      "to",
    ]);
    for (const property of options) {
      const result = await query(t, alice, { sort: [{ property, keyword: "$seen" }] });
      assert.equal((result.ids as string[]).length, Object.keys(f.ids).length, property);
    }
    const unlisted = await mailError(t, "Email/query", { sort: [{ property: "threadId" }] }, alice);
    assert.equal(unlisted.type, "unsupportedSort");
  });
});

Deno.test("collapseThreads keeps the first email of each thread; paging by position and anchor; totals", async () => {
  await withAliceAndBob(async (t, alice) => {
    const f = await fixture(t, alice);
    const newest = [{ property: "receivedAt", isAscending: false }];
    const collapsed = await query(t, alice, { sort: newest, collapseThreads: true, calculateTotal: true });
    assert.deepEqual(names(f, collapsed.ids), ["news", "note", "invoice", "reply"]);
    assert.equal(collapsed.total, 4);
    const page = await query(t, alice, { sort: newest, position: 1, limit: 2, calculateTotal: true });
    assert.deepEqual(names(f, page.ids), ["note", "invoice"]);
    assert.equal(page.position, 1);
    assert.equal(page.total, 5);
    const fromEnd = await query(t, alice, { sort: newest, position: -2 });
    assert.deepEqual(names(f, fromEnd.ids), ["reply", "plans"]);
    assert.equal(fromEnd.position, 3);
    const anchored = await query(t, alice, {
      sort: newest,
      anchor: f.ids.invoice,
      anchorOffset: -1,
      limit: 2,
    });
    assert.deepEqual(names(f, anchored.ids), ["note", "invoice"]);
    assert.equal(anchored.position, 1);
    const lost = await mailError(t, "Email/query", { anchor: "zzzzzz" }, alice);
    assert.equal(lost.type, "anchorNotFound");
    const badFilter = await mailError(t, "Email/query", { filter: { color: "red" } }, alice);
    assert.equal(badFilter.type, "unsupportedFilter");
    const badDate = await mailError(t, "Email/query", { filter: { before: "monday" } }, alice);
    assert.equal(badDate.type, "invalidArguments");
  });
});

Deno.test("a mailbox listed by date pages exactly as the general query does; foreign or unreadable mailboxes list nothing", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const f = await fixture(t, alice);
    // {inMailbox} alone is read from the mailbox's date index; the same filter under AND takes the general path.
    const windows = [{}, { position: 1, limit: 2 }, { position: -3, limit: 2 }, { position: 9, limit: 5 }, {
      position: 1,
    }];
    for (const isAscending of [true, false]) {
      for (const collapseThreads of [false, true]) {
        for (const window of windows) {
          const args = {
            sort: [{ property: "receivedAt", isAscending }],
            collapseThreads,
            calculateTotal: true,
            ...window,
          };
          const listed = await query(t, alice, { ...args, filter: { inMailbox: f.inbox } });
          const general = await query(t, alice, {
            ...args,
            filter: { operator: "AND", conditions: [{ inMailbox: f.inbox }] },
          });
          assert.deepEqual(
            [listed.ids, listed.position, listed.total],
            [general.ids, general.position, general.total],
            JSON.stringify(args),
          );
        }
      }
    }
    // The fixture's Inbox has a thread of two (plans and its reply): collapsing drops one.
    const threads = await query(t, alice, {
      filter: { inMailbox: f.inbox },
      collapseThreads: true,
      calculateTotal: true,
    });
    assert.equal(threads.total, 3);
    const bobInbox = (await mailboxesByName(t, bob)).Inbox.id;
    const foreign = await query(t, alice, { filter: { inMailbox: bobInbox }, calculateTotal: true });
    assert.deepEqual([foreign.ids, foreign.total], [[], 0]);
    await share(t, alice, f.archive, { [bob.accountId]: rights("mayReadItems") });
    const shared = { accountId: alice.accountId, sort: [{ property: "receivedAt" }], calculateTotal: true };
    const readable = await query(t, bob, { ...shared, filter: { inMailbox: f.archive } });
    assert.deepEqual([names(f, readable.ids), readable.total], [["reply", "news"], 2]);
    const unreadable = await query(t, bob, { ...shared, filter: { inMailbox: f.inbox } });
    assert.deepEqual([unreadable.ids, unreadable.total], [[], 0]);
  });
});

Deno.test("queryChanges tells what moved in or out of a query since its state", async () => {
  await withAliceAndBob(async (t, alice) => {
    const f = await fixture(t, alice);
    const unseen = { inMailbox: f.inbox, notKeyword: "$seen" };
    const before = await query(t, alice, { filter: unseen });
    await mailCall(t, "Email/set", { update: { [f.ids.note]: { "keywords/$seen": true } } }, alice);
    const changes = await mailCall(t, "Email/queryChanges", {
      filter: unseen,
      sinceQueryState: before.queryState,
    }, alice);
    assert.deepEqual(changes.removed, [f.ids.note]);
    assert.deepEqual(changes.added, []);
    assert.equal(changes.total, 2);
  });
});

Deno.test("queryChanges does not remove what was created since the state and was never in the results", async () => {
  await withAliceAndBob(async (t, alice) => {
    const f = await fixture(t, alice);
    const inInbox = { inMailbox: f.inbox };
    const before = await query(t, alice, { filter: inInbox });
    // Created elsewhere (never in the Inbox query), created in the Inbox, created then destroyed.
    const elsewhere = await imported(t, alice, message("Subject: archived\n\nelsewhere\n"), {
      mailboxIds: [f.archive],
    });
    const arrived = await imported(t, alice, message("Subject: arrived\n\nnew\n"), { mailboxIds: [f.inbox] });
    const gone = await imported(t, alice, message("Subject: gone\n\nsoon\n"), { mailboxIds: [f.inbox] });
    await mailCall(t, "Email/set", { destroy: [gone.id] }, alice);
    // And one that was in the results and left them.
    await mailCall(
      t,
      "Email/set",
      { update: { [f.ids.note]: { mailboxIds: { [f.archive]: true } } } },
      alice,
    );
    const changes = await mailCall(t, "Email/queryChanges", {
      filter: inInbox,
      sort: [{ property: "receivedAt", isAscending: false }],
      sinceQueryState: before.queryState,
    }, alice);
    assert.deepEqual(changes.removed, [f.ids.note]);
    assert.deepEqual((changes.added as { id: string }[]).map((a) => a.id), [arrived.id]);
    assert.ok(!(changes.removed as string[]).includes(elsewhere.id as string));
  });
});

Deno.test("a sharer's query finds only the emails of the mailboxes it may read", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const f = await fixture(t, alice);
    await share(t, alice, f.archive, { [bob.accountId]: rights("mayReadItems") });
    const result = await query(t, bob, { accountId: alice.accountId, sort: [{ property: "receivedAt" }] });
    assert.deepEqual(names(f, result.ids), ["reply", "news"]);
    const text = await query(t, bob, { accountId: alice.accountId, filter: { text: "invoice" } });
    assert.deepEqual(text.ids, []);
  });
});

Deno.test("SearchSnippet/get marks the words found in subject and body, HTML-escaped; null where none", async () => {
  await withAliceAndBob(async (t, alice) => {
    const f = await fixture(t, alice);
    const tricky = await imported(
      t,
      alice,
      message(`Subject: <b>café</b> & more

The café <script>alert(1)</script> is open; the CAFE is near.
`),
    );
    const result = await mailCall(t, "SearchSnippet/get", {
      filter: { text: "cafe" },
      emailIds: [f.ids.plans, tricky.id, f.ids.invoice, "zzzzzz"],
    }, alice);
    const [plans, html, invoice] = result.list as Obj[];
    assert.equal(plans.emailId, f.ids.plans);
    assert.equal(plans.subject, "<mark>Café</mark> plans");
    assert.match(String(plans.preview), /meet at the <mark>café<\/mark> on the quay/);
    assert.equal(html.subject, "&lt;b&gt;<mark>café</mark>&lt;/b&gt; &amp; more");
    assert.match(
      String(html.preview),
      /The <mark>café<\/mark> &lt;script&gt;alert\(1\)&lt;\/script&gt; is open; the <mark>CAFE<\/mark>/,
    );
    assert.deepEqual(invoice, { emailId: f.ids.invoice, subject: null, preview: null });
    assert.deepEqual(result.notFound, ["zzzzzz"]);
    const noWords = await mailCall(t, "SearchSnippet/get", {
      filter: { inMailbox: f.inbox },
      emailIds: [f.ids.plans],
    }, alice);
    assert.deepEqual(noWords.list, [{ emailId: f.ids.plans, subject: null, preview: null }]);
    // RFC 8621 §5.1: notFound is "An array of Email ids requested that could not be found, or null
    // if all ids were found".
    assert.equal(noWords.notFound, null);
    const allFound = await mailCall(t, "SearchSnippet/get", {
      filter: { text: "cafe" },
      emailIds: [f.ids.plans, f.ids.invoice],
    }, alice);
    assert.equal(allFound.notFound, null);
    assert.equal((allFound.list as Obj[]).length, 2);
    const missing = await mailError(t, "SearchSnippet/get", { filter: null }, alice);
    assert.equal(missing.type, "invalidArguments");
  });
});

Deno.test("Email/query with 1,000 conditions under one operator answers; past 1,024 it is unsupportedFilter, never serverFail", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const { ids } = await fixture(t, alice);
    const words = (n: number) => Array.from({ length: n }, (_, i) => ({ subject: `nothing${i}` }));
    for (const operator of ["OR", "AND", "NOT"]) {
      const conditions = [...words(998), { inMailbox: (await mailboxesByName(t, alice)).Inbox.id }];
      const result = await mailCall(t, "Email/query", { filter: { operator, conditions } }, alice);
      assert.ok(Array.isArray(result.ids), JSON.stringify(result));
      if (operator === "OR") assert.ok((result.ids as string[]).length > 0);
      if (operator === "AND") assert.deepEqual(result.ids, []);
    }
    const deep = await mailCall(t, "Email/query", {
      filter: { operator: "AND", conditions: [{ operator: "OR", conditions: words(1_000) }, {}] },
    }, alice);
    assert.deepEqual(deep.ids, []);
    const refused = await mailError(t, "Email/query", {
      filter: { operator: "OR", conditions: words(1_024) },
    }, alice);
    assert.equal(refused.type, "unsupportedFilter");
    assert.match(refused.description as string, /at most 1024/);
    const snippets = await mailError(t, "SearchSnippet/get", {
      filter: { operator: "OR", conditions: words(1_024) },
      emailIds: [Object.values(ids)[0]],
    }, alice);
    assert.equal(snippets.type, "unsupportedFilter");
    // Bob's own query of 1,000 conditions sees none of Alice's emails.
    const bobs = await mailCall(
      t,
      "Email/query",
      { filter: { operator: "OR", conditions: words(1_000) } },
      bob,
    );
    assert.deepEqual(bobs.ids, []);
  });
});

Deno.test("a search word joined by an underscore finds the email and is marked in its snippet", async () => {
  // FTS5's tokenizer splits "snake_case" in two, so as one quoted term it was a phrase query, which
  // the index (detail=column) refuses: Email/query and SearchSnippet/get answered serverFail.
  await withAliceAndBob(async (t, alice) => {
    const f = await fixture(t, alice);
    const code = await imported(
      t,
      alice,
      message(`Subject: naming

Rename the field to snake_case before Friday.
`),
    );
    const query = await mailCall(t, "Email/query", { filter: { text: "snake_case" } }, alice);
    assert.deepEqual(query.ids, [code.id]);
    const result = await mailCall(t, "SearchSnippet/get", {
      filter: { body: "field snake_case" },
      emailIds: [code.id, f.ids.plans],
    }, alice);
    const [found, other] = result.list as Obj[];
    assert.match(String(found.preview), /the <mark>field<\/mark> to <mark>snake<\/mark>_<mark>case<\/mark>/);
    assert.deepEqual(other, { emailId: f.ids.plans, subject: null, preview: null });
  });
});
