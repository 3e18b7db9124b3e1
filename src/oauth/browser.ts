/**
 * The browser side of the provider: sign-in sessions (a cookie holding a random id whose hash is
 * stored, ended by a password change) and flows in progress (an authorization or a device
 * confirmation, bound to the browser that started it, with a CSRF token and a failed-login count).
 */
import { createHash } from "node:crypto";
import type { AccountService } from "../directory/mod.ts";
import type { BrowserSession, OAuthFlow, Store } from "./deps.ts";
import { codeHash, randomCode } from "./codes.ts";
import type { ProviderSettings } from "./settings.ts";

/** How long an unfinished flow lives. */
const FLOW_MS = 30 * 60 * 1000;

/** Sessions and flows. */
export class BrowserState {
  constructor(
    private readonly store: Store,
    private readonly accounts: AccountService,
    private readonly settings: () => ProviderSettings,
  ) {}

  /** The signed-in account of a session cookie, if the session is alive and the password unchanged. */
  async session(cookie: string | undefined): Promise<BrowserSession | undefined> {
    if (!cookie || cookie.length > 100) return undefined;
    const session = await this.store.oauth.session(codeHash(cookie));
    if (!session || session.expiresAt <= Date.now()) return undefined;
    const account = await this.accounts.get(session.accountId);
    if (!account?.enabled || session.credentialTag !== await this.credentialTag(session.accountId)) {
      await this.store.oauth.deleteSession(session.idHash);
      return undefined;
    }
    return session;
  }

  /** Starts a session for an account that just signed in; returns the cookie value. */
  async startSession(
    accountId: number,
    authTime: number,
  ): Promise<{ cookie: string; maxAgeSeconds: number }> {
    const cookie = randomCode();
    const ms = this.settings().sessionMs;
    await this.store.oauth.insertSession({
      idHash: codeHash(cookie),
      accountId,
      credentialTag: await this.credentialTag(accountId),
      authTime,
      expiresAt: Date.now() + ms,
    });
    return { cookie, maxAgeSeconds: Math.floor(ms / 1000) };
  }

  /** Ends a session. */
  async endSession(cookie: string | undefined): Promise<void> {
    if (cookie) await this.store.oauth.deleteSession(codeHash(cookie));
  }

  /** Starts a flow bound to a browser (by its binding cookie). */
  async startFlow(
    flow: { kind: OAuthFlow["kind"]; clientId: number; params: Record<string, unknown> },
    browser: string,
  ): Promise<OAuthFlow> {
    const created: OAuthFlow = {
      id: randomCode(),
      kind: flow.kind,
      clientId: flow.clientId,
      params: { ...flow.params, browser: codeHash(browser) },
      csrf: randomCode(),
      accountId: null,
      authTime: null,
      failedAttempts: 0,
      expiresAt: Date.now() + FLOW_MS,
    };
    await this.store.oauth.insertFlow(created);
    return created;
  }

  /**
   * The flow a form was posted for: it must exist, be alive, belong to this browser and carry its
   * CSRF token. Anything else is undefined (the page says to start again).
   */
  async postedFlow(form: { flow?: string; csrf?: string }, browser: string | undefined) {
    if (!form.flow || !form.csrf || !browser || form.flow.length > 100) return undefined;
    const flow = await this.store.oauth.flow(form.flow);
    if (!flow || flow.expiresAt <= Date.now()) return undefined;
    if (!sameText(flow.csrf, form.csrf) || flow.params.browser !== codeHash(browser)) return undefined;
    return flow;
  }

  /**
   * Counts a failed sign-in in a flow, atomically (concurrent wrong passwords all count); the new
   * count, or undefined when the flow is already gone (voided, finished or expired).
   */
  failedLogin(flow: OAuthFlow): Promise<number | undefined> {
    return this.store.oauth.countFlowFailure(flow.id, Date.now());
  }

  /**
   * Records who signed in during a flow; false when the flow was voided (too many failed sign-ins),
   * finished or expired meanwhile, and then nobody is signed in.
   */
  signedIn(flow: OAuthFlow, who: { accountId: number; authTime: number }): Promise<boolean> {
    return this.store.oauth.signInFlow(flow.id, { ...who, ...this.liveCheck() });
  }

  /**
   * Takes a flow to finish it (issue its code, decide its device): false when it was voided, finished
   * by another request or expired meanwhile, so one flow never finishes twice or after being voided.
   */
  finishFlow(flow: OAuthFlow): Promise<boolean> {
    return this.store.oauth.claimFlow(flow.id, this.liveCheck());
  }

  /** Ends a flow (cancelled or voided). */
  endFlow(flow: OAuthFlow): Promise<void> {
    return this.store.oauth.deleteFlow(flow.id);
  }

  private liveCheck() {
    return { maxFailures: this.settings().authCodeMaxAttempts, now: Date.now() };
  }

  private async credentialTag(accountId: number): Promise<string> {
    const secret = await this.accounts.credentialSecret(accountId);
    return createHash("sha256").update(secret ?? new Uint8Array()).digest("base64url");
  }
}

/** Compares two short strings without an early exit. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
