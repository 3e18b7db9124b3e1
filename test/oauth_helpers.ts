/**
 * Helpers for the OAuth tests: registering clients, PKCE values, and a minimal cookie-keeping
 * browser that reads the provider's HTML forms and posts them as a person would.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { Services } from "../src/services.ts";
import { ADMIN_PASSWORD, cli, type TestApp } from "./helpers.ts";

/** The bootstrapped admin, who signs in on the provider's pages in these tests. */
export const ADMIN = { username: "admin@example.org", password: ADMIN_PASSWORD };

/** Every grant and the scopes the tests use. */
export const ALL_GRANTS = [
  "authorization_code",
  "refresh_token",
  "urn:ietf:params:oauth:grant-type:device_code",
];
export const ALL_SCOPES = [
  "openid",
  "profile",
  "email",
  "offline_access",
  "urn:ietf:params:jmap:mail",
  "urn:ietf:params:jmap:submission",
  "urn:postern:admin",
];

/** A registered client as the tests use it. */
export interface TestClient {
  clientId: string;
  /** Confidential clients only. */
  secret?: string;
  redirectUri: string;
}

/**
 * Options of a new client; defaults: "Test application", confidential, every user grant and scope,
 * consent required. No two clients may share a name: a test with several clients names the others.
 */
export interface ClientOptions {
  name?: string;
  type?: "Confidential" | "Public";
  clientId?: string;
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  grantTypes?: string[];
  scopes?: string[];
  requireConsent?: boolean;
  /** Owner account id (wire form, e.g. "b" for the admin); needed for client_credentials. */
  ownerId?: string;
}

function clientFields(options: ClientOptions) {
  const redirectUris = options.redirectUris ?? ["http://127.0.0.1/callback"];
  return {
    clientId: options.clientId ?? `client-${crypto.randomUUID().slice(0, 8)}`,
    name: options.name ?? "Test application",
    redirectUris,
    postLogoutRedirectUris: options.postLogoutRedirectUris ?? [],
    grantTypes: options.grantTypes ?? ALL_GRANTS,
    scopes: options.scopes ?? ALL_SCOPES,
    requireConsent: options.requireConsent ?? true,
    ...(options.ownerId ? { ownerId: options.ownerId } : {}),
  };
}

/** Registers a client in-process (through the object layer, as the CLI does). */
export async function registerClient(services: Services, options: ClientOptions = {}): Promise<TestClient> {
  const fields = clientFields(options);
  const type = (options.type ?? "Confidential").toLowerCase();
  const created = await services.objects.create(`oauth-client/${type}`, fields, "system");
  return {
    clientId: String(created.clientId),
    secret: created.secret as string | undefined,
    redirectUri: fields.redirectUris[0],
  };
}

/** Registers a client with the CLI on a data directory (for tests against a server process). */
export async function registerClientWithCli(
  dataDir: string,
  options: ClientOptions = {},
): Promise<TestClient> {
  const fields = clientFields(options);
  const type = (options.type ?? "Confidential").toLowerCase();
  const args = ["--data", dataDir, "create", `oauth-client/${type}`, "--json"];
  for (const [name, value] of Object.entries(fields)) {
    args.push("--field", `${name}=${typeof value === "string" ? value : JSON.stringify(value)}`);
  }
  const result = await cli(args);
  assert.equal(result.code, 0, result.stderr);
  const created = JSON.parse(result.stdout);
  return { clientId: created.clientId, secret: created.secret, redirectUri: fields.redirectUris[0] };
}

/** A PKCE verifier and its S256 challenge (RFC 7636). */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/** What a page's form holds: where it posts and its fields (hidden ones included). */
export interface PageForm {
  action: string;
  fields: Record<string, string>;
}

/** The first form of an HTML page with its input values. */
export function readForm(html: string): PageForm {
  const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/.exec(html);
  assert.ok(form, `no form in the page: ${html.slice(0, 300)}`);
  const fields: Record<string, string> = {};
  for (const input of form[2].matchAll(/<input\b[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(input[0])?.[1];
    const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? "";
    if (name) fields[name] = unescapeHtml(value);
  }
  return { action: unescapeHtml(form[1]), fields };
}

function unescapeHtml(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/**
 * A browser without JavaScript: keeps cookies, requests pages, posts forms; never follows redirects
 * by itself, so a test sees each 303 and where it goes.
 */
export class TestBrowser {
  readonly cookies = new Map<string, string>();

  constructor(readonly baseUrl: string, private readonly fetcher: typeof fetch = fetch) {}

  /** GET (or POST a form to) a URL of the server, keeping its cookies. */
  async request(url: string, form?: Record<string, string>): Promise<Response> {
    const absolute = new URL(url, this.baseUrl).href;
    const headers: Record<string, string> = {};
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    if (form) headers["content-type"] = "application/x-www-form-urlencoded";
    const response = await this.fetcher(absolute, {
      method: form ? "POST" : "GET",
      headers,
      body: form ? new URLSearchParams(form) : undefined,
      redirect: "manual",
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  /** Posts the page's form with some fields filled in. */
  async submit(html: string, values: Record<string, string>): Promise<Response> {
    const form = readForm(html);
    return await this.request(form.action, { ...form.fields, ...values });
  }

  /**
   * Opens an authorization URL, signs in if asked, and answers the consent page if shown; returns the
   * final redirect to the client (a URL with `code` or `error`).
   */
  async authorize(
    authorizationUrl: string,
    options: { username?: string; password?: string; consent?: "approve" | "deny" } = {},
  ): Promise<URL> {
    let response = await this.request(authorizationUrl);
    for (let step = 0; step < 4; step++) {
      if (response.status === 303) return new URL(response.headers.get("location")!);
      const html = await response.text();
      assert.equal(response.status, 200, `unexpected page (${response.status}): ${html.slice(0, 500)}`);
      if (html.includes('name="password"')) {
        response = await this.submit(html, {
          username: options.username ?? ADMIN.username,
          password: options.password ?? ADMIN.password,
        });
      } else if (html.includes('name="decision"')) {
        response = await this.submit(html, { decision: options.consent ?? "approve" });
      } else {
        assert.fail(`neither a sign-in nor a consent page: ${html.slice(0, 500)}`);
      }
    }
    assert.fail("the authorization did not end in a redirect");
  }
}

/** A fetch that calls an in-process app's handler (its base URL is http://127.0.0.1:8080). */
export function inProcessFetch(t: TestApp): typeof fetch {
  return ((input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    return t.fetch(url.pathname + url.search, { ...init, redirect: "manual" });
  }) as typeof fetch;
}
