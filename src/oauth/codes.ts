/**
 * Authorization codes (single use, PKCE S256 only) and device codes (RFC 8628): issuing them and
 * redeeming them for tokens.
 */
import { createHash } from "node:crypto";
import type { OAuthClient, Store } from "./deps.ts";
import { invalidGrant, invalidRequest, OAuthError } from "./errors.ts";
import type { ProviderSettings } from "./settings.ts";
import { toBase64Url } from "./token_codec.ts";
import type { TokenService, TokenSet } from "./tokens.ts";

/** A digest of a high-entropy code: what the database keeps instead of the code. */
export function codeHash(code: string): string {
  return createHash("sha256").update(code).digest("base64url");
}

/** A new random code (256 bits). */
export function randomCode(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

// RFC 8628 §6.1: consonants only (no vowels, so no words), none that look alike.
const USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ";

/** A user code such as "WDJB-MJHT": 8 letters from 20, about 34 bits. */
export function userCode(): string {
  const out: string[] = [];
  while (out.length < 8) {
    for (const b of crypto.getRandomValues(new Uint8Array(16))) {
      if (b < 240 && out.length < 8) out.push(USER_CODE_ALPHABET[b % 20]);
    }
  }
  return `${out.slice(0, 4).join("")}-${out.slice(4).join("")}`;
}

/** A user code as typed (any case, with or without the dash or spaces) in its stored form. */
export function normalizeUserCode(input: string): string | undefined {
  const letters = input.toUpperCase().replace(/[\s-]/g, "");
  if (!/^[A-Z]{8}$/.test(letters) || [...letters].some((c) => !USER_CODE_ALPHABET.includes(c))) {
    return undefined;
  }
  return `${letters.slice(0, 4)}-${letters.slice(4)}`;
}

/** What an issued code remembers of its authorization request. */
export interface CodeRequest {
  client: OAuthClient;
  accountId: number;
  redirectUri: string;
  scopes: string[];
  codeChallenge: string;
  nonce: string | null;
  authTime: number;
}

/** Codes of both flows. */
export class CodeService {
  constructor(
    private readonly store: Store,
    private readonly tokens: TokenService,
    private readonly settings: () => ProviderSettings,
  ) {}

  /** Issues an authorization code. */
  async issueCode(request: CodeRequest): Promise<string> {
    const code = randomCode();
    await this.store.oauth.insertCode({
      codeHash: codeHash(code),
      clientId: request.client.id,
      accountId: request.accountId,
      redirectUri: request.redirectUri,
      scopes: request.scopes,
      codeChallenge: request.codeChallenge,
      nonce: request.nonce,
      authTime: request.authTime,
      expiresAt: Date.now() + this.settings().authCodeMs,
      usedAt: null,
      grantId: null,
    });
    return code;
  }

  /**
   * The authorization_code grant. The code is consumed in one statement (of two concurrent
   * redemptions exactly one wins); a replay revokes whatever the code issued, even when it arrives
   * while the first redemption is still issuing its tokens.
   */
  async redeemCode(
    client: OAuthClient,
    params: { code: string; redirectUri: string | undefined; verifier: string | undefined; issuer: string },
  ): Promise<TokenSet> {
    if (params.verifier === undefined) {
      throw invalidRequest("code_verifier is required: every authorization uses PKCE (S256)");
    }
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(params.verifier)) {
      throw invalidRequest("code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636)");
    }
    const hash = codeHash(params.code);
    const code = await this.store.transaction(() => this.store.oauth.consumeCode(hash, Date.now()));
    if (!code) {
      // RFC 6749 §4.1.2: a code used twice revokes what it issued. The replay removes the code, so a
      // redemption still under way finds it gone when it records its grant, and revokes that itself.
      const replayed = await this.store.oauth.takeReplayedCode(hash, client.id);
      if (!replayed) throw invalidGrant("The authorization code is invalid or expired");
      const grant = replayed.grantId === null ? undefined : await this.store.oauth.grant(replayed.grantId);
      if (grant) await this.tokens.revokeGrant(grant);
      throw invalidGrant("The authorization code was already used; the tokens it issued are revoked");
    }
    if (code.clientId !== client.id) {
      throw invalidGrant("The authorization code was issued to another client");
    }
    if (params.redirectUri !== code.redirectUri) {
      throw invalidGrant("redirect_uri does not match the one of the authorization request");
    }
    const challenge = createHash("sha256").update(params.verifier).digest("base64url");
    if (challenge !== code.codeChallenge) {
      throw invalidGrant("code_verifier does not match the code_challenge");
    }
    const { tokens, grant } = await this.tokens.issue({
      client,
      accountId: code.accountId,
      grantType: "authorization_code",
      scopes: code.scopes,
      authTime: code.authTime,
      nonce: code.nonce,
      issuer: params.issuer,
      withRefresh: wantsRefresh(client, code.scopes),
    });
    if (!(await this.store.oauth.setCodeGrant(hash, grant.id))) {
      await this.tokens.revokeGrant(grant);
      throw invalidGrant(
        "The authorization code was used again while it was redeemed; its tokens are revoked",
      );
    }
    return tokens;
  }

  /** RFC 8628 §3.2: a device code and the user code the user types on another device. */
  async issueDeviceCode(client: OAuthClient, scopes: string[], verificationUri: string) {
    const settings = this.settings();
    const deviceCode = randomCode();
    for (let attempt = 0;; attempt++) {
      const user = userCode();
      if (await this.store.oauth.deviceCodeByUserCode(user)) {
        if (attempt > 10) {
          throw new OAuthError("temporarily_unavailable", "No free user code; try again", 503);
        }
        continue;
      }
      await this.store.oauth.insertDeviceCode({
        deviceCodeHash: codeHash(deviceCode),
        userCode: user,
        clientId: client.id,
        scopes,
        status: "pending",
        accountId: null,
        authTime: null,
        intervalSeconds: settings.deviceIntervalSeconds,
        lastPollAt: null,
        expiresAt: Date.now() + settings.userCodeMs,
      });
      return {
        device_code: deviceCode,
        user_code: user,
        verification_uri: verificationUri,
        verification_uri_complete: `${verificationUri}?user_code=${user}`,
        expires_in: Math.floor(settings.userCodeMs / 1000),
        interval: settings.deviceIntervalSeconds,
      };
    }
  }

  /** The pending device code a user typed (normalized), if it is alive. */
  async pendingDevice(userCodeText: string) {
    const user = normalizeUserCode(userCodeText);
    const code = user && await this.store.oauth.deviceCodeByUserCode(user);
    return code && code.status === "pending" && code.expiresAt > Date.now() ? code : undefined;
  }

  /** The user's decision on a device code; false when it was no longer pending. */
  decideDevice(userCode: string, decision: { approved: boolean; accountId: number; authTime: number }) {
    return this.store.oauth.decideDeviceCode(userCode, {
      status: decision.approved ? "approved" : "denied",
      accountId: decision.accountId,
      authTime: decision.authTime,
    });
  }

  /** RFC 8628 §3.4–3.5: polling with a device code. */
  async redeemDeviceCode(client: OAuthClient, deviceCode: string, issuer: string): Promise<TokenSet> {
    const hash = codeHash(deviceCode);
    const code = await this.store.oauth.deviceCode(hash);
    if (!code || code.clientId !== client.id) throw invalidGrant("The device code is invalid");
    const now = Date.now();
    if (code.expiresAt <= now) {
      throw new OAuthError("expired_token", "The device code has expired; start again");
    }
    switch (code.status) {
      case "denied":
        throw new OAuthError("access_denied", "The user denied the authorization");
      case "used":
        throw invalidGrant("The device code was already used");
      case "pending": {
        const tooSoon = code.lastPollAt !== null && now - code.lastPollAt < code.intervalSeconds * 1000;
        // §3.5: slow_down adds 5 seconds to the interval for this and later polls.
        await this.store.oauth.pollDeviceCode(hash, now, code.intervalSeconds + (tooSoon ? 5 : 0));
        if (tooSoon) {
          throw new OAuthError("slow_down", `Poll at most every ${code.intervalSeconds + 5} seconds`);
        }
        throw new OAuthError("authorization_pending", "The user has not finished the authorization yet");
      }
      case "approved": {
        if (!(await this.store.oauth.useDeviceCode(hash))) {
          throw invalidGrant("The device code was already used");
        }
        const { tokens } = await this.tokens.issue({
          client,
          accountId: code.accountId!,
          grantType: "urn:ietf:params:oauth:grant-type:device_code",
          scopes: code.scopes,
          authTime: code.authTime ?? now,
          issuer,
          withRefresh: wantsRefresh(client, code.scopes),
        });
        return tokens;
      }
    }
  }
}

/**
 * A refresh token is issued to a client allowed the refresh_token grant when it asked for
 * offline_access, or for a plain OAuth (non-OpenID) authorization, where no such scope exists.
 */
export function wantsRefresh(client: OAuthClient, scopes: string[]): boolean {
  return client.grantTypes.includes("refresh_token") &&
    (scopes.includes("offline_access") || !scopes.includes("openid"));
}
