/**
 * The `OAuthGrant` management type: the token families of the provider, read by their account or an
 * administrator, and destroyed to revoke them (the same revocation as RFC 7009's, every cache told).
 */
import type { Caller, ObjectHandler, WireObject } from "../directory/mod.ts";
import { isAdmin } from "../directory/mod.ts";
import { encodeId, ForbiddenError, NotFoundError, type OAuthGrant, type Store, toKeyedList } from "./deps.ts";
import type { ClientLookup } from "./clients.ts";
import type { TokenService } from "./tokens.ts";

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** The handler of `OAuthGrant` objects. */
export function grantHandler(store: Store, clients: ClientLookup, tokens: TokenService): ObjectHandler {
  const toWire = async (grant: OAuthGrant): Promise<WireObject> => {
    const client = await clients.byId(grant.clientId);
    return {
      id: encodeId(grant.id),
      accountId: encodeId(grant.accountId),
      oauthClientId: encodeId(grant.clientId),
      clientId: client?.clientId ?? null,
      clientName: client?.name ?? null,
      grantType: grant.grantType,
      scopes: toKeyedList(grant.scopes),
      hasRefreshToken: grant.refreshGeneration > 0,
      authTime: iso(grant.authTime),
      createdAt: iso(grant.createdAt),
      expiresAt: iso(grant.expiresAt),
    };
  };
  // A grant is visible to its account and to administrators; to anyone else it does not exist.
  const visible = async (id: number, wireId: string, caller: Caller): Promise<OAuthGrant> => {
    const grant = await store.oauth.grant(id);
    const own = caller !== "system" && grant?.accountId === caller.accountId;
    if (!grant || grant.expiresAt <= Date.now() || !(isAdmin(caller) || own)) {
      throw new NotFoundError("OAuthGrant", wireId);
    }
    return grant;
  };
  const refused = () => Promise.reject(new ForbiddenError("OAuthGrant objects are made by the OAuth flows"));
  return {
    create: refused,
    update: refused,
    get: async (id, wireId, caller) => await toWire(await visible(id, wireId, caller)),
    list: async (caller) => {
      const grants = await store.oauth.listGrants(
        isAdmin(caller) ? undefined : (caller as { accountId: number }).accountId,
        Date.now(),
      );
      return await Promise.all(grants.map(toWire));
    },
    delete: async (id, wireId, caller) => {
      const grant = await visible(id, wireId, caller);
      const wire = await toWire(grant);
      await tokens.revokeGrant(grant);
      return wire;
    },
  };
}
