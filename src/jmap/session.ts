/** The JMAP session resource (RFC 8620 §2). */
import { createHash } from "node:crypto";
import type { Account, Principal } from "../model/types.ts";
import { encodeId } from "../model/ids.ts";
import { requiredScope } from "../model/oauth.ts";
import { PRINCIPALS_CAPABILITY, PRINCIPALS_OWNER_CAPABILITY } from "./principals/types.ts";
import { CAPABILITY, type CoreCapability, type JmapSession, type MailAccountCapability } from "./types.ts";
import { WEBSOCKET_CAPABILITY, WEBSOCKET_PATH } from "./push/websocket.ts";
import { TICKET_CAPABILITY, ticketCapability } from "./push/ticket_route.ts";
import { TICKET_LIFETIME_MS } from "./push/tickets.ts";

/** An account shared with the user, as the session lists it. */
export interface SharedAccount {
  account: Account;
  /** True when the user holds no right that changes anything. */
  readOnly: boolean;
}

/** Everything the session is built from. */
export interface SessionOptions {
  baseUrl: string;
  core: CoreCapability;
  mail: Omit<MailAccountCapability, "mayCreateTopLevelMailbox">;
  /** RFC 8621 §1.3.2: the submission capability of the user's own account. */
  submission?: { maxDelayedSend: number; submissionExtensions: Record<string, string[]> };
  /** Accounts shared with the user (already resolved: missing ones were skipped). */
  shared: readonly SharedAccount[];
  /** How long a WebSocket/EventSource ticket is accepted (advertised under TICKET_CAPABILITY). */
  ticketLifetimeMs?: number;
}

/** Builds the session for an authenticated principal. */
export function buildSession(principal: Principal, account: Account, options: SessionOptions): JmapSession {
  const id = encodeId(principal.accountId);
  const base = options.baseUrl;
  const personal = account.type === "User";
  const accounts: JmapSession["accounts"] = {
    [id]: {
      name: account.primaryAddress,
      isPersonal: true,
      isReadOnly: false,
      accountCapabilities: {
        ...(personal
          ? {
            [CAPABILITY.mail]: { ...options.mail, mayCreateTopLevelMailbox: true },
            [CAPABILITY.quota]: {},
            ...(options.submission ? { [CAPABILITY.submission]: options.submission } : {}),
            [CAPABILITY.vacation]: {},
          }
          : {}),
        [CAPABILITY.management]: {},
        // RFC 9670: the user's Principal lives in their own account, under the account's id.
        [PRINCIPALS_CAPABILITY]: { currentUserPrincipalId: id },
        [PRINCIPALS_OWNER_CAPABILITY]: { accountIdForPrincipal: id, principalId: id },
      },
    },
  };
  for (const shared of options.shared) {
    accounts[encodeId(shared.account.id)] = {
      name: shared.account.primaryAddress,
      isPersonal: false,
      isReadOnly: shared.readOnly,
      accountCapabilities: {
        [CAPABILITY.mail]: { ...options.mail, mayCreateTopLevelMailbox: false },
        [CAPABILITY.quota]: {},
        [PRINCIPALS_OWNER_CAPABILITY]: {
          accountIdForPrincipal: id,
          principalId: encodeId(shared.account.id),
        },
      },
    };
  }
  const session: Omit<JmapSession, "state"> = {
    capabilities: {
      [CAPABILITY.core]: options.core,
      [CAPABILITY.mail]: {},
      [CAPABILITY.quota]: {},
      [CAPABILITY.submission]: {},
      [CAPABILITY.vacation]: {},
      [PRINCIPALS_CAPABILITY]: {},
      [CAPABILITY.management]: {},
      // RFC 8887 §4: JMAP over WebSocket, with push.
      [WEBSOCKET_CAPABILITY]: { url: `${base.replace(/^http/, "ws")}${WEBSOCKET_PATH}`, supportsPush: true },
      // Postern's own: how a browser (no Authorization header on a WebSocket or an EventSource) gets in.
      [TICKET_CAPABILITY]: ticketCapability(base, options.ticketLifetimeMs ?? TICKET_LIFETIME_MS),
    },
    accounts,
    primaryAccounts: {
      ...(personal
        ? {
          [CAPABILITY.mail]: id,
          [CAPABILITY.quota]: id,
          [CAPABILITY.submission]: id,
          [CAPABILITY.vacation]: id,
        }
        : {}),
      [PRINCIPALS_CAPABILITY]: id,
      [CAPABILITY.management]: id,
    },
    username: account.primaryAddress,
    apiUrl: `${base}/jmap/`,
    downloadUrl: `${base}/jmap/download/{accountId}/{blobId}/{name}?accept={type}`,
    uploadUrl: `${base}/jmap/upload/{accountId}/`,
    eventSourceUrl: `${base}/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}`,
  };
  const allowed = usableCapabilities(principal);
  const shown: Omit<JmapSession, "state"> = {
    ...session,
    capabilities: allowed(session.capabilities),
    accounts: Object.fromEntries(
      Object.entries(session.accounts).map(([accountId, entry]) => [
        accountId,
        { ...entry, accountCapabilities: allowed(entry.accountCapabilities) },
      ]),
    ),
    primaryAccounts: allowed(session.primaryAccounts),
  };
  return { ...shown, state: sessionState(shown) };
}

/**
 * RFC 8620 §2: the session lists the capabilities the client may use. A scoped credential (an OAuth token,
 * an app password) sees only those its scopes open (the same rule the method dispatcher enforces with
 * requiredScope), so a mail client on an app password is not offered management it would be refused.
 * Capabilities that are no method group of their own (WebSocket, tickets) stay.
 */
function usableCapabilities(principal: Principal): <T>(capabilities: Record<string, T>) => Record<string, T> {
  const scopes = principal.scopes;
  return (capabilities) => {
    if (!scopes) return capabilities;
    return Object.fromEntries(
      Object.entries(capabilities).filter(([capability]) => {
        const needed = requiredScope(
          capability === PRINCIPALS_OWNER_CAPABILITY ? PRINCIPALS_CAPABILITY : capability,
        );
        return needed === null || needed === undefined || scopes.includes(needed);
      }),
    );
  };
}

/** A state string that changes whenever anything in the session changes. */
export function sessionState(session: Omit<JmapSession, "state">): string {
  const material = JSON.stringify([
    session.accounts,
    session.primaryAccounts,
    session.username,
    session.capabilities,
  ]);
  return createHash("sha256").update(material).digest("base64url").slice(0, 16);
}
