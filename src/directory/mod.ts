/** Directory services: accounts, groups, domains, addresses, credentials, settings, management objects. */
export { AccessKeyService, API_KEY_PREFIX } from "./access_keys.ts";
export type { AccessKeyType, CreatedAccessKey, SecretHashing } from "./access_keys.ts";
export { AccountService, changed, loginKeys, normalizeLogin } from "./accounts.ts";
export { requireId } from "./wire.ts";
export type { AccountInput, PasswordHashing, WriteOutcome } from "./accounts.ts";
export { DomainService } from "./domains.ts";
export {
  accessKeyToWire,
  accountToWire,
  domainToWire,
  isAdmin,
  ObjectService,
  resolveObjectType,
} from "./objects.ts";
export type { Caller, DomainKeys, ObjectHandler, WireObject } from "./objects.ts";
export { serverMadeHandler } from "./server_made.ts";
export type { ServerMadeType } from "./server_made.ts";
export { passwordWeakness } from "./password_policy.ts";
export { describeStoredProblem, SettingsService } from "./settings.ts";
export type { SettingsApplier, SettingsEffect, SettingsMap, StoredSettingProblem } from "./settings.ts";
export { bootstrap } from "./bootstrap.ts";
export type { BootstrapResult } from "./bootstrap.ts";
export { ChangeService } from "./changes.ts";
export { MAILBOX_VIEW, SHARER_GONE } from "./mailbox_sight.ts";
export { reserveId } from "./snapshot_ids.ts";
export { CREDENTIAL_KEY_SETTING, isCredentialKey, isKeyedHash, KeyedSecrets } from "./keyed_secrets.ts";
export type { Store } from "./deps.ts";
