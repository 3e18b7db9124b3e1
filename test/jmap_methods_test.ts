/**
 * Method-level errors (RFC 8620 §3.6.2, §5), SetErrors (§5.3) and result references (§3.7) as a
 * client sees them in the response to POST /jmap.
 */
import assert from "node:assert/strict";
import {
  call,
  callError,
  CORE,
  create,
  createUser,
  jmap,
  notCreated,
  notUpdated,
  set,
  withApp,
} from "./jmap_helpers.ts";

type Obj = Record<string, unknown>;
type SetErrors = Record<string, Obj>;

Deno.test("an unknown method is unknownMethod and the calls around it still run", () =>
  withApp(async (t) => {
    const { methodResponses } = await jmap(t, [
      ["Core/echo", { n: 1 }, "a"],
      ["x:Nothing/get", { accountId: "b" }, "b"],
      ["Core/echo", { n: 2 }, "c"],
    ]);
    assert.equal(methodResponses.length, 3);
    assert.deepEqual(methodResponses[0], ["Core/echo", { n: 1 }, "a"]);
    assert.equal(methodResponses[1][0], "error");
    assert.equal(methodResponses[1][1].type, "unknownMethod");
    assert.match(methodResponses[1][1].description as string, /x:Nothing\/get/);
    assert.equal(methodResponses[1][2], "b");
    assert.deepEqual(methodResponses[2], ["Core/echo", { n: 2 }, "c"]);
  }));

Deno.test("a known method whose capability is missing from using is unknownMethod naming the capability", () =>
  withApp(async (t) => {
    const error = await callError(t, "Core/echo", { hello: 1 }, { using: [] });
    assert.equal(error.type, "unknownMethod");
    assert.ok((error.description as string).includes(CORE), error.description as string);
    const withCore = await callError(t, "x:Domain/nothing", { accountId: "b" }, { using: [CORE] });
    assert.equal(withCore.type, "unknownMethod");
  }));

Deno.test("an argument a method does not have is invalidArguments naming it", () =>
  withApp(async (t) => {
    const cases: [string, Obj, string][] = [
      ["x:Domain/get", { accountId: "b", colour: "red" }, "colour"],
      ["x:Account/set", { accountId: "b", creat: {} }, "creat"],
      ["x:Account/query", { accountId: "b", offset: 1 }, "offset"],
      ["x:Domain/changes", { accountId: "b", sinceState: "0", since: "0" }, "since"],
    ];
    for (const [name, args, argument] of cases) {
      const error = await callError(t, name, args);
      assert.equal(error.type, "invalidArguments", name);
      assert.ok((error.description as string).includes(`"${argument}"`), error.description as string);
    }
  }));

Deno.test("an argument of the wrong type is invalidArguments naming it", () =>
  withApp(async (t) => {
    const cases: [string, Obj, string][] = [
      ["x:Domain/get", { accountId: "b", ids: "b" }, "ids"],
      ["x:Domain/get", { accountId: "b", ids: [1] }, "ids"],
      ["x:Domain/get", { accountId: "b", properties: "name" }, "properties"],
      ["x:Domain/get", { accountId: 2 }, "accountId"],
      ["x:Domain/get", {}, "accountId"],
      ["x:Domain/set", { accountId: "b", create: [] }, "create"],
      ["x:Domain/set", { accountId: "b", destroy: "b" }, "destroy"],
      ["x:Domain/set", { accountId: "b", ifInState: 1 }, "ifInState"],
      ["x:Account/query", { accountId: "b", position: "1" }, "position"],
      ["x:Account/query", { accountId: "b", limit: -1 }, "limit"],
      ["x:Account/query", { accountId: "b", limit: 1.5 }, "limit"],
      ["x:Account/query", { accountId: "b", calculateTotal: "yes" }, "calculateTotal"],
      ["x:Account/query", { accountId: "b", sort: { property: "name" } }, "sort"],
      ["x:Account/query", { accountId: "b", filter: [] }, "filter"],
      ["x:Domain/changes", { accountId: "b" }, "sinceState"],
      ["x:Domain/changes", { accountId: "b", sinceState: "0", maxChanges: 0 }, "maxChanges"],
    ];
    for (const [name, args, argument] of cases) {
      const error = await callError(t, name, args);
      const context = `${name} ${JSON.stringify(args)}`;
      assert.equal(error.type, "invalidArguments", context);
      assert.ok((error.description as string).includes(`"${argument}"`), `${context}: ${error.description}`);
    }
  }));

Deno.test("/get of a property the type does not have is invalidArguments naming it", () =>
  withApp(async (t) => {
    const error = await callError(t, "x:Domain/get", { accountId: "b", properties: ["name", "colour"] });
    assert.equal(error.type, "invalidArguments");
    assert.match(error.description as string, /"colour"/);
  }));

Deno.test("a result reference that cannot be resolved is invalidResultReference and the method does not run", () =>
  withApp(async (t) => {
    const domain = await create(t, "x:Domain", { name: "keep.example" });
    const ref = (resultOf: string, name: string, path: string) => ({ resultOf, name, path });
    const cases: [string, Obj][] = [
      ["an unknown call id", ref("nope", "x:Domain/query", "/ids")],
      ["the wrong method name", ref("q", "x:Account/query", "/ids")],
      ["a path to nothing", ref("q", "x:Domain/query", "/nothing")],
      ["a path past the end of an array", ref("q", "x:Domain/query", "/ids/99")],
      ["a path without a leading slash", ref("q", "x:Domain/query", "ids")],
      ["a reference that is not an object", "q" as unknown as Obj],
      ["a reference without a path", { resultOf: "q", name: "x:Domain/query" }],
    ];
    for (const [label, reference] of cases) {
      const { methodResponses } = await jmap(t, [
        ["x:Domain/query", { accountId: "b", filter: { name: "keep.example" } }, "q"],
        ["x:Domain/set", { accountId: "b", "#destroy": reference }, "d"],
      ]);
      assert.equal(methodResponses[0][0], "x:Domain/query", label);
      assert.deepEqual(methodResponses[1][0], "error", label);
      assert.equal(methodResponses[1][1].type, "invalidResultReference", label);
      assert.equal(methodResponses[1][2], "d", label);
    }
    const after = await call(t, "x:Domain/get", { ids: [domain.id] });
    assert.equal((after.list as Obj[]).length, 1, "no reference destroyed the domain");
  }));

Deno.test("a reference to a call that failed is invalidResultReference", () =>
  withApp(async (t) => {
    const { methodResponses } = await jmap(t, [
      ["x:Domain/query", { accountId: "b", sort: [{ property: "colour" }] }, "q"],
      [
        "x:Domain/get",
        { accountId: "b", "#ids": { resultOf: "q", name: "x:Domain/query", path: "/ids" } },
        "g",
      ],
    ]);
    assert.equal(methodResponses[0][0], "error");
    assert.equal(methodResponses[0][1].type, "unsupportedSort");
    assert.equal(methodResponses[1][0], "error");
    assert.equal(methodResponses[1][1].type, "invalidResultReference");
    assert.match(methodResponses[1][1].description as string, /"error"/);
  }));

Deno.test("giving an argument both directly and as a reference is invalidArguments", () =>
  withApp(async (t) => {
    const { methodResponses } = await jmap(t, [
      ["x:Domain/query", { accountId: "b" }, "q"],
      ["x:Domain/get", {
        accountId: "b",
        ids: ["b"],
        "#ids": { resultOf: "q", name: "x:Domain/query", path: "/ids" },
      }, "g"],
    ]);
    assert.equal(methodResponses[1][0], "error");
    assert.equal(methodResponses[1][1].type, "invalidArguments");
    assert.match(methodResponses[1][1].description as string, /"ids" and "#ids"/);
  }));

Deno.test("an accountId that does not exist is accountNotFound", () =>
  withApp(async (t) => {
    for (const accountId of ["zzzz", "not an id!", "a", ""]) {
      const error = await callError(t, "x:Domain/get", { accountId });
      assert.equal(error.type, "accountNotFound", JSON.stringify(accountId));
    }
  }));

Deno.test("a user naming another account's id is accountNotFound, as if it did not exist", () =>
  withApp(async (t) => {
    const user = await createUser(t, "alice");
    for (const name of ["x:Domain/get", "x:Account/query", "x:ApiKey/get"]) {
      const error = await callError(t, name, { accountId: "b" }, { auth: user.auth });
      assert.equal(error.type, "accountNotFound", name);
    }
    const own = await call(t, "x:Account/get", { accountId: user.id, ids: [user.id] }, { auth: user.auth });
    assert.equal((own.list as Obj[])[0].id, user.id);
  }));

Deno.test("a user asking x:Account/get for another account is forbidden", () =>
  withApp(async (t) => {
    const user = await createUser(t, "alice");
    const error = await callError(t, "x:Account/get", { accountId: user.id, ids: ["b"] }, {
      auth: user.auth,
    });
    assert.equal(error.type, "forbidden");
  }));

Deno.test("more than maxObjectsInGet ids or maxObjectsInSet operations is requestTooLarge", () =>
  withApp(async (t) => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `id${i}`);
    const get = await callError(t, "x:Domain/get", { accountId: "b", ids: ids(501) });
    assert.equal(get.type, "requestTooLarge");
    assert.match(get.description as string, /500/);
    const fine = await call(t, "x:Domain/get", { ids: ids(500) });
    assert.equal((fine.notFound as string[]).length, 500);

    const destroy = await callError(t, "x:Domain/set", { accountId: "b", destroy: ids(501) });
    assert.equal(destroy.type, "requestTooLarge");
    const creates = Object.fromEntries(ids(300).map((id) => [id, { name: `${id}.example` }]));
    const mixed = await callError(t, "x:Domain/set", { accountId: "b", create: creates, destroy: ids(201) });
    assert.equal(mixed.type, "requestTooLarge");
    const domains = await call(t, "x:Domain/get", {});
    assert.equal((domains.list as Obj[]).length, 1, "nothing of a refused /set was created");
  }));

Deno.test("ifInState that is not the current state is stateMismatch; the current one is accepted", () =>
  withApp(async (t) => {
    const { state } = await call(t, "x:Domain/get", { ids: [] });
    const error = await callError(t, "x:Domain/set", {
      accountId: "b",
      ifInState: "12345",
      create: { d: { name: "stale.example" } },
    });
    assert.equal(error.type, "stateMismatch");
    const ok = await set(t, "x:Domain", { ifInState: state, create: { d: { name: "fresh.example" } } });
    assert.equal(ok.oldState, state);
    assert.notEqual(ok.newState, state);
    const again = await callError(t, "x:Domain/set", {
      accountId: "b",
      ifInState: state,
      create: { d: { name: "late.example" } },
    });
    assert.equal(again.type, "stateMismatch");
    const names = ((await call(t, "x:Domain/get", {})).list as Obj[]).map((d) => d.name).sort();
    assert.deepEqual(names, ["example.org", "fresh.example"]);
  }));

Deno.test("a state the server never issued is cannotCalculateChanges for /changes and /queryChanges", () =>
  withApp(async (t) => {
    for (const state of ["bogus", "999999", "-1", "1.5", ""]) {
      const changes = await callError(t, "x:Account/changes", { accountId: "b", sinceState: state });
      assert.equal(changes.type, "cannotCalculateChanges", `changes ${JSON.stringify(state)}`);
      const query = await callError(t, "x:Domain/queryChanges", { accountId: "b", sinceQueryState: state });
      assert.equal(query.type, "cannotCalculateChanges", `queryChanges ${JSON.stringify(state)}`);
    }
  }));

Deno.test("an anchor that is not in the results is anchorNotFound", () =>
  withApp(async (t) => {
    for (const name of ["x:Account/query", "x:Domain/query"]) {
      for (const anchor of ["zzzz", "not an id!"]) {
        const error = await callError(t, name, { accountId: "b", anchor });
        assert.equal(error.type, "anchorNotFound", `${name} ${anchor}`);
      }
    }
    // The admin exists but is filtered out, so it is not in these results.
    const filtered = await callError(t, "x:Account/query", {
      accountId: "b",
      filter: { "@type": "Group" },
      anchor: "b",
    });
    assert.equal(filtered.type, "anchorNotFound");
  }));

Deno.test("sorting by a property or collation the server does not support is unsupportedSort", () =>
  withApp(async (t) => {
    const cases: [string, Obj][] = [
      ["x:Account/query", { property: "roles" }],
      ["x:Account/query", { property: "colour" }],
      ["x:Account/query", { property: "name", collation: "i;octet" }],
      ["x:Domain/query", { property: "description" }],
      ["x:ApiKey/query", { property: "secret" }],
    ];
    for (const [name, comparator] of cases) {
      const error = await callError(t, name, { accountId: "b", sort: [comparator] });
      assert.equal(error.type, "unsupportedSort", `${name} ${JSON.stringify(comparator)}`);
    }
  }));

Deno.test("a filter condition the type does not have is unsupportedFilter, also inside an operator", () =>
  withApp(async (t) => {
    const cases: [string, Obj][] = [
      ["x:Account/query", { colour: "red" }],
      ["x:Account/query", { operator: "AND", conditions: [{ name: "admin" }, { colour: "red" }] }],
      ["x:Account/query", { operator: "NOT", conditions: [{ operator: "OR", conditions: [{ size: 1 }] }] }],
      ["x:Domain/query", { domainId: "b" }],
      ["x:AppPassword/query", { name: "x" }],
    ];
    for (const [name, filter] of cases) {
      const error = await callError(t, name, { accountId: "b", filter });
      assert.equal(error.type, "unsupportedFilter", `${name} ${JSON.stringify(filter)}`);
    }
    const badOperator = await callError(t, "x:Account/query", {
      accountId: "b",
      filter: { operator: "XOR", conditions: [] },
    });
    assert.equal(badOperator.type, "invalidArguments");
  }));

Deno.test("an invalid value is an invalidProperties SetError naming the property", () =>
  withApp(async (t) => {
    const cases: [string, unknown, string][] = [
      ["x:Domain", { name: "bad name.example" }, "name"],
      ["x:Domain", { name: "ok.example", colour: "red" }, "colour"],
      ["x:Domain", { name: "ok.example", createdAt: "2026-01-01T00:00:00Z" }, "createdAt"],
      ["x:Domain", { name: "ok.example", id: "zz" }, "id"],
      ["x:Account", { name: "has space", domainId: "b" }, "name"],
      ["x:Account", { name: "bob", domainId: "b", emailAddress: "bob@example.org" }, "emailAddress"],
      ["x:Account", { "@type": "Robot", name: "bob", domainId: "b" }, "@type"],
      ["x:Account", { name: "bob", domainId: "zzzz" }, "domainId"],
      ["x:Account", { name: "bob" }, "domainId"],
      ["x:Account", {
        name: "bob",
        domainId: "b",
        credentials: [{ "@type": "Password", secret: "short" }],
      }, "credentials"],
      ["x:Account", { "@type": "Group", name: "team", domainId: "b", roles: ["user"] }, "roles"],
    ];
    for (const [type, object, property] of cases) {
      const error = await notCreated(t, type, object);
      const context = `${type} ${JSON.stringify(object)}`;
      assert.equal(error.type, "invalidProperties", `${context}: ${JSON.stringify(error)}`);
      assert.deepEqual(error.properties, [property], context);
      assert.equal(typeof error.description, "string");
    }
    const notAnObject = await notCreated(t, "x:Domain", "example.net");
    assert.equal(notAnObject.type, "invalidProperties");
  }));

Deno.test("updating or destroying an id that does not exist is notFound", () =>
  withApp(async (t) => {
    for (const type of ["x:Domain", "x:Account", "x:AppPassword", "x:ApiKey"]) {
      const result = await set(t, type, { update: { zzzz: { description: "x" } }, destroy: ["zzzy"] });
      assert.equal((result.notUpdated as SetErrors).zzzz.type, "notFound", type);
      assert.equal((result.notDestroyed as SetErrors).zzzy.type, "notFound", type);
      assert.equal(result.updated, null);
      assert.equal(result.destroyed, null);
    }
  }));

Deno.test("a malformed id to destroy is notFound, like any id that does not exist", {
  // Was a bug: src/jmap/management/object_types.ts (type.destroy → ObjectService.delete → requireId in
  // src/directory/accounts.ts) turns an id that cannot be decoded into InvalidInputError, which
  // src/jmap/standard/methods.ts toSetError maps to invalidProperties with properties ["id"].
  // RFC 8620 §5.3: destroying an id that does not exist is notFound ("zzzz" already gives notFound).
}, () =>
  withApp(async (t) => {
    const result = await set(t, "x:Domain", { destroy: ["not an id!"] });
    assert.equal((result.notDestroyed as SetErrors)["not an id!"].type, "notFound");
  }));

Deno.test("creating or destroying a singleton is a singleton SetError; updating it works", () =>
  withApp(async (t) => {
    for (const type of ["x:Cache", "x:Authentication"]) {
      const result = await set(t, type, { create: { c: {} }, destroy: ["singleton"] });
      assert.equal((result.notCreated as SetErrors).c.type, "singleton", type);
      assert.equal((result.notDestroyed as SetErrors).singleton.type, "singleton", type);
    }
    const updated = await set(t, "x:Cache", { update: { singleton: { ttlSeconds: 60 } } });
    assert.deepEqual(updated.updated, { singleton: null });
    const cache = await call(t, "x:Cache/get", {});
    assert.equal((cache.list as Obj[])[0].ttlSeconds, 60);
    const other = await notUpdated(t, "x:Cache", "other", { ttlSeconds: 61 });
    assert.equal(other.type, "notFound");
  }));

Deno.test("x:Cache/get of an id other than singleton reports it in notFound", {
  // Was a bug: src/jmap/management/object_types.ts get() calls ObjectService.get, which ignores the id of a
  // singleton (src/directory/objects.ts, `if (spec.singleton)`), so any id returns the singleton
  // object in `list` and `notFound` stays empty. RFC 8620 §5.1: ids that do not exist go in notFound.
}, () =>
  withApp(async (t) => {
    const result = await call(t, "x:Cache/get", { ids: ["nope"] });
    assert.deepEqual(result.list, []);
    assert.deepEqual(result.notFound, ["nope"]);
  }));

Deno.test("a name or address that is taken is an alreadyExists SetError", () =>
  withApp(async (t) => {
    const other = await create(t, "x:Domain", { name: "other.example" });
    const cases: [string, unknown, string | undefined][] = [
      ["x:Domain", { name: "example.org" }, "b"],
      ["x:Domain", { name: "EXAMPLE.org" }, "b"],
      ["x:Account", { name: "admin", domainId: "b" }, undefined],
      ["x:Account", { "@type": "Group", name: "Admin", domainId: "b" }, undefined],
    ];
    for (const [type, object, existingId] of cases) {
      const error = await notCreated(t, type, object);
      assert.equal(error.type, "alreadyExists", `${type} ${JSON.stringify(object)}`);
      // RFC 8620 §5.4: "An "existingId" property of type "Id" MUST be included on the SetError object
      // with the id of the existing record" (a taken address names no record the caller may see).
      assert.equal(error.existingId, existingId, `${type} ${JSON.stringify(error)}`);
    }
    const bob = await create(t, "x:Account", { name: "bob", domainId: "b", aliases: ["sales@example.org"] });
    const alias = await notCreated(t, "x:Account", { name: "sales", domainId: "b" });
    assert.equal(alias.type, "alreadyExists");
    assert.match(alias.description as string, /sales@example\.org/);
    const rename = await notUpdated(t, "x:Account", bob.id as string, { name: "admin" });
    assert.equal(rename.type, "alreadyExists");
    const domain = await notUpdated(t, "x:Domain", "b", { name: "other.example" });
    assert.equal(domain.type, "alreadyExists");
    assert.equal(domain.existingId, other.id);
  }));

Deno.test("a user acting beyond their own account gets a forbidden SetError", () =>
  withApp(async (t) => {
    const user = await createUser(t, "alice");
    const key = await notCreated(t, "x:ApiKey", { description: "for the admin", accountId: "b" }, user);
    assert.equal(key.type, "forbidden");
    const roles = await notUpdated(t, "x:Account", user.id, { roles: ["admin"] }, user);
    assert.equal(roles.type, "forbidden");
    assert.match(roles.description as string, /"roles"/);
    const patched = await notUpdated(t, "x:Account", user.id, { "roles/0": "admin" }, user);
    assert.equal(patched.type, "forbidden");
    const session = await (await t.fetch("/jmap/session", { headers: { authorization: user.auth } })).json();
    assert.equal(session.username, "alice@example.org");
    const me = await call(t, "x:Account/get", { accountId: user.id, ids: [user.id] }, user);
    assert.deepEqual((me.list as Obj[])[0].roles, { "0": "user" });
  }));

Deno.test("destroying a domain that accounts use is objectIsLinked, naming them", () =>
  withApp(async (t) => {
    const domain = await create(t, "x:Domain", { name: "busy.example" });
    await create(t, "x:Account", { name: "carol", domainId: domain.id });
    await create(t, "x:Account", { name: "dave", domainId: "b", aliases: ["dave@busy.example"] });
    const result = await set(t, "x:Domain", { destroy: [domain.id] });
    const error = (result.notDestroyed as SetErrors)[domain.id as string];
    assert.equal(error.type, "objectIsLinked");
    assert.match(error.description as string, /busy\.example/);
    assert.match(error.description as string, /carol@busy\.example/);
    assert.match(error.description as string, /dave@busy\.example/);
    assert.deepEqual(error.linkedObjects, ["carol@busy.example", "dave@busy.example"]);
    assert.equal(result.destroyed, null);

    const empty = await create(t, "x:Domain", { name: "empty.example" });
    const destroyed = await set(t, "x:Domain", { destroy: [empty.id] });
    assert.deepEqual(destroyed.destroyed, [empty.id]);
  }));

Deno.test("x:Account/query ids feed x:Account/get through a #ids reference", () =>
  withApp(async (t) => {
    const bob = await create(t, "x:Account", { name: "bob", domainId: "b" });
    const { methodResponses } = await jmap(t, [
      ["x:Account/query", { accountId: "b", sort: [{ property: "name" }] }, "q"],
      ["x:Account/get", {
        accountId: "b",
        "#ids": { resultOf: "q", name: "x:Account/query", path: "/ids" },
        properties: ["name"],
      }, "g"],
    ]);
    assert.deepEqual(methodResponses[0][1].ids, ["b", bob.id]);
    assert.deepEqual(methodResponses[1][1].list, [{ id: "b", name: "admin" }, { id: bob.id, name: "bob" }]);
  }));

Deno.test("a * in a reference path collects a property of every listed object", () =>
  withApp(async (t) => {
    const other = await create(t, "x:Domain", { name: "other.example" });
    await create(t, "x:Account", { name: "bob", domainId: other.id });
    const { methodResponses } = await jmap(t, [
      ["x:Account/get", { accountId: "b", properties: ["domainId"] }, "a"],
      ["x:Domain/get", {
        accountId: "b",
        "#ids": { resultOf: "a", name: "x:Account/get", path: "/list/*/domainId" },
      }, "d"],
    ]);
    assert.equal(methodResponses[1][0], "x:Domain/get");
    const names = (methodResponses[1][1].list as Obj[]).map((d) => d.name).sort();
    assert.deepEqual(names, ["example.org", "other.example"]);
    assert.deepEqual(methodResponses[1][1].notFound, []);
  }));

Deno.test("a creation id is usable as #id later in the request and is reported in createdIds", () =>
  withApp(async (t) => {
    const { methodResponses, createdIds } = await jmap(t, [
      ["x:Domain/set", { accountId: "b", create: { d1: { name: "new.example" } } }, "0"],
      ["x:Account/set", {
        accountId: "b",
        create: {
          g1: { "@type": "Group", name: "team", domainId: "#d1" },
          u1: { name: "erin", domainId: "#d1", memberGroupIds: ["#g1"] },
        },
      }, "1"],
      [
        "x:Account/get",
        { accountId: "b", ids: ["#u1"], properties: ["emailAddress", "memberGroupIds"] },
        "2",
      ],
    ], { createdIds: {} });
    const domainId = (methodResponses[0][1].created as SetErrors).d1.id;
    const created = methodResponses[1][1].created as SetErrors;
    assert.equal(methodResponses[1][1].notCreated, null);
    assert.equal(created.u1.domainId, domainId);
    assert.deepEqual(created.u1.memberGroupIds, { "0": created.g1.id });
    assert.deepEqual(methodResponses[2][1].list, [
      { id: created.u1.id, emailAddress: "erin@new.example", memberGroupIds: { "0": created.g1.id } },
    ]);
    assert.deepEqual(createdIds, { d1: domainId, g1: created.g1.id, u1: created.u1.id });

    // A later request can name ids created earlier by passing createdIds back.
    const next = await jmap(t, [
      [
        "x:Account/set",
        { accountId: "b", update: { "#u1": { description: "Erin" } }, destroy: ["#g1"] },
        "0",
      ],
    ], { createdIds });
    assert.deepEqual(next.methodResponses[0][1].updated, { [created.u1.id as string]: null });
    assert.deepEqual(next.methodResponses[0][1].destroyed, [created.g1.id]);
    assert.deepEqual(next.createdIds, createdIds);
  }));

Deno.test("a string property that merely starts with # and matches a creation id is stored as written", {
  // Was a bug: src/jmap/standard/methods.ts resolveCreationIds replaces every string "#<creation id>" anywhere
  // in the object (descriptions, names…), not only in Id-typed properties (RFC 8620 §5.3), so a
  // description "#d1" is silently stored as the new domain's id "c".
}, () =>
  withApp(async (t) => {
    const { methodResponses } = await jmap(t, [
      ["x:Domain/set", { accountId: "b", create: { d1: { name: "new.example" } } }, "0"],
      ["x:Account/set", {
        accountId: "b",
        create: { u1: { name: "erin", domainId: "#d1", description: "#d1" } },
      }, "1"],
    ]);
    const account = (methodResponses[1][1].created as SetErrors).u1;
    assert.equal(account.description, "#d1");
  }));

Deno.test("an update may repeat a server-set property with its current value", {
  // Was a bug: src/jmap/standard/methods.ts set() passes every patched top-level property to the type's
  // update, and validateObject (src/model/objects/spec.ts) refuses server-set ones outright, so
  // writing back createdAt unchanged gives invalidProperties ["createdAt"]. RFC 8620 §5.3: server-set
  // properties MAY be included in an update when identical to the current value.
}, () =>
  withApp(async (t) => {
    const { list } = await call(t, "x:Domain/get", { ids: ["b"] });
    const domain = (list as Obj[])[0];
    const result = await set(t, "x:Domain", {
      update: { b: { createdAt: domain.createdAt, description: "Main domain" } },
    });
    assert.equal(result.notUpdated, null, JSON.stringify(result.notUpdated));
    assert.deepEqual(result.updated, { b: null });
  }));

Deno.test("an update that changes id is invalidProperties; repeating the same id is accepted", () =>
  withApp(async (t) => {
    const changed = await notUpdated(t, "x:Domain", "b", { id: "c" });
    assert.equal(changed.type, "invalidProperties");
    assert.deepEqual(changed.properties, ["id"]);
    const same = await set(t, "x:Domain", { update: { b: { id: "b", description: "Main" } } });
    assert.deepEqual(same.updated, { b: null });
  }));

Deno.test("a patch through something that is not an object is invalidPatch", () =>
  withApp(async (t) => {
    const error = await notUpdated(t, "x:Domain", "b", { "name/first": "x" });
    assert.equal(error.type, "invalidPatch");
    const notObject = await notUpdated(t, "x:Domain", "b", "rename");
    assert.equal(notObject.type, "invalidPatch");
  }));

Deno.test("x:Action runs a cache invalidation for the admin and is forbidden to a user", () =>
  withApp(async (t) => {
    const result = await set(t, "x:Action", {
      create: { a: { "@type": "InvalidateCaches" }, n: { "@type": "InvalidateNegativeCaches" } },
    });
    const created = result.created as SetErrors;
    assert.equal(created.a["@type"], "InvalidateCaches");
    assert.equal(created.n["@type"], "InvalidateNegativeCaches");
    assert.match(created.a.completedAt as string, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const unknown = await notCreated(t, "x:Action", { "@type": "Reboot" });
    assert.equal(unknown.type, "invalidProperties");
    assert.deepEqual(unknown.properties, ["@type"]);
    const user = await createUser(t, "alice");
    const refused = await notCreated(t, "x:Action", { "@type": "InvalidateCaches" }, user);
    assert.equal(refused.type, "forbidden");
  }));

Deno.test("SetErrors overQuota, willDestroy and tooLarge come from real requests", () =>
  withApp(async (t) => {
    const user = await createUser(t, "quota", { quotas: { maxApiKeys: 1 } });
    await create(t, "x:ApiKey", { description: "the one" }, user);
    const over = await notCreated(t, "x:ApiKey", { description: "one too many" }, user);
    assert.equal(over.type, "overQuota");
    assert.match(String(over.description), /maxApiKeys/);

    const domain = await create(t, "x:Domain", { name: "doomed.example" });
    const both = await set(t, "x:Domain", {
      update: { [domain.id as string]: { description: "never" } },
      destroy: [domain.id],
    });
    assert.equal(
      (both.notUpdated as Record<string, { type: string }>)[domain.id as string].type,
      "willDestroy",
    );
    assert.deepEqual(both.destroyed, [domain.id]);

    const huge = await notCreated(t, "x:Domain", { name: "big.example", description: "x".repeat(300_000) });
    assert.equal(huge.type, "tooLarge");
  }));
