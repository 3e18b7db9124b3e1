/**
 * Two processes' worth of services on one database file (each with its own caches, as two servers or a
 * server and the CLI), with one user account: the setting of the cross-process coherence tests.
 */
import type { OAuthClient } from "../src/model/oauth.ts";
import type { TokenSet } from "../src/oauth/tokens.ts";
import { openServices, type Services } from "../src/services.ts";
import { PASSWORD } from "./helpers.ts";

/** Services A and B on one file, and the account made through A. */
export interface ServicesPair {
  a: Services;
  b: Services;
  dir: string;
  accountId: number;
  domainId: number;
}

/** Opens the pair on a new temporary database (`prefix` names its directory) with user "u". */
export async function servicesPair(prefix: string): Promise<ServicesPair> {
  const dir = await Deno.makeTempDir({ prefix });
  const key = crypto.getRandomValues(new Uint8Array(64));
  const a = await openServices({ databasePath: `${dir}/postern.db`, encryptionKey: key, hashWorkers: 1 });
  const b = await openServices({ databasePath: `${dir}/postern.db`, encryptionKey: key, hashWorkers: 1 });
  const domain = await a.domains.create({ name: "example.org" });
  const account = await a.accounts.create({
    type: "User",
    name: "u",
    domainId: domain.id,
    password: PASSWORD,
  });
  await b.sync();
  return { a, b, dir, accountId: account.id, domainId: domain.id };
}

/** Closes both and removes the database. */
export async function closePair(p: ServicesPair): Promise<void> {
  await p.a.close();
  await p.b.close();
  await Deno.remove(p.dir, { recursive: true });
}

/** The scopes the pair's OAuth clients may be given. */
export const PAIR_SCOPES = ["offline_access", "urn:ietf:params:jmap:mail"];

/** Registers an OAuth client through A and returns it as A and B each see it. */
export async function pairClient(
  p: ServicesPair,
  variant: "confidential" | "public",
  clientId = `client-${variant}`,
): Promise<[OAuthClient, OAuthClient]> {
  await p.a.objects.create(`oauth-client/${variant}`, {
    clientId,
    name: clientId,
    redirectUris: ["http://127.0.0.1/callback"],
    grantTypes: ["authorization_code", "refresh_token"],
    scopes: PAIR_SCOPES,
    requireConsent: false,
  }, "system");
  await p.b.sync();
  return [(await p.a.oauth.clients.byClientId(clientId))!, (await p.b.oauth.clients.byClientId(clientId))!];
}

/** Tokens of the pair's account issued through A (an authorization code grant with a refresh token). */
export async function pairTokens(p: ServicesPair, client: OAuthClient): Promise<TokenSet> {
  const { tokens } = await p.a.oauth.tokens.issue({
    client,
    accountId: p.accountId,
    grantType: "authorization_code",
    scopes: PAIR_SCOPES,
    authTime: Date.now(),
    issuer: "http://127.0.0.1",
    withRefresh: true,
  });
  await p.b.sync();
  return tokens;
}
