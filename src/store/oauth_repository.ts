/** What the store keeps for the OAuth provider: clients, grants, codes, flows, sessions, keys. */
import type {
  AuthorizationCode,
  BrowserSession,
  DeviceCode,
  OAuthClient,
  OAuthFlow,
  OAuthGrant,
  SigningKey,
} from "../model/oauth.ts";

export type NewClient = Omit<OAuthClient, "id" | "createdAt" | "updatedAt">;
type NewGrant = Omit<OAuthGrant, "id" | "createdAt">;

/** Persistence of the OAuth provider's clients, grants, codes, flows, sessions and keys. */
export interface OAuthRepository {
  insertClient(client: NewClient): Promise<number>;
  updateClient(id: number, client: NewClient): Promise<boolean>;
  deleteClient(id: number): Promise<boolean>;
  client(id: number): Promise<OAuthClient | undefined>;
  clientByClientId(clientId: string): Promise<OAuthClient | undefined>;
  /** Clients in id order; `ownerId` narrows to one owner's. */
  listClients(ownerId?: number): Promise<OAuthClient[]>;

  insertGrant(grant: NewGrant): Promise<number>;
  grant(id: number): Promise<OAuthGrant | undefined>;
  /** Moves a grant's refresh token on to `generation` (only from `from`): false if another won. */
  rotateRefresh(
    id: number,
    change: { from: number; generation: number; issuedAt: number; expiresAt: number; rotatedAt: number },
  ): Promise<boolean>;
  extendGrant(id: number, expiresAt: number): Promise<void>;
  deleteGrant(id: number): Promise<boolean>;
  /** Unexpired grants of an account (all clients), or of every account, newest first. */
  listGrants(accountId: number | undefined, now: number): Promise<OAuthGrant[]>;
  deleteGrantsOf(accountId: number): Promise<number[]>;

  insertCode(code: AuthorizationCode): Promise<void>;
  /** Marks an unused, unexpired code used; returns it, or undefined if it was used or unknown. */
  consumeCode(codeHash: string, now: number): Promise<AuthorizationCode | undefined>;
  /**
   * Removes a used code presented again by the client it was issued to; returns the grant it issued
   * (null while its redemption is still under way), or undefined when the code is unknown or unused.
   */
  takeReplayedCode(codeHash: string, clientId: number): Promise<{ grantId: number | null } | undefined>;
  /** Records the grant a redeemed code issued: false when a replay removed the code meanwhile. */
  setCodeGrant(codeHash: string, grantId: number): Promise<boolean>;

  insertDeviceCode(code: DeviceCode): Promise<void>;
  deviceCode(deviceCodeHash: string): Promise<DeviceCode | undefined>;
  deviceCodeByUserCode(userCode: string): Promise<DeviceCode | undefined>;
  /** Records a poll; returns the previous poll time. */
  pollDeviceCode(deviceCodeHash: string, at: number, intervalSeconds: number): Promise<number | null>;
  /** Decides a pending device code: false when it was no longer pending. */
  decideDeviceCode(
    userCode: string,
    decision: { status: "approved" | "denied"; accountId: number; authTime: number },
  ): Promise<boolean>;
  /** Marks an approved code used: false when it was not approved (or already used). */
  useDeviceCode(deviceCodeHash: string): Promise<boolean>;

  insertFlow(flow: OAuthFlow): Promise<void>;
  flow(id: string): Promise<OAuthFlow | undefined>;
  /**
   * Counts a failed sign-in of a live flow in one statement (concurrent failures all count); the new
   * count, or undefined when the flow is gone or expired.
   */
  countFlowFailure(id: string, now: number): Promise<number | undefined>;
  /**
   * Records who signed in, only while the flow lives with fewer than `maxFailures` failed sign-ins:
   * false when it was voided, finished or expired meanwhile.
   */
  signInFlow(
    id: string,
    change: { accountId: number; authTime: number; maxFailures: number; now: number },
  ): Promise<boolean>;
  /** Removes a flow to finish it, with the same conditions as signInFlow: false when it no longer may. */
  claimFlow(id: string, check: { maxFailures: number; now: number }): Promise<boolean>;
  /** Removes a flow (cancelled or voided). */
  deleteFlow(id: string): Promise<void>;

  insertSession(session: BrowserSession): Promise<void>;
  session(idHash: string): Promise<BrowserSession | undefined>;
  deleteSession(idHash: string): Promise<void>;

  /** An account's remembered consent to a client: the scopes, and when it was last given (ms). */
  consent(accountId: number, clientId: number): Promise<{ scopes: string[]; grantedAt: number } | undefined>;
  putConsent(accountId: number, clientId: number, scopes: string[]): Promise<void>;
  /** Whether an account holds an unexpired grant of a client from a user's authorization. */
  hasUserGrant(accountId: number, clientId: number, now: number): Promise<boolean>;
  /** Forgets an account's consent to a client unless an unexpired grant of it remains. */
  endConsentWithoutGrants(accountId: number, clientId: number, now: number): Promise<void>;

  insertSigningKey(key: Omit<SigningKey, "id">): Promise<number>;
  signingKeys(): Promise<SigningKey[]>;
  retireSigningKeys(exceptId: number, at: number): Promise<void>;
  deleteSigningKeysRetiredBefore(at: number): Promise<number>;

  /** Removes expired codes, device codes, flows, sessions and grants; returns how many rows went. */
  pruneExpired(now: number): Promise<number>;
}
