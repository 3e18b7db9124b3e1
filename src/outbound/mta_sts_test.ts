import assert from "node:assert/strict";
import { openStore, type Store } from "../store/mod.ts";
import { MtaStsCache } from "./mta_sts.ts";
import { MtaStsError } from "./mta_sts_policy.ts";
import type { TlsResult } from "./types.ts";

const POLICY = "version: STSv1\nmode: enforce\nmx: mx.example.net\nmax_age: 3600\n";

/** A world of one domain whose TXT record, policy text and clock the test sets. */
function world(store: Store) {
  const state = {
    txt: ["v=STSv1; id=one"] as string[] | Error,
    policy: POLICY as string | Error,
    now: 1_000_000,
    fetches: 0,
    reported: [] as TlsResult[],
  };
  const source = new MtaStsCache({
    resolver: {
      resolveTxt: (name) => {
        assert.equal(name, "_mta-sts.example.net");
        return state.txt instanceof Error ? Promise.reject(state.txt) : Promise.resolve(state.txt);
      },
    },
    fetch: (domain) => {
      assert.equal(domain, "example.net");
      state.fetches++;
      return state.policy instanceof Error ? Promise.reject(state.policy) : Promise.resolve(state.policy);
    },
    store: store.mtaSts,
    reporter: { record: (r) => state.reported.push(r) },
    now: () => state.now,
  });
  return { state, source };
}

function withStore(body: (store: Store) => Promise<void>) {
  return async () => {
    const store = openStore(":memory:");
    try {
      await body(store);
    } finally {
      store.close();
    }
  };
}

const fetchError = () => new MtaStsError("Fetching: HTTP 500", "sts-policy-fetch-error");

Deno.test(
  "a policy is fetched once and served from the cache while the TXT id is the same",
  withStore(async (store) => {
    const { state, source } = world(store);
    const first = await source.policyFor("Example.NET.");
    assert.deepEqual(first, { id: "one", mode: "enforce", mx: ["mx.example.net"], maxAge: 3600 });
    state.now += 3599_000;
    assert.deepEqual(await source.policyFor("example.net"), first);
    assert.equal(state.fetches, 1);
  }),
);

Deno.test(
  "a new TXT id or an expired max_age fetches the policy again",
  withStore(async (store) => {
    const { state, source } = world(store);
    await source.policyFor("example.net");
    state.txt = ["v=STSv1; id=two"];
    state.policy = POLICY.replace("enforce", "testing");
    assert.equal((await source.policyFor("example.net"))?.mode, "testing");
    assert.equal(state.fetches, 2);
    state.now += 3600_000;
    state.policy = POLICY.replace("mx.example.net", "mx2.example.net");
    assert.deepEqual((await source.policyFor("example.net"))?.mx, ["mx2.example.net"]);
    assert.equal(state.fetches, 3);
  }),
);

Deno.test(
  "a fetch failure or an invalid policy keeps the valid cached policy and is reported",
  withStore(async (store) => {
    const { state, source } = world(store);
    await source.policyFor("example.net");
    state.txt = ["v=STSv1; id=two"];
    state.policy = fetchError();
    assert.equal((await source.policyFor("example.net"))?.id, "one");
    state.policy = "version: STSv1\nmode: none\n";
    assert.equal(
      (await source.policyFor("example.net"))?.mode,
      "enforce",
      "an invalid policy is no downgrade",
    );
    assert.deepEqual(state.reported.map((r) => [r.domain, r.policy, r.failure]), [
      ["example.net", "sts", "sts-policy-fetch-error"],
      ["example.net", "sts", "sts-policy-invalid"],
    ]);
    state.now += 3600_000;
    state.policy = fetchError();
    assert.equal(await source.policyFor("example.net"), null, "an expired policy no longer applies");
  }),
);

Deno.test(
  "a missing or unreadable TXT record keeps the cached policy until it expires",
  withStore(async (store) => {
    const { state, source } = world(store);
    assert.equal((await source.policyFor("example.net"))?.id, "one");
    state.txt = Object.assign(new Error("queryTxt ETIMEOUT"), { code: "ETIMEOUT" });
    assert.equal((await source.policyFor("example.net"))?.id, "one");
    state.txt = Object.assign(new Error("queryTxt ENOTFOUND"), { code: "ENOTFOUND" });
    assert.equal((await source.policyFor("example.net"))?.id, "one");
    state.txt = ["v=STSv1; id=a", "v=STSv1; id=b"];
    assert.equal((await source.policyFor("example.net"))?.id, "one");
    assert.equal(state.fetches, 1);
    state.now += 3600_000;
    assert.equal(await source.policyFor("example.net"), null);
  }),
);

Deno.test(
  "no TXT record and nothing cached is no policy, without a fetch",
  withStore(async (store) => {
    const { state, source } = world(store);
    state.txt = ["v=spf1 -all"];
    assert.equal(await source.policyFor("example.net"), null);
    state.txt = ["v=STSv1; id=one"];
    state.policy = fetchError();
    assert.equal(await source.policyFor("example.net"), null, "a policy never fetched does not apply");
    assert.equal(state.fetches, 1);
  }),
);

Deno.test("the cache is shared by processes on one database and survives a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "postern-mta-sts-" });
  try {
    const first = openStore(`${dir}/db`);
    await world(first).source.policyFor("example.net");
    first.close();
    const second = openStore(`${dir}/db`);
    try {
      const { state, source } = world(second);
      state.policy = fetchError();
      assert.equal((await source.policyFor("example.net"))?.mode, "enforce");
      assert.equal(state.fetches, 0);
    } finally {
      second.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test(
  "concurrent asks for one domain share one fetch",
  withStore(async (store) => {
    const { state, source } = world(store);
    const answers = await Promise.all([1, 2, 3].map(() => source.policyFor("example.net")));
    assert.ok(answers.every((a) => a?.id === "one"));
    assert.equal(state.fetches, 1);
  }),
);

Deno.test(
  "policies that ran out more than a day ago are pruned; others stay",
  withStore(async (store) => {
    const { state, source } = world(store);
    await source.policyFor("example.net");
    state.now += 3600_000 + 86_400_000;
    assert.equal(await source.prune(), 0, "expired less than a day ago");
    state.now += 1;
    assert.equal(await source.prune(), 1);
    assert.equal(await store.mtaSts.policy("example.net"), undefined);
  }),
);
