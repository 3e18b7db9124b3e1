/**
 * The secret-bearing parts of a plan written by a snapshot in local mode: a `credential-key` line
 * (the key app passwords, API keys and client secrets are hashed with) and `secretHash` on the creates
 * of those objects. Both need local mode: a server never lets its key or hashes be set over the API.
 */
import { isCredentialKey, isKeyedHash, resolveObjectType, type WireObject } from "../directory/mod.ts";
import type { ObjectClient } from "./client.ts";

/** One operation of a plan. */
export interface PlanOperation {
  op: "create" | "update" | "delete" | "credential-key";
  type: string;
  id?: string;
  ref?: string;
  /** Fields that find an existing object to update instead of creating one, e.g. ["name"]. */
  match?: string[];
  fields?: WireObject;
  /** On a create: the keyed hash of the object's secret (see src/cli/plan_secrets.ts). */
  secretHash?: string;
  /** On a credential-key line: the key, base64. */
  secret?: string;
}

/** The kind of keyed secret a type has (see src/directory/keyed_secrets.ts), if any. */
export function keyedSecretKind(type: string): "credential" | "client" | undefined {
  const { spec } = resolveObjectType(type);
  if (!spec.fields.secret?.serverSet) return undefined;
  return spec.name === "OAuthClient" ? "client" : "credential";
}

/** What is wrong with a line's secrets for the mode, or undefined: the same check in dry and real runs. */
export function secretProblem(operation: PlanOperation, local: boolean): string | undefined {
  const remote = "needs local mode (--data): a server's keys and hashes are not set over the API";
  if (operation.op === "credential-key") {
    if (!isCredentialKey(operation.secret)) return '"secret" must be a credential key: base64 of 32 bytes';
    return local ? undefined : `a credential-key line ${remote}`;
  }
  if (operation.secretHash === undefined) return undefined;
  if (operation.op !== "create" || !keyedSecretKind(operation.type!)) {
    return `"secretHash" belongs only on a create of an app password, API key or OAuth client`;
  }
  if (!isKeyedHash(operation.secretHash)) return '"secretHash" must be 64 hexadecimal digits';
  return local ? undefined : `"secretHash" ${remote}`;
}

/**
 * Applies a line's secrets after it ran (its `secretProblem` was checked before); the result then
 * carries no new secret, since the snapshot's old one is what works.
 */
export async function applySecrets(
  client: ObjectClient,
  operation: PlanOperation,
  result: WireObject,
): Promise<WireObject> {
  if (operation.op === "credential-key") {
    await client.secrets!.setKey(operation.secret!);
    return result;
  }
  if (operation.secretHash === undefined) return result;
  await client.secrets!.setHash(keyedSecretKind(operation.type!)!, String(result.id), operation.secretHash);
  const { secret: _replaced, ...rest } = result;
  return rest;
}
