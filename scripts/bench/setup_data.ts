/**
 * In-process work on the benchmark's data directory, through the same services the server uses:
 * the first-start bootstrap, the accounts for cold logins, a large directory for the JMAP query
 * figure, the OAuth client and tokens of the OAuth figures, and timing one coherence check
 * (`services.sync()`).
 */
import { resolveConfig } from "../../src/config/mod.ts";
import { bootstrap } from "../../src/directory/mod.ts";
import { encodeId } from "../../src/model/ids.ts";
import { openData } from "../../src/server.ts";

/** What `postern serve` does on first start: the domain and the admin (so servers start on a ready directory). */
export async function bootstrapData(
  dataDir: string,
  options: { domain: string; adminPassword: string },
): Promise<void> {
  const { services } = await openData(resolveConfig({ data: dataDir }, Deno.env.toObject()));
  try {
    await bootstrap(services, options);
  } finally {
    await services.close();
  }
}

/**
 * Creates `count` user accounts without a password on `domain`, all in one transaction (no Argon2
 * hashing, and one commit instead of one per account). The names are a permutation of the creation
 * order (`dir00000`…), so sorting by name is not the same as sorting by id.
 */
export async function createDirectoryAccounts(
  dataDir: string,
  options: { count: number; domain: string },
): Promise<void> {
  const { services } = await openData(resolveConfig({ data: dataDir }, Deno.env.toObject()));
  try {
    const domain = await services.domains.getByName(options.domain);
    if (!domain) throw new Error(`Cannot create directory accounts: no domain "${options.domain}"`);
    const width = String(options.count - 1).length;
    // 7919 is prime, so i × 7919 mod count visits every number once unless count is a multiple of it.
    const step = options.count % 7919 === 0 ? 1 : 7919;
    await services.store.transaction(async () => {
      for (let i = 0; i < options.count; i++) {
        const name = `dir${String((i * step) % options.count).padStart(width, "0")}`;
        // Inside the outer transaction each create's own write runs inline (nested-safe), in order.
        await services.accounts.create({ type: "User", name, domainId: domain.id });
      }
    });
  } finally {
    await services.close();
  }
}

/** Password of every benchmark account (each login still has its own header: the names differ). */
export const BENCH_PASSWORD = "bench password that is long enough";

/** Creates `count` user accounts on `domain` and returns one Basic header per account. */
export async function createLoginAccounts(
  dataDir: string,
  options: { count: number; domain: string },
): Promise<string[]> {
  const { services } = await openData(resolveConfig({ data: dataDir }, Deno.env.toObject()));
  try {
    const domain = await services.domains.getByName(options.domain);
    if (!domain) throw new Error(`Cannot create benchmark accounts: no domain "${options.domain}"`);
    const names = Array.from({ length: options.count }, (_, i) => `bench${String(i + 1).padStart(3, "0")}`);
    // Hashing runs in the worker pool and writes are queued, so creating them together is safe and quick.
    await Promise.all(
      names.map((name) =>
        services.accounts.create({ type: "User", name, domainId: domain.id, password: BENCH_PASSWORD })
      ),
    );
    return names.map((name) => basic(`${name}@${options.domain}`, BENCH_PASSWORD));
  } finally {
    await services.close();
  }
}

/** The benchmark's confidential OAuth client and the tokens issued to it before any server starts. */
export interface OAuthFixture {
  clientId: string;
  secret: string;
  /** The scopes of the grant, space-separated (as in a token response). */
  scope: string;
  refreshToken: string;
  accessToken: string;
  /** More refresh tokens of as many families (`freshTokens`), for rounds that send each once. */
  freshTokens: string[];
}

/**
 * Registers a confidential client (client_secret_basic, authorization_code + refresh_token +
 * client_credentials acting as `login`, no consent) and issues `login` one token family as the authorization_code grant would, through the
 * provider's own TokenService. The refresh token is fresh, so a confidential client keeps it (no
 * rotation) until it nears renewal, weeks away.
 */
export async function createOAuthFixture(
  dataDir: string,
  options: { clientId: string; login: string; scopes: string[]; freshTokens?: number },
): Promise<OAuthFixture> {
  const { services } = await openData(resolveConfig({ data: dataDir }, Deno.env.toObject()));
  try {
    const accountId = await services.accounts.idByLogin(options.login);
    if (accountId === undefined) {
      throw new Error(`Cannot issue benchmark tokens: no login "${options.login}"`);
    }
    const created = await services.objects.create("oauth-client/confidential", {
      clientId: options.clientId,
      // Client names are unique: named after its client_id, a second fixture on the same data does not collide.
      name: `Benchmark client ${options.clientId}`,
      redirectUris: ["http://127.0.0.1/callback"],
      grantTypes: ["authorization_code", "refresh_token", "client_credentials"],
      scopes: options.scopes,
      // client_credentials tokens act as the owner.
      ownerId: encodeId(accountId),
      requireConsent: false,
    }, "system");
    const client = await services.oauth.clients.byClientId(options.clientId);
    if (!client) throw new Error(`Cannot issue benchmark tokens: no client "${options.clientId}"`);
    const issue = async () =>
      (await services.oauth.tokens.issue({
        client,
        accountId,
        grantType: "authorization_code",
        scopes: options.scopes,
        authTime: Date.now(),
        issuer: "http://127.0.0.1",
        withRefresh: true,
      })).tokens;
    const tokens = await issue();
    const freshTokens: string[] = [];
    for (let i = 0; i < (options.freshTokens ?? 0); i++) freshTokens.push((await issue()).refresh_token!);
    return {
      clientId: options.clientId,
      secret: String(created.secret),
      scope: tokens.scope,
      refreshToken: tokens.refresh_token!,
      accessToken: tokens.access_token,
      freshTokens,
    };
  } finally {
    await services.close();
  }
}

/** Microseconds per `services.sync()` call when nothing changed (the steady state under load). */
export async function timeSync(dataDir: string, calls = 200_000): Promise<number> {
  const { services } = await openData(resolveConfig({ data: dataDir }, Deno.env.toObject()));
  try {
    for (let i = 0; i < 10_000; i++) services.sync();
    const started = performance.now();
    for (let i = 0; i < calls; i++) services.sync();
    return (performance.now() - started) * 1000 / calls;
  } finally {
    await services.close();
  }
}

/** An Authorization header for Basic credentials (UTF-8). */
export function basic(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return "Basic " + btoa(String.fromCharCode(...bytes));
}
