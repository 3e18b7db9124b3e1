/**
 * Cold validation of OAuth access tokens, run as its own process on the benchmark's data directory:
 * issues distinct tokens through the provider's TokenService (one grant each, as sign-ins would),
 * then times `verifyAccess` over tokens it has never seen, one after another, in batches. Prints one
 * JSON line: microseconds per token for each batch, for the whole check and for its parts.
 *
 *   deno run -A scripts/bench/token_verify.ts --data DIR --client-id ID --login admin@example.org \
 *     [--tokens 2000] [--batches 8] [--warmup 500]
 *
 * The parts, timed over the same tokens on their own: the crypto (`openToken`: base64url, the clear
 * part, two BLAKE3 derivations and the AES-256-GCM-SIV open; then each of these two alone, on inputs
 * of the same sizes) and the database reads `verifyAccess` makes (the account's credential secret
 * and the grant row). Last, the authenticator's whole cold Bearer path (header key, rate limiter,
 * `verifyAccess`, account, cache fill) over the same tokens, still unseen by its cache and forgotten
 * by the token service's (opened tokens, families).
 */
import { parseArgs } from "node:util";
import { resolveConfig } from "../../src/config/mod.ts";
import { openSiv, sealSiv } from "../../src/oauth/aes_gcm_siv.ts";
import { blake3Hash, deriveKey as tokenKey } from "../../src/oauth/blake3.ts";
import { type KeyMaterial, openToken, readClearClaims } from "../../src/oauth/token_codec.ts";
import { openData } from "../../src/server.ts";
import type { Services } from "../../src/services.ts";

/** Microseconds per token, one value per batch. */
export interface TokenVerifyResult {
  tokens: number;
  batches: number;
  verifyAccess: number[];
  openToken: number[];
  blake3: number[];
  aesOpen: number[];
  databaseReads: number[];
  authenticator: number[];
}

const SCOPES = ["offline_access", "urn:ietf:params:jmap:mail"];

/** Issues `count` access tokens to `login` for `clientId`, each of its own grant. */
async function issueTokens(
  services: Services,
  options: { clientId: string; login: string; count: number },
): Promise<string[]> {
  const client = await services.oauth.clients.byClientId(options.clientId);
  const accountId = await services.accounts.idByLogin(options.login);
  if (!client || accountId === undefined) {
    throw new Error(`Cannot issue tokens: no client "${options.clientId}" or login "${options.login}"`);
  }
  const tokens: string[] = [];
  for (let i = 0; i < options.count; i++) {
    const { tokens: set } = await services.oauth.tokens.issue({
      client,
      accountId,
      grantType: "authorization_code",
      scopes: SCOPES,
      authTime: Date.now(),
      issuer: "http://127.0.0.1",
      withRefresh: false,
    });
    tokens.push(set.access_token);
  }
  return tokens;
}

/** Runs `step` over every token of each batch; microseconds per token, per batch. */
async function timeBatches(
  batches: string[][],
  step: (token: string) => unknown,
): Promise<number[]> {
  const out: number[] = [];
  for (const batch of batches) {
    const started = performance.now();
    for (const token of batch) await step(token);
    out.push((performance.now() - started) * 1000 / batch.length);
  }
  return out;
}

/** The same sequence of steps without awaiting (for the synchronous parts: no microtask per token). */
function timeBatchesSync(batches: string[][], step: (token: string) => unknown): number[] {
  return batches.map((batch) => {
    const started = performance.now();
    for (const token of batch) step(token);
    return (performance.now() - started) * 1000 / batch.length;
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      data: { type: "string" },
      "client-id": { type: "string" },
      login: { type: "string" },
      tokens: { type: "string", default: "2000" },
      batches: { type: "string", default: "8" },
      warmup: { type: "string", default: "500" },
    },
  });
  if (!values.data || !values["client-id"] || !values.login) {
    throw new Error("token_verify.ts needs --data, --client-id and --login");
  }
  const count = Number(values.tokens);
  const batchCount = Number(values.batches);
  const { services } = await openData(resolveConfig({ data: values.data }, Deno.env.toObject()));
  try {
    const issue = (n: number) =>
      issueTokens(services, { clientId: values["client-id"]!, login: values.login!, count: n });
    const tokens = await issue(count);
    const batchSize = Math.ceil(count / batchCount);
    const batches = Array.from(
      { length: batchCount },
      (_, i) => tokens.slice(i * batchSize, (i + 1) * batchSize),
    );
    const verify = (token: string) => services.oauth.tokens.verifyAccess(token);

    // Warm-up on other tokens: the code paths compiled, the account and client in their caches (as
    // on a running server); none of the measured tokens has been opened yet.
    for (const token of await issue(Number(values.warmup))) {
      if (!await verify(token)) throw new Error("A freshly issued access token did not verify");
    }
    const verifyAccess = await timeBatches(batches, async (token) => {
      if (!await verify(token)) throw new Error("A freshly issued access token did not verify");
    });

    // The parts. Key material as verifyAccess builds it (one account, one client here).
    const first = readClearClaims(tokens[0])!;
    const client = (await services.oauth.clients.byId(first.clientRowId))!;
    const account = (await services.accounts.get(first.accountId))!;
    const material: KeyMaterial = {
      serverKey: await services.oauth.serverKey(),
      clientId: client.clientId,
      accountName: account.name,
      credentialSecret: (await services.accounts.credentialSecret(account.id))!,
    };
    const opened = new Map(tokens.map((t) => [t, openToken(t, material)!]));
    const openTimes = timeBatchesSync(batches, (token) => {
      if (!openToken(token, material)) throw new Error("openToken failed on a valid token");
    });
    const crypto = cryptoParts(batches, material);
    const databaseReads = await timeBatches(batches, async (token) => {
      await services.accounts.credentialSecret(account.id);
      await services.store.oauth.grant(opened.get(token)!.grantId);
    });
    // Cold for the token service too: the tokens opened and the families read above are forgotten.
    services.oauth.tokens.forget();
    const authenticator = await timeBatches(batches, async (token) => {
      await services.authenticator.authenticate(`Bearer ${token}`, "127.0.0.1");
    });
    const result: TokenVerifyResult = {
      tokens: count,
      batches: batchCount,
      verifyAccess,
      openToken: openTimes,
      blake3: crypto.blake3,
      aesOpen: crypto.aesOpen,
      databaseReads,
      authenticator,
    };
    console.log(JSON.stringify(result));
  } finally {
    await services.close();
  }
}

/**
 * BLAKE3 and AES-256-GCM-SIV on their own, the implementations token_codec.ts uses, with inputs of
 * its sizes: a derive_key over server key ‖ client_id ‖ expiry ‖ details ‖ credential secret and a
 * 12-byte hash of a domain label ‖ the details; then the open of a sealed 3-varint plaintext under a
 * fresh key (key expansion included, as every token has its own key).
 */
function cryptoParts(batches: string[][], material: KeyMaterial) {
  const deriveKey = tokenKey("postern 2026-11 oauth token key");
  const nonceDomain = new TextEncoder().encode("postern 2026-11 oauth token nonce\n");
  const details = new Uint8Array(4 + material.accountName.length + 1 + 5);
  const nonceInput = new Uint8Array(nonceDomain.length + details.length);
  nonceInput.set(nonceDomain);
  const keyInput = new Uint8Array(
    2 + material.serverKey.length + 1 + material.clientId.length + 5 + 1 + details.length + 2 +
      material.credentialSecret.length,
  );
  const derive = (index: number) => {
    details[0] = index & 0xff;
    nonceInput.set(details, nonceDomain.length);
    keyInput[0] = index & 0xff;
    return { key: deriveKey(keyInput), nonce: blake3Hash(nonceInput, 12) };
  };
  let index = 0;
  const blake3Times = timeBatchesSync(batches, () => derive(index++));
  const aad = new Uint8Array(16);
  const sealed = new Map<string, { key: Uint8Array; nonce: Uint8Array; data: Uint8Array }>();
  index = 0;
  for (const token of batches.flat()) {
    const { key, nonce } = derive(index++);
    sealed.set(token, { key, nonce, data: sealSiv(key, nonce, aad, new Uint8Array(6)) });
  }
  const aesOpen = timeBatchesSync(batches, (token) => {
    const { key, nonce, data } = sealed.get(token)!;
    return openSiv(key, nonce, aad, data);
  });
  return { blake3: blake3Times, aesOpen };
}

if (import.meta.main) await main();
