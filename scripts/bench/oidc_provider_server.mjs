/**
 * The refresh_token baseline: node-oidc-provider (npm `oidc-provider`) on a free loopback port, with
 * one confidential client equivalent to the benchmark's Postern client, and one refresh token issued
 * ahead. Plain JavaScript on Node's APIs only, so the same file runs where its users run it, on
 * Node.js (from a node_modules the benchmark installs, see oidc_provider_runtime.ts), and, for
 * comparison, on Deno's Node compatibility layer (where oidc-provider warns that Deno is unsupported):
 *
 *   node oidc_provider_server.mjs --client-id ID --client-secret SECRET \
 *     --scope "offline_access urn:ietf:params:jmap:mail" --token-file rt.txt
 *   deno run -A scripts/bench/oidc_provider_server.mjs …the same options…
 *
 * The client authenticates with client_secret_basic and may use authorization_code, refresh_token and
 * client_credentials (the provider's clientCredentials feature, on; opaque access tokens, no resource
 * indicator, as Postern's); tokens last as Postern's defaults (access 1 h, refresh 30 days). Storage is in memory, through the
 * small adapter below rather than the provider's bundled development adapter: that one rebuilds the
 * grant's list of tokens on every save (a pass over every token issued under the grant, then
 * `Math.max(...)` over them), so with every refresh on one grant the baseline slowed down round after
 * round (measured: 2,571 → 1,125 req/s over five rounds) and would end in a stack overflow; a
 * production adapter (Redis, SQL) appends to that index in constant time, as this one does.
 * `--bundled-adapter` runs with the development adapter instead, to see that effect.
 *
 * `rotateRefreshToken` keeps its default, which rotates a confidential client's token only once 70% of
 * its lifetime has passed: like Postern (which renews it only when less than 4 of its 30 days are
 * left), a fresh token is never rotated during the run, so every request can present the same one.
 *
 * The refresh token is made directly with the provider's models (a Grant holding the scope, then a
 * RefreshToken of that grant, as the authorization_code grant would have saved them), rather than by
 * driving a sign-in through its interaction pages: the refresh grant reads exactly these two records.
 * `--tokens N` makes N such grants, each with its own refresh token, as N sign-ins would (the fresh-token
 * rounds send each once). The values are written to `--token-file`, one a line, before
 * `listening <port>` is printed on stdout.
 */
import { generateKeyPair } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import process from "node:process";
import { parseArgs, promisify } from "node:util";
import Provider from "oidc-provider";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    "client-id": { type: "string" },
    "client-secret": { type: "string" },
    scope: { type: "string", default: "offline_access" },
    "token-file": { type: "string" },
    "account-id": { type: "string", default: "bench-account" },
    "bundled-adapter": { type: "boolean", default: false },
    tokens: { type: "string", default: "1" },
  },
});
const clientId = values["client-id"];
const clientSecret = values["client-secret"];
const tokenFile = values["token-file"];
if (!clientId || !clientSecret || !tokenFile) {
  throw new Error("oidc_provider_server.mjs needs --client-id, --client-secret and --token-file");
}
const scopes = values.scope.split(" ").filter(Boolean);
const accountId = values["account-id"];

// A real signing key (as Postern has its own), so the provider does not fall back to its development keys.
const { privateKey } = await promisify(generateKeyPair)("rsa", { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: "jwk" }), kid: "bench", alg: "RS256", use: "sig" };

/**
 * The access tokens the adapter keeps, at most this many (the oldest go first): the load issues one
 * per request. Grants and refresh tokens minted ahead are never evicted, so the fresh-token rounds find
 * every one of them.
 */
const MAX_RECORDS = 200_000;
const EVICTABLE = new Set(["AccessToken", "ClientCredentials"]);
/** Keys of evictable records, oldest first. @type {Set<string>} */
const evictable = new Set();
/** @type {Map<string, { payload: Record<string, unknown>; expiresAt: number }>} */
const records = new Map();
/** @type {Map<string, Set<string>>} */
const grants = new Map();
/** @type {Map<string, string>} */
const secondary = new Map();

/** An in-memory adapter (the provider's Adapter interface) whose every operation is constant time. */
class MemoryAdapter {
  /** @param {string} model */
  constructor(model) {
    this.model = model;
  }

  /** @param {string} id */
  key(id) {
    return `${this.model}:${id}`;
  }

  /** @param {string} id @param {Record<string, unknown>} payload @param {number} [expiresIn] */
  upsert(id, payload, expiresIn) {
    const key = this.key(id);
    records.delete(key);
    records.set(key, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
    if (typeof payload.grantId === "string") {
      let members = grants.get(payload.grantId);
      if (!members) grants.set(payload.grantId, members = new Set());
      members.add(key);
    }
    if (typeof payload.uid === "string") secondary.set(`uid:${payload.uid}`, id);
    if (typeof payload.userCode === "string") secondary.set(`userCode:${payload.userCode}`, id);
    if (EVICTABLE.has(this.model)) {
      evictable.delete(key);
      evictable.add(key);
      if (evictable.size > MAX_RECORDS) this.evict(evictable.keys().next().value);
    }
    return Promise.resolve();
  }

  /** @param {string} id */
  find(id) {
    const record = records.get(this.key(id));
    return Promise.resolve(record && record.expiresAt > Date.now() ? record.payload : undefined);
  }

  /** @param {string} uid */
  findByUid(uid) {
    const id = secondary.get(`uid:${uid}`);
    return id === undefined ? Promise.resolve(undefined) : this.find(id);
  }

  /** @param {string} userCode */
  findByUserCode(userCode) {
    const id = secondary.get(`userCode:${userCode}`);
    return id === undefined ? Promise.resolve(undefined) : this.find(id);
  }

  /** @param {string} id */
  consume(id) {
    const record = records.get(this.key(id));
    if (record) record.payload.consumed = Math.floor(Date.now() / 1000);
    return Promise.resolve();
  }

  /** @param {string} id */
  destroy(id) {
    this.evict(this.key(id));
    return Promise.resolve();
  }

  /** @param {string} grantId */
  revokeByGrantId(grantId) {
    for (const key of grants.get(grantId) ?? []) records.delete(key);
    grants.delete(grantId);
    return Promise.resolve();
  }

  /** @param {string} key */
  evict(key) {
    const grantId = records.get(key)?.payload.grantId;
    records.delete(key);
    evictable.delete(key);
    if (typeof grantId === "string") grants.get(grantId)?.delete(key);
  }
}

const provider = new Provider("http://127.0.0.1", {
  ...(values["bundled-adapter"] ? {} : { adapter: MemoryAdapter }),
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    token_endpoint_auth_method: "client_secret_basic",
    grant_types: ["authorization_code", "refresh_token", "client_credentials"],
    response_types: ["code"],
    redirect_uris: ["http://127.0.0.1/callback"],
  }],
  jwks: { keys: [jwk] },
  scopes: ["openid", ...scopes.filter((s) => s !== "openid")],
  cookies: { keys: [crypto.randomUUID()] },
  features: { devInteractions: { enabled: false }, clientCredentials: { enabled: true } },
  ttl: { AccessToken: 3600, RefreshToken: 30 * 24 * 3600, Grant: 30 * 24 * 3600 },
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
});

const client = await provider.Client.find(clientId);
if (!client) throw new Error(`oidc-provider did not load the client "${clientId}"`);
/** A grant for the scope and a refresh token of it, as the authorization_code grant saves them. */
async function mintRefreshToken() {
  const grant = new provider.Grant({ accountId, clientId });
  grant.addOIDCScope(scopes.join(" "));
  const grantId = await grant.save();
  const now = Math.floor(Date.now() / 1000);
  return await new provider.RefreshToken({
    accountId,
    client,
    grantId,
    gty: "authorization_code",
    scope: scopes.join(" "),
    authTime: now,
    iiat: now,
    expiresWithSession: false,
  }).save();
}
const refreshTokens = [];
for (let i = 0; i < Number(values.tokens); i++) refreshTokens.push(await mintRefreshToken());
writeFileSync(tokenFile, refreshTokens.join("\n") + "\n");

const server = createServer(provider.callback());
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  console.log(`listening ${typeof address === "object" && address ? address.port : address}`);
});
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
});
