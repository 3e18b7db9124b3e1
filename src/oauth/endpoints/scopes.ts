/** Scope checks shared by the endpoints. */
import { type OAuthClient, SCOPES } from "../deps.ts";
import { invalidScope } from "../errors.ts";
import { ADMIN_SCOPE } from "../client_rules.ts";

/**
 * The requested scopes, each known and allowed for the client, or invalid_scope naming the first. The
 * admin scope needs a client an administrator stands behind (`trusted`, see `OAuthProvider.trusted`):
 * one that did not register itself, whose owner, if any, is an administrator now.
 */
export function allowedScopes(
  client: OAuthClient,
  requested: string[],
  options: { trusted: boolean },
): string[] {
  for (const scope of requested) {
    if (!(scope in SCOPES)) throw invalidScope(`Unknown scope "${scope}"`);
    if (!client.scopes.includes(scope)) {
      throw invalidScope(`The client "${client.clientId}" may not ask for the scope "${scope}"`);
    }
    // Registration refuses it too; this holds when the owner has stopped being an administrator since.
    if (scope === ADMIN_SCOPE && !options.trusted) {
      throw invalidScope(
        `The client "${client.clientId}" may not ask for the scope "${scope}": no administrator stands behind it`,
      );
    }
  }
  return requested;
}
