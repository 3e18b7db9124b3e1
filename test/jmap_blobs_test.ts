/**
 * Blobs (RFC 8620 §6): upload into an account and download with the session's URL templates; the
 * same bytes stored once; any file name in Content-Disposition; other accounts' blobs and unknown
 * account ids are 404 with nothing told; maxSizeUpload and the storage quota refuse without storing;
 * unreferenced uploads are collected after their hour; a token without mail scopes is refused.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { UPLOAD_TTL_MS } from "../src/mail/mod.ts";
import { blobRows } from "./email_helpers.ts";
import type { TestApp } from "./helpers.ts";
import { startServerProcess } from "./helpers.ts";
import { CORE, jmap, QUOTA, withApp } from "./jmap_helpers.ts";
import {
  adminSetAccounts,
  createUsers,
  getSession,
  mailboxesByName,
  type Obj,
  rights,
  share,
  userAccessToken,
  type Who,
  withAliceAndBob,
} from "./mail_helpers.ts";
import { inProcessFetch, registerClient, TestBrowser } from "./oauth_helpers.ts";

const encoder = new TextEncoder();

async function upload(
  t: TestApp,
  who: Who,
  body: BodyInit,
  options: { accountId?: string; type?: string; auth?: string } = {},
): Promise<{ status: number; body: Obj }> {
  const response = await t.fetch(`/jmap/upload/${options.accountId ?? who.accountId}/`, {
    method: "POST",
    headers: {
      authorization: options.auth ?? who.auth,
      ...(options.type ? { "content-type": options.type } : {}),
    },
    body,
  });
  return { status: response.status, body: await response.json() };
}

function download(
  t: TestApp,
  who: Who,
  path: { accountId?: string; blobId: string; name: string; accept?: string },
) {
  const query = path.accept === undefined ? "" : `?accept=${encodeURIComponent(path.accept)}`;
  return t.fetch(
    `/jmap/download/${path.accountId ?? who.accountId}/${path.blobId}/${
      encodeURIComponent(path.name)
    }${query}`,
    { headers: { authorization: who.auth } },
  );
}

Deno.test("an upload answers 201 with its id, type and size, and downloads byte for byte through the session's URLs", async () => {
  await withAliceAndBob(async (t, alice) => {
    const session = await getSession(t, alice.auth);
    assert.equal(session.uploadUrl, "http://127.0.0.1:8080/jmap/upload/{accountId}/");
    const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31 + i / 256) & 255);
    const { status, body } = await upload(t, alice, bytes, { type: "application/pdf" });
    assert.equal(status, 201, JSON.stringify(body));
    assert.deepEqual(Object.keys(body).sort(), ["accountId", "blobId", "size", "type"]);
    assert.equal(body.accountId, alice.accountId);
    assert.equal(body.type, "application/pdf");
    assert.equal(body.size, 70_000);
    assert.match(body.blobId as string, /^G[A-Za-z0-9_-]{43}$/);

    const url = (session.downloadUrl as string).replace("http://127.0.0.1:8080", "")
      .replace("{accountId}", alice.accountId).replace("{blobId}", body.blobId as string)
      .replace("{name}", "report.pdf").replace("{type}", encodeURIComponent("application/pdf"));
    const response = await t.fetch(url, { headers: { authorization: alice.auth } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/pdf");
    assert.equal(response.headers.get("content-disposition"), 'attachment; filename="report.pdf"');
    assert.equal(response.headers.get("x-content-type-options"), "nosniff");
    assert.match(response.headers.get("content-security-policy") ?? "", /sandbox/);
    assert.deepEqual(new Uint8Array(await response.arrayBuffer()), bytes);

    // Without a Content-Type the upload is application/octet-stream, and so is a download without accept.
    const plain = await upload(t, alice, encoder.encode("hello"));
    assert.equal(plain.body.type, "application/octet-stream");
    const got = await download(t, alice, { blobId: plain.body.blobId as string, name: "x" });
    assert.equal(got.headers.get("content-type"), "application/octet-stream");
    assert.equal(await got.text(), "hello");
  });
});

Deno.test("the same bytes uploaded twice, or by two accounts, are stored once under one blob id", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const before = blobRows(t);
    const first = await upload(t, alice, encoder.encode("same content"), { type: "text/plain" });
    const again = await upload(t, alice, encoder.encode("same content"), { type: "text/markdown" });
    const bobs = await upload(t, bob, encoder.encode("same content"));
    assert.equal(again.body.blobId, first.body.blobId);
    assert.equal(again.body.type, "text/markdown", "each upload answers with its own type");
    assert.equal(bobs.body.blobId, first.body.blobId);
    assert.equal(blobRows(t), before + 1);
  });
});

Deno.test("any file name arrives intact in Content-Disposition and none can break the header", async () => {
  await withAliceAndBob(async (t, alice) => {
    const { body } = await upload(t, alice, encoder.encode("x"));
    const cases: [string, string][] = [
      ["plain.txt", 'attachment; filename="plain.txt"'],
      [
        "Résumé 2026.pdf",
        `attachment; filename="R_sum_ 2026.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%202026.pdf`,
      ],
      ['a";b\\c.txt', `attachment; filename="a_;b_c.txt"; filename*=UTF-8''a%22%3Bb%5Cc.txt`],
      ["日本語.txt", `attachment; filename="___.txt"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E.txt`],
      ["it's (1).txt", `attachment; filename="it's (1).txt"`],
    ];
    for (const [name, expected] of cases) {
      const response = await download(t, alice, { blobId: body.blobId as string, name });
      assert.equal(response.status, 200, name);
      assert.equal(response.headers.get("content-disposition"), expected, name);
      await response.body?.cancel();
    }
  });
});

Deno.test("blobs of other accounts and unknown account ids are not found, with nothing told", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const { body } = await upload(t, alice, encoder.encode("alice's secret"));
    const blobId = body.blobId as string;
    const attempts = [
      { who: bob, accountId: bob.accountId },
      { who: bob, accountId: alice.accountId },
      { who: alice, accountId: "zzzzzz" },
      { who: alice, accountId: "not-an-id!" },
    ];
    for (const { who, accountId } of attempts) {
      const response = await download(t, who, { accountId, blobId, name: "x" });
      const problem = await response.json();
      assert.equal(response.status, 404, JSON.stringify({ accountId, problem }));
      assert.equal(response.headers.get("content-type"), "application/problem+json");
      assert.doesNotMatch(JSON.stringify(problem), /secret/);
    }
    for (const bad of ["Gnope", "G" + "A".repeat(42) + "B", blobId.slice(0, -1), "../../etc"]) {
      const response = await download(t, alice, { blobId: bad, name: "x" });
      assert.equal(response.status, 404, bad);
      await response.body?.cancel();
    }
    const intoOther = await upload(t, bob, encoder.encode("x"), { accountId: alice.accountId });
    assert.equal(intoOther.status, 404, JSON.stringify(intoOther.body));
    const nowhere = await upload(t, bob, encoder.encode("x"), { accountId: "zzzzzz" });
    assert.equal(nowhere.status, 404);
  });
});

Deno.test("a sharer may upload where it may write; uploads are read by their uploader and the owner only", async () => {
  await withApp(async (t) => {
    const [alice, bob, carol] = await createUsers(t, ["alice", "bob", "carol"]);
    const inbox = (await mailboxesByName(t, alice)).Inbox.id as string;
    await share(t, alice, inbox, {
      [bob.accountId]: rights("mayReadItems", "mayAddItems"),
      [carol.accountId]: rights("mayReadItems"),
    });
    const bobs = await upload(t, bob, encoder.encode("for alice's inbox"), { accountId: alice.accountId });
    assert.equal(bobs.status, 201, JSON.stringify(bobs.body));
    assert.equal(bobs.body.accountId, alice.accountId);
    const carols = await upload(t, carol, encoder.encode("x"), { accountId: alice.accountId });
    assert.equal(carols.status, 403, "read-only sharers cannot upload");
    assert.match(String(carols.body.detail), /read-only/);
    const blobId = bobs.body.blobId as string;
    for (const [who, status] of [[bob, 200], [alice, 200], [carol, 404]] as const) {
      const response = await download(t, who, { accountId: alice.accountId, blobId, name: "x" });
      assert.equal(response.status, status, who.emailAddress);
      await response.body?.cancel();
    }
  });
});

Deno.test("an upload past maxSizeUpload or the storage quota is refused and stores nothing", async () => {
  await withAliceAndBob(async (t, alice) => {
    const before = blobRows(t);
    const tooBig = await t.fetch(`/jmap/upload/${alice.accountId}/`, {
      method: "POST",
      headers: { authorization: alice.auth, "content-length": "50000001" },
      body: encoder.encode("small body, large claim"),
    });
    const limit = await tooBig.json();
    assert.equal(tooBig.status, 413, JSON.stringify(limit));
    assert.equal(limit.type, "urn:ietf:params:jmap:error:limit");
    assert.equal(limit.limit, "maxSizeUpload");

    await adminSetAccounts(t, { update: { [alice.accountId]: { quotas: { maxDiskQuota: 1000 } } } });
    assert.equal((await upload(t, alice, new Uint8Array(600).fill(1))).status, 201);
    const over = await upload(t, alice, new Uint8Array(600).fill(2));
    assert.equal(over.status, 413, JSON.stringify(over.body));
    assert.equal(over.body.type, "urn:ietf:params:jmap:error:overQuota");
    assert.match(String(over.body.detail), /maxDiskQuota 1000 bytes, 600 used/);
    assert.equal(
      (await upload(t, alice, new Uint8Array(600).fill(1))).status,
      201,
      "the same bytes cost nothing more",
    );
    assert.equal(blobRows(t), before + 1);

    const { methodResponses } = await jmap(t, [[
      "Quota/get",
      { accountId: alice.accountId, ids: ["storage"] },
      "0",
    ]], {
      auth: alice.auth,
      using: [CORE, QUOTA],
    });
    assert.equal((methodResponses[0][1].list as Obj[])[0].used, 600, JSON.stringify(methodResponses));
  });
});

Deno.test("uploads nothing refers to are kept for their hour, then collected", async () => {
  await withAliceAndBob(async (t, alice) => {
    const { body } = await upload(t, alice, encoder.encode("short-lived"));
    const soon = await t.services.blobs.collect(Date.now() + UPLOAD_TTL_MS - 60_000);
    assert.deepEqual(soon, { uploads: 0, blobs: 0 });
    assert.equal((await download(t, alice, { blobId: body.blobId as string, name: "x" })).status, 200);
    const later = await t.services.blobs.collect(Date.now() + UPLOAD_TTL_MS + 1);
    assert.deepEqual(later, { uploads: 1, blobs: 1 });
    const gone = await download(t, alice, { blobId: body.blobId as string, name: "x" });
    assert.equal(gone.status, 404);
    await gone.body?.cancel();
  });
});

Deno.test("a token without mail or submission scope cannot move blobs (403, not 401)", async () => {
  await withAliceAndBob(async (t, alice) => {
    const client = await registerClient(t.services, { requireConsent: false });
    const browser = new TestBrowser("http://127.0.0.1:8080", inProcessFetch(t));
    const token = await userAccessToken(t, browser, client, {
      username: alice.emailAddress,
      scope: "openid",
    });
    const refused = await upload(t, alice, encoder.encode("x"), { auth: `Bearer ${token}` });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    const mailToken = await userAccessToken(t, browser, client, {
      username: alice.emailAddress,
      scope: "urn:ietf:params:jmap:submission",
    });
    assert.equal((await upload(t, alice, encoder.encode("x"), { auth: `Bearer ${mailToken}` })).status, 201);
  });
});

Deno.test("an upload cut short by the client stores nothing and the server goes on", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-blobs-" });
  const server = await startServerProcess(dataDir);
  let stopped = false;
  try {
    const target = { fetch: (path: string, init?: RequestInit) => fetch(server.url + path, init) };
    const [alice] = await createUsers(target, ["alice"]);
    const { port } = new URL(server.url);
    const connection = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
    await connection.write(encoder.encode(
      `POST /jmap/upload/${alice.accountId}/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${alice.auth}\r\n` +
        "Content-Type: text/plain\r\nContent-Length: 100000\r\n\r\nonly a little",
    ));
    connection.close();
    // The server answers the next upload as usual, and only that one is stored.
    const response = await fetch(`${server.url}/jmap/upload/${alice.accountId}/`, {
      method: "POST",
      headers: { authorization: alice.auth },
      body: "complete",
    });
    assert.equal(response.status, 201);
    await response.body?.cancel();
    await server.stop();
    stopped = true;
    const db = new DatabaseSync(`${dataDir}/postern.db`, { readOnly: true });
    try {
      const rows = db.prepare("SELECT size FROM blobs").all() as { size: number }[];
      assert.deepEqual(rows.map((r) => Number(r.size)), [8]);
    } finally {
      db.close();
    }
  } finally {
    if (!stopped) await server.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
  }
});
