/** The JMAP session resource (RFC 8620 §2). */
import { createHash } from "node:crypto";
import type { Account, Principal } from "../model/types.ts";
import { encodeId } from "../model/ids.ts";
import { CAPABILITY, type CoreCapability, type JmapSession } from "./types.ts";

/** Builds the session for an authenticated principal. */
export function buildSession(
  principal: Principal,
  account: Account,
  options: { baseUrl: string; core: CoreCapability },
): JmapSession {
  const id = encodeId(principal.accountId);
  const base = options.baseUrl;
  const session: Omit<JmapSession, "state"> = {
    capabilities: {
      [CAPABILITY.core]: options.core,
      [CAPABILITY.management]: {},
    },
    accounts: {
      [id]: {
        name: account.primaryAddress,
        isPersonal: true,
        isReadOnly: false,
        accountCapabilities: { [CAPABILITY.management]: {} },
      },
    },
    primaryAccounts: { [CAPABILITY.management]: id },
    username: account.primaryAddress,
    apiUrl: `${base}/jmap/`,
    downloadUrl: `${base}/jmap/download/{accountId}/{blobId}/{name}?accept={type}`,
    uploadUrl: `${base}/jmap/upload/{accountId}/`,
    eventSourceUrl: `${base}/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}`,
  };
  return { ...session, state: sessionState(session) };
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
