/**
 * The table runner of the OAuth bad-input tests: each case is one request to one endpoint and the
 * answer it must get (a JSON error of RFC 6749 §5.2, an HTML error page, an error redirect of
 * §4.1.2.1, or a plain status); no case may get a 5xx, and failed requests leave no rows behind.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { startTestApp, type TestApp } from "./helpers.ts";
import { ADMIN, registerClient, type TestClient } from "./oauth_helpers.ts";
import { authorizationRequest, newBrowser } from "./oauth_security_helpers.ts";

/** What every case can build its request from. */
export interface Fixtures {
  t: TestApp;
  /** A confidential client with every user grant; `auth` is its id and secret, form-encoded. */
  client: TestClient;
  auth: string;
  publicClient: TestClient;
  /** A client without the authorization_code grant. */
  deviceOnly: TestClient;
  /** A confidential client without the device grant, form-encoded id and secret. */
  codeOnlyAuth: string;
  /** flow and csrf of a flow waiting for a sign-in, form-encoded. */
  login: string;
  /** flow and csrf of a signed-in flow waiting for consent, form-encoded. */
  consent: string;
  /** The CSRF token of the device page for this browser. */
  deviceCsrf: string;
  /** The browser's cookies (its binding and a session). */
  cookie: string;
}

/** The one answer a case must get (never a choice: each input has exactly one right answer). */
export type Expected =
  | { kind: "json"; status: number; error?: string; body?: Record<string, unknown> }
  | { kind: "page"; status: number }
  | { kind: "redirect"; error: string }
  | { kind: "bearer"; status: number; error?: string }
  | { kind: "status"; status: number };

/** A JSON error (or, without `error`, a JSON answer) with this status. */
export const json = (status: number, error?: string, body?: Record<string, unknown>) =>
  ({ kind: "json", status, error, body }) as const;
/** An HTML page (an error page unless the status says otherwise), never a redirect. */
export const page = (status = 400) => ({ kind: "page", status }) as const;
/** A 303 to the client's redirect URI carrying `error`. */
export const redirect = (error: string) => ({ kind: "redirect", error }) as const;
/**
 * A Bearer challenge (RFC 6750 §3.1) with this status and `error` parameter; without `error`, a
 * challenge that names none (the request had no credentials, §3.1 last paragraph).
 */
export const bearer = (status: number, error?: string) => ({ kind: "bearer", status, error }) as const;
/** Any answer with this status. */
export const status = (code: number) => ({ kind: "status", status: code }) as const;

type Built<T> = T | ((f: Fixtures) => T);

/** One row of a table. */
export interface BadInput {
  name: string;
  path: Built<string>;
  method?: "GET" | "POST";
  /** A form body as text or bytes (sent as x-www-form-urlencoded unless `type` says otherwise). */
  body?: Built<string | Uint8Array>;
  /** The Content-Type; null sends none. */
  type?: string | null;
  authorization?: Built<string>;
  /** Whether to send the browser's cookies (default: for the pages, not for the JSON endpoints). */
  cookie?: boolean;
  expect: Expected;
}

/** A value of `n` characters. */
export const long = (n = 5000) => "a".repeat(n);
/** A body of about 100 KB. */
export const HUGE = `a=${long(100 * 1024)}`;
/** A form body that is not UTF-8. */
export const NOT_UTF8 = new Uint8Array([
  ...new TextEncoder().encode("grant_type=x&token="),
  0xff,
  0xfe,
  0x80,
]);
/** Form-encodes fields. */
export const q = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

const BROWSER_PATHS = ["/auth/login", "/auth/consent", "/auth/device/verify", "/auth/logout"];
const ROW_TABLES = [
  "oauth_clients",
  "oauth_grants",
  "oauth_codes",
  "oauth_device_codes",
  "oauth_flows",
  "oauth_sessions",
  "oauth_consents",
];

/** How many rows each OAuth table holds (read through a second, read-only connection). */
function rowCounts(t: TestApp): Record<string, number> {
  const db = new DatabaseSync(`${t.dataDir}/postern.db`, { readOnly: true });
  try {
    return Object.fromEntries(ROW_TABLES.map((table) => {
      const row = db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number };
      return [table, row.n];
    }));
  } finally {
    db.close();
  }
}

const fieldsOf = (html: string) =>
  q({
    flow: /name="flow" value="([^"]*)"/.exec(html)?.[1] ?? "",
    csrf: /name="csrf" value="([^"]*)"/.exec(html)?.[1] ?? "",
  });

async function fixtures(t: TestApp): Promise<Fixtures> {
  const client = await registerClient(t.services, {});
  const publicClient = await registerClient(t.services, { name: "Public application", type: "Public" });
  const deviceOnly = await registerClient(t.services, {
    name: "Device application",
    grantTypes: ["urn:ietf:params:oauth:grant-type:device_code"],
  });
  const codeOnly = await registerClient(t.services, {
    name: "Code application",
    grantTypes: ["authorization_code"],
  });
  await t.services.objects.update("oidc-provider", "singleton", { allowDynamicRegistration: true }, "system");
  const browser = newBrowser(t);
  const login = fieldsOf(await (await browser.request(authorizationRequest(client).url)).text());
  const signIn = await (await browser.request(authorizationRequest(client).url)).text();
  const consentPage = await (await browser.submit(signIn, ADMIN)).text();
  assert.match(consentPage, /name="decision"/);
  const devicePage = await (await browser.request("/auth/device")).text();
  return {
    t,
    client,
    auth: q({ client_id: client.clientId, client_secret: client.secret! }),
    publicClient,
    deviceOnly,
    codeOnlyAuth: q({ client_id: codeOnly.clientId, client_secret: codeOnly.secret! }),
    login,
    consent: fieldsOf(consentPage),
    deviceCsrf: /name="csrf" value="([^"]*)"/.exec(devicePage)![1],
    cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join("; "),
  };
}

const build = <T>(value: Built<T>, f: Fixtures): T =>
  typeof value === "function" ? (value as (f: Fixtures) => T)(f) : value;

async function runCase(f: Fixtures, c: BadInput): Promise<void> {
  const path = build(c.path, f);
  const headers: Record<string, string> = {};
  const body = c.body === undefined ? undefined : build(c.body, f);
  const method = c.method ?? (body === undefined ? "GET" : "POST");
  if (method === "POST" && c.type !== null) {
    headers["content-type"] = c.type ?? "application/x-www-form-urlencoded";
  }
  if (c.authorization !== undefined) headers.authorization = build(c.authorization, f);
  if (c.cookie ?? BROWSER_PATHS.includes(path.split("?")[0])) headers.cookie = f.cookie;
  const response = await f.t.fetch(path, { method, headers, body: body as BodyInit | undefined });
  const text = await response.text();
  const seen = `${response.status} ${response.headers.get("content-type")}: ${text.slice(0, 200)}`;
  assert.ok(response.status < 500, `a server error: ${seen}`);
  assert.ok(
    !response.headers.getSetCookie().some((cookie) => /^postern_session=[^;]/.test(cookie)),
    "a failed request signed someone in",
  );
  const e = c.expect;
  if (e.kind !== "redirect") assert.equal(response.status, e.status, `status: ${seen}`);
  switch (e.kind) {
    case "json": {
      assert.match(response.headers.get("content-type") ?? "", /^application\/json/, seen);
      assert.equal(response.headers.get("cache-control"), "no-store", seen);
      const answer = JSON.parse(text);
      assert.equal(answer.error, e.error, `error: ${seen}`);
      for (const [key, value] of Object.entries(e.body ?? {})) assert.deepEqual(answer[key], value, seen);
      break;
    }
    case "page":
      assert.match(response.headers.get("content-type") ?? "", /^text\/html/, seen);
      assert.equal(response.headers.get("location"), null, seen);
      assert.match(response.headers.get("content-security-policy") ?? "", /frame-ancestors 'none'/);
      break;
    case "redirect": {
      assert.equal(response.status, 303, seen);
      const location = new URL(response.headers.get("location")!);
      assert.equal(location.searchParams.get("error"), e.error, location.href);
      assert.equal(location.searchParams.get("code"), null);
      break;
    }
    case "bearer": {
      const challenge = /\bBearer\b.*$/.exec(response.headers.get("www-authenticate") ?? "")?.[0];
      assert.ok(challenge, `no Bearer challenge: ${seen}`);
      assert.equal(/\berror="([^"]*)"/.exec(challenge)?.[1], e.error, challenge);
      break;
    }
    case "status":
      break;
  }
}

/**
 * Runs a table on a fresh app, each case as a step, then checks that the failed requests created no
 * OAuth row (a voided flow may go).
 */
export async function runTable(ctx: Deno.TestContext, cases: BadInput[]): Promise<void> {
  const t = await startTestApp();
  try {
    const f = await fixtures(t);
    const before = rowCounts(t);
    for (const c of cases) await ctx.step(c.name, () => runCase(f, c));
    await ctx.step("nothing was created by the failed requests", () => {
      const after = rowCounts(t);
      const grown = ROW_TABLES.filter((table) => after[table] > before[table]);
      assert.deepEqual(grown, [], `rows before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`);
    });
  } finally {
    await t.close();
  }
}
