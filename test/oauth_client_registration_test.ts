/**
 * Who may register an OAuth client, and with what (issue 18, item 1). The attack, on a real server
 * process over HTTP: a plain user registers a client through `x:OAuthClient/set` with
 * `requireConsent: false`, the admin scope and a redirect URI of his own, then a signed-in admin
 * following one link hands him an admin token without any consent page. Only administrators register
 * clients through management; dynamically registered clients always ask for consent, marked unverified.
 */
import assert from "node:assert/strict";
import {
  ADMIN_PASSWORD,
  basic,
  cli,
  PASSWORD,
  type ServerProcess,
  startTestApp,
  type TestApp,
} from "./helpers.ts";
import { CORE, createUser, jmap, MANAGEMENT } from "./jmap_helpers.ts";
import { pkce, registerClient, TestBrowser } from "./oauth_helpers.ts";
import {
  assertErrorRedirect,
  authorizationRequest,
  clientRedirect,
  newBrowser,
  obtainTokens,
  refresh,
} from "./oauth_security_helpers.ts";
import { updateProvider, withServer } from "./oauth_clients_helpers.ts";
import { bootstrap } from "../src/directory/mod.ts";
import { ForbiddenError, InvalidInputError } from "../src/model/errors.ts";
import type { Principal } from "../src/model/types.ts";
import { openServices } from "../src/services.ts";
import { sql as oauthClientTrust } from "../src/store/migrations/022_oauth_client_trust.ts";

const ADMIN_AUTH = basic("admin@example.org", ADMIN_PASSWORD);
const ADMIN_SCOPE = "urn:postern:admin";
const STEAL = "http://127.0.0.1/steal";

type Args = Record<string, unknown>;

/** One JMAP method call over HTTP; returns the response's name and arguments. */
async function jmapCall(
  server: ServerProcess,
  auth: string,
  name: string,
  args: Args,
): Promise<[string, Args]> {
  const response = await fetch(`${server.url}/jmap`, {
    method: "POST",
    headers: { authorization: auth, "content-type": "application/json" },
    body: JSON.stringify({ using: [CORE, MANAGEMENT], methodCalls: [[name, args, "c0"]] }),
  });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  const [[answered, result]] = JSON.parse(text).methodResponses;
  return [answered, result];
}

/** The SetError of a create through x:OAuthClient/set (failing when the client was created). */
async function refusedCreate(server: ServerProcess, auth: string, accountId: string, client: Args) {
  const [, result] = await jmapCall(server, auth, "x:OAuthClient/set", {
    accountId,
    create: { new: { "@type": "Confidential", ...client } },
  });
  assert.equal(result.created, null, `the client was created: ${JSON.stringify(result.created)}`);
  return (result.notCreated as Record<string, Args>).new;
}

/** A client created by the admin through x:OAuthClient/set. */
async function adminCreates(server: ServerProcess, client: Args): Promise<Args> {
  const [, result] = await jmapCall(server, ADMIN_AUTH, "x:OAuthClient/set", {
    accountId: "b",
    create: { new: { "@type": "Confidential", ...client } },
  });
  assert.equal(result.notCreated, null, JSON.stringify(result.notCreated));
  return (result.created as Record<string, Args>).new;
}

/** Creates the plain user mallory; returns her account id and Authorization header. */
async function createMallory(server: ServerProcess): Promise<{ id: string; auth: string }> {
  const [, result] = await jmapCall(server, ADMIN_AUTH, "x:Account/set", {
    accountId: "b",
    create: {
      m: {
        "@type": "User",
        name: "mallory",
        domainId: "b",
        roles: { "0": "user" },
        credentials: { "0": { "@type": "Password", secret: PASSWORD } },
      },
    },
  });
  assert.equal(result.notCreated, null, JSON.stringify(result.notCreated));
  const id = (result.created as Record<string, Args>).m.id as string;
  return { id, auth: basic("mallory@example.org", PASSWORD) };
}

/** An authorization URL for a client (code flow, S256 PKCE) and the PKCE verifier behind it. */
function authorizeUrl(server: ServerProcess, clientId: string, redirectUri: string, scope: string) {
  const { verifier, challenge } = pkce();
  const query = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: "code",
    scope,
    state: "s1",
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  return { url: `${server.url}/auth/authorize?${query}`, verifier };
}

/** A browser in which the admin has signed in to the provider (through a flow of `clientId`). */
async function signedInAdmin(server: ServerProcess, clientId: string, redirectUri: string) {
  const browser = new TestBrowser(server.url);
  const redirect = await browser.authorize(authorizeUrl(server, clientId, redirectUri, "openid").url);
  assert.ok(redirect.searchParams.get("code"), redirect.href);
  assert.ok(browser.cookies.has("postern_session"));
  return browser;
}

Deno.test("a plain user cannot register or change an OAuth client through x:OAuthClient/set, so one click gives him no admin token", () =>
  withServer(async (server) => {
    const mallory = await createMallory(server);
    // The attack's client: trusted (no consent page), the admin scope, a redirect URI of his own.
    const attack = {
      clientId: "webmail",
      name: "Webmail",
      redirectUris: { "0": STEAL },
      grantTypes: { "0": "authorization_code" },
      scopes: { "0": "openid", "1": ADMIN_SCOPE },
      requireConsent: false,
    };
    const refused = await refusedCreate(server, mallory.auth, mallory.id, attack);
    assert.equal(refused.type, "forbidden", JSON.stringify(refused));
    assert.match(String(refused.description), /administrator/);
    // Not even a modest client: registering clients through management is for administrators.
    const modest = await refusedCreate(server, mallory.auth, mallory.id, {
      name: "My app",
      redirectUris: { "0": STEAL },
      scopes: { "0": "openid" },
    });
    assert.equal(modest.type, "forbidden", JSON.stringify(modest));
    // The same through the CLI on the server.
    const remote = await cli([
      "--url",
      server.url,
      "--user",
      "mallory@example.org",
      "create",
      "oauth-client/confidential",
      "--field",
      "name=Webmail",
      "--field",
      `redirectUris=["${STEAL}"]`,
      "--field",
      'scopes=["openid","urn:postern:admin"]',
      "--field",
      "requireConsent=false",
    ], { POSTERN_PASSWORD: PASSWORD });
    assert.equal(remote.code, 1, remote.stdout);
    assert.match(remote.stderr, /administrator/);

    // A client an administrator gave her (no admin scope): she sees it, but cannot make it trusted.
    const given = await adminCreates(server, {
      name: "Mallory's app",
      ownerId: mallory.id,
      redirectUris: { "0": STEAL },
      scopes: { "0": "openid" },
    });
    const [, update] = await jmapCall(server, mallory.auth, "x:OAuthClient/set", {
      accountId: mallory.id,
      update: {
        [given.id as string]: { requireConsent: false, scopes: { "0": "openid", "1": ADMIN_SCOPE } },
      },
    });
    assert.equal(update.updated, null, JSON.stringify(update.updated));
    const notUpdated = (update.notUpdated as Record<string, Args>)[given.id as string];
    assert.equal(notUpdated.type, "forbidden", JSON.stringify(notUpdated));
    // Nor can the administrator give a plain user's client the admin scope: more than its owner may grant.
    const [, adminUpdate] = await jmapCall(server, ADMIN_AUTH, "x:OAuthClient/set", {
      accountId: "b",
      update: { [given.id as string]: { scopes: { "0": "openid", "1": ADMIN_SCOPE } } },
    });
    const beyondOwner = (adminUpdate.notUpdated as Record<string, Args>)[given.id as string];
    assert.equal(beyondOwner.type, "invalidProperties", JSON.stringify(adminUpdate));
    assert.deepEqual(beyondOwner.properties, ["scopes"]);

    // The victim: the admin, signed in, follows mallory's link. No client "webmail" exists.
    const trusted = await adminCreates(server, {
      clientId: "console",
      name: "Admin console",
      redirectUris: { "0": "http://127.0.0.1/console" },
      scopes: { "0": "openid", "1": ADMIN_SCOPE },
      requireConsent: false,
    });
    const browser = await signedInAdmin(server, "console", "http://127.0.0.1/console");
    const click = await browser.request(authorizeUrl(server, "webmail", STEAL, `openid ${ADMIN_SCOPE}`).url);
    const page = await click.text();
    assert.equal(click.status, 400, page.slice(0, 300));
    assert.equal(click.headers.get("location"), null);
    assert.match(page, /Unknown application/);
    const [, clients] = await jmapCall(server, ADMIN_AUTH, "x:OAuthClient/get", {
      accountId: "b",
      ids: null,
    });
    assert.deepEqual(
      (clients.list as Args[]).map((c) => c.clientId).sort(),
      [given.clientId, trusted.clientId].sort(),
    );

    // An administrator's trusted client still signs the admin in without a consent page.
    const { url, verifier } = authorizeUrl(
      server,
      "console",
      "http://127.0.0.1/console",
      `openid ${ADMIN_SCOPE}`,
    );
    const direct = await browser.request(url);
    assert.equal(direct.status, 303, (await direct.text()).slice(0, 300));
    const code = new URL(direct.headers.get("location")!).searchParams.get("code");
    assert.ok(code);
    const token = await fetch(`${server.url}/auth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code,
        redirect_uri: "http://127.0.0.1/console",
        code_verifier: verifier,
        client_id: "console",
        client_secret: String(trusted.secret),
      }),
    });
    const tokens = await token.json();
    assert.equal(token.status, 200, JSON.stringify(tokens));
    assert.equal(tokens.scope, `openid ${ADMIN_SCOPE}`);
  }));

Deno.test("a dynamically registered client always gets the consent page, marked as unverified", () =>
  withServer(async (server) => {
    await updateProvider(server, ["--field", "allowDynamicRegistration=true"]);
    await adminCreates(server, {
      clientId: "console",
      name: "Admin console",
      redirectUris: { "0": "http://127.0.0.1/console" },
      scopes: { "0": "openid" },
      requireConsent: false,
    });
    const browser = await signedInAdmin(server, "console", "http://127.0.0.1/console");
    const response = await fetch(`${server.url}/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        client_name: "Helpful app",
        redirect_uris: [STEAL],
        token_endpoint_auth_method: "none",
        scope: "openid email",
      }),
    });
    const registered = await response.json();
    assert.equal(response.status, 201, JSON.stringify(registered));
    const consent = await browser.request(
      authorizeUrl(server, registered.client_id, STEAL, "openid email").url,
    );
    const page = await consent.text();
    assert.equal(consent.status, 200, page.slice(0, 300));
    assert.match(page, /name="decision"/, "the consent page, not a redirect");
    assert.match(page, /Helpful app/);
    assert.match(page, /[Uu]nverified/);
    assert.match(page, /127\.0\.0\.1/, "the page names where the answer goes");
    // An administrator's client's consent page carries no such warning.
    const own = await browser.request(
      authorizeUrl(server, "console", "http://127.0.0.1/console", "openid").url + "&prompt=consent",
    );
    const ownPage = await own.text();
    assert.match(ownPage, /name="decision"/);
    assert.doesNotMatch(ownPage, /[Uu]nverified/);
  }));

Deno.test("x:OAuthClient/set refuses a client name that copies an existing one, in any case or spacing", () =>
  withServer(async (server) => {
    const first = await adminCreates(server, {
      name: "Webmail",
      redirectUris: { "0": "https://mail.example.org/cb" },
    });
    for (const name of ["Webmail", "webmail", " WEBMAIL ", "Web\u200Bmail", "Ｗｅｂｍａｉｌ"]) {
      const refused = await refusedCreate(server, ADMIN_AUTH, "b", {
        name,
        redirectUris: { "0": "https://evil.example/cb" },
      });
      assert.equal(refused.type, "invalidProperties", `${JSON.stringify(name)}: ${JSON.stringify(refused)}`);
      assert.deepEqual(refused.properties, ["name"]);
    }
    // The CLI on the database file (as the TUI in local mode) acts as the system: the rule holds there too.
    const local = await cli([
      "--data",
      server.dataDir,
      "create",
      "oauth-client/public",
      "--field",
      "name=WebMail",
      "--field",
      'redirectUris=["http://127.0.0.1/cb"]',
    ]);
    assert.notEqual(local.code, 0, local.stdout);
    assert.match(local.stderr, /"Webmail" is already the name of a client/);
    // Renaming another client to the same name is refused too; renaming a client to itself is not.
    const second = await adminCreates(server, {
      name: "Calendar",
      redirectUris: { "0": "https://c.example/cb" },
    });
    const [, rename] = await jmapCall(server, ADMIN_AUTH, "x:OAuthClient/set", {
      accountId: "b",
      update: { [second.id as string]: { name: "WebMail" }, [first.id as string]: { name: "WEBMAIL" } },
    });
    assert.equal((rename.notUpdated as Record<string, Args>)[second.id as string].type, "invalidProperties");
    assert.deepEqual(Object.keys(rename.updated as Args), [first.id]);
  }));

/** POSTs registration metadata to /auth/register of an in-process app that allows it. */
async function register(t: TestApp, metadata: Args): Promise<{ status: number; body: Args }> {
  const response = await t.fetch("/auth/register", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(metadata),
  });
  return { status: response.status, body: await response.json() };
}

Deno.test("dynamic registration refuses dangerous or non-web redirect URIs, the admin scope, pairwise subjects and copied names", async () => {
  const t = await startTestApp();
  try {
    await t.services.objects.update(
      "oidc-provider",
      "singleton",
      { allowDynamicRegistration: true },
      "system",
    );
    await t.services.objects.create("oauth-client/confidential", {
      name: "Webmail",
      redirectUris: ["https://mail.example.org/cb"],
    }, "system");
    const web = { redirect_uris: ["https://app.example.org/cb"] };
    const native = { token_endpoint_auth_method: "none" };
    const cases: [string, Args, string][] = [
      ["a javascript: URI", { redirect_uris: ["javascript:alert(1)//"] }, "invalid_redirect_uri"],
      ["a vbscript: URI", { ...native, redirect_uris: ["vbscript:msgbox(1)"] }, "invalid_redirect_uri"],
      ["a file: URI", { ...native, redirect_uris: ["file:///etc/passwd"] }, "invalid_redirect_uri"],
      [
        "a data: URI",
        { ...native, redirect_uris: ["data:text/html,<script>x</script>"] },
        "invalid_redirect_uri",
      ],
      ["plain http off loopback", { redirect_uris: ["http://app.example.org/cb"] }, "invalid_redirect_uri"],
      [
        "a private-use scheme for a web client",
        { redirect_uris: ["com.example.app:/cb"] },
        "invalid_redirect_uri",
      ],
      [
        "a private-use scheme without a dot",
        { ...native, redirect_uris: ["myapp:/cb"] },
        "invalid_redirect_uri",
      ],
      [
        "a post-logout javascript: URI",
        { ...web, post_logout_redirect_uris: ["javascript:x"] },
        "invalid_redirect_uri",
      ],
      ["the admin scope", { ...web, scope: `openid ${ADMIN_SCOPE}` }, "invalid_client_metadata"],
      [
        "a sector_identifier_uri",
        { ...web, sector_identifier_uri: "https://app.example.org/s.json" },
        "invalid_client_metadata",
      ],
      ["pairwise subjects", { ...web, subject_type: "pairwise" }, "invalid_client_metadata"],
      ["an unknown application_type", { ...web, application_type: "robot" }, "invalid_client_metadata"],
      ["the name of an existing client", { ...web, client_name: "WEBMAIL" }, "invalid_client_metadata"],
    ];
    for (const [name, metadata, error] of cases) {
      const answer = await register(t, metadata);
      assert.equal(answer.status, 400, `${name}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error, error, `${name}: ${JSON.stringify(answer.body)}`);
    }
    const accepted: [string, Args][] = [
      ["an https web client", { ...web, client_name: "Web app" }],
      ["a loopback native client", {
        ...native,
        redirect_uris: ["http://127.0.0.1/cb", "http://[::1]:8000/cb"],
      }],
      ["a private-use scheme for a native client", { ...native, redirect_uris: ["com.example.app:/cb"] }],
      ["public subjects", { ...web, subject_type: "public" }],
    ];
    for (const [name, metadata] of accepted) {
      const answer = await register(t, metadata);
      assert.equal(answer.status, 201, `${name}: ${JSON.stringify(answer.body)}`);
    }
    // Two registrations without a name each get their own.
    const [a, b] = [await register(t, web), await register(t, web)];
    assert.equal(a.status, 201, JSON.stringify(a.body));
    assert.equal(b.status, 201, JSON.stringify(b.body));
    assert.notEqual(a.body.client_name, b.body.client_name);
  } finally {
    await t.close();
  }
});

Deno.test("an administrator may not give a client the admin scope with a plain user as owner", async () => {
  const t = await startTestApp();
  try {
    const user = await t.services.objects.create("account/user", {
      name: "carol",
      domainId: "b",
      credentials: [{ "@type": "Password", secret: PASSWORD }],
    }, "system");
    await assert.rejects(
      t.services.objects.create("oauth-client/confidential", {
        name: "Carol's robot",
        ownerId: user.id,
        grantTypes: ["client_credentials"],
        scopes: [ADMIN_SCOPE],
      }, "system"),
      (error: Error) => error instanceof InvalidInputError && /scope/.test(error.message),
    );
  } finally {
    await t.close();
  }
});

Deno.test("migration 022: a client a plain user registered before asks for consent again and loses the admin scope and its admin tokens", async () => {
  const dir = await Deno.makeTempDir();
  const options = { databasePath: `${dir}/postern.db`, encryptionKey: new Uint8Array(64), hashWorkers: 1 };
  let services = await openServices(options);
  try {
    await bootstrap(services, { domain: "example.org", adminPassword: ADMIN_PASSWORD });
    const [admin] = await services.accounts.query({});
    const domain = await services.domains.getByName("example.org");
    const mallory =
      (await services.accounts.create({ type: "User", name: "mallory", domainId: domain!.id })).id;
    // What the old code let mallory store: a trusted client with the admin scope, and the admin's
    // token family from one click; beside it, the admin's own trusted console and its family.
    const insertClient = (clientId: string, owner: number, dynamic = 0) =>
      `INSERT INTO oauth_clients (client_id, name, type, owner_id, redirect_uris, grant_types, scopes,
         require_consent, dynamic, created_at, updated_at)
       VALUES ('${clientId}', '${clientId}', 'Public', ${owner}, '["${STEAL}"]', '["authorization_code"]',
         '["openid","${ADMIN_SCOPE}","email"]', 0, ${dynamic}, 0, 0);
       INSERT INTO oauth_grants (client_id, account_id, grant_type, scopes, auth_time, created_at, expires_at)
       VALUES ((SELECT id FROM oauth_clients WHERE client_id = '${clientId}'), ${admin}, 'authorization_code',
         '["openid","${ADMIN_SCOPE}"]', 0, 0, 4102444800000);`;
    services.store.unsafeExec(`${insertClient("evil", mallory)} ${insertClient("console", admin)}`);
    // Only that migration runs again, on what the old code stored (later ones are already applied).
    services.store.unsafeExec(oauthClientTrust);
    await services.close();
    services = await openServices(options);
    const evil = (await services.oauth.clients.byClientId("evil"))!;
    assert.equal(evil.requireConsent, true);
    assert.deepEqual(evil.scopes, ["openid", "email"]);
    assert.equal(await services.oauth.needsConsent(evil, admin, ["openid"]), true);
    const own = (await services.oauth.clients.byClientId("console"))!;
    assert.equal(own.requireConsent, false, "an administrator's client stays trusted");
    assert.deepEqual(own.scopes, ["openid", ADMIN_SCOPE, "email"]);
    const grants = (await services.objects.list("oauth-grant", "system")).map((g) => g.clientId);
    assert.deepEqual(grants, ["console"], "the admin token family of mallory's client is revoked");
    // Mallory still sees and may delete it, but not change it.
    const principal = { accountId: mallory, roles: ["user"] } as unknown as Principal;
    const [listed] = await services.objects.list("oauth-client", principal);
    assert.equal(listed.clientId, "evil");
    await assert.rejects(
      services.objects.update("oauth-client", String(listed.id), { requireConsent: false }, principal),
      ForbiddenError,
    );
    await services.objects.delete("oauth-client", String(listed.id), principal);
  } finally {
    await services.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a client whose owner stops being an administrator asks for consent again, and gets no admin scope even on refresh", async () => {
  const t = await startTestApp();
  try {
    const alice = await createUser(t, "alice", { roles: { "0": "admin" } });
    const client = await registerClient(t.services, {
      name: "Console",
      ownerId: alice.id,
      requireConsent: false,
      scopes: ["openid", "offline_access", ADMIN_SCOPE],
    });
    const p = { t, client, browser: newBrowser(t) };
    const scope = `openid offline_access ${ADMIN_SCOPE}`;
    const first = await obtainTokens(p, { scope });
    assert.equal(first.scope, scope);
    // Trusted while alice is an administrator: signed in, the admin gets a code without any page.
    await clientRedirect(
      await p.browser.request(authorizationRequest(client, { scope }).url),
      client.redirectUri,
    );

    // The access token administers while alice is an administrator (and is now in the verified cache).
    const bearer = { auth: `Bearer ${first.access_token}`, using: [CORE, MANAGEMENT] };
    const listAccounts = async () =>
      (await jmap(t, [["x:Account/get", { accountId: "b", ids: [alice.id] }, "0"]], bearer))
        .methodResponses[0];
    assert.equal((await listAccounts())[0], "x:Account/get");

    const [, demoted] = (await jmap(t, [["x:Account/set", {
      accountId: "b",
      update: { [alice.id]: { roles: { "0": "user" } } },
    }, "0"]])).methodResponses[0];
    assert.equal(demoted.notUpdated, null, JSON.stringify(demoted));
    // The same access token loses the admin scope at once, not when it expires.
    const [kind, refused] = await listAccounts();
    assert.equal(kind, "error", JSON.stringify(refused));
    assert.equal(refused.type, "forbidden");
    const admin = await p.browser.request(authorizationRequest(client, { scope }).url);
    await assertErrorRedirect(admin, client.redirectUri, "invalid_scope");
    const page = await p.browser.request(authorizationRequest(client, { scope: "openid" }).url);
    const html = await page.text();
    assert.equal(page.status, 200, html.slice(0, 300));
    assert.match(html, /name="decision"/, "the consent page is shown again");
    const refreshed = await refresh(t, client, first.refresh_token!);
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.equal(refreshed.body.scope, "openid offline_access");
  } finally {
    await t.close();
  }
});
