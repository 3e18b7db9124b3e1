/** Scope checks shared by the endpoints. */
import { type OAuthClient, SCOPES } from "../deps.ts";
import { invalidScope } from "../errors.ts";

/** The requested scopes, each known and allowed for the client, or invalid_scope naming the first. */
export function allowedScopes(client: OAuthClient, requested: string[]): string[] {
  for (const scope of requested) {
    if (!(scope in SCOPES)) throw invalidScope(`Unknown scope "${scope}"`);
    if (!client.scopes.includes(scope)) {
      throw invalidScope(`The client "${client.clientId}" may not ask for the scope "${scope}"`);
    }
  }
  return requested;
}
