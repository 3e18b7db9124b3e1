/** Every management object type, declared once. */
import { ACCOUNT } from "./account.ts";
import { API_KEY, APP_PASSWORD } from "./access_keys.ts";
import { DKIM_KEY } from "./dkim_key.ts";
import { DOMAIN } from "./domain.ts";
import { MAILBOX_GRANT } from "./mailbox_grant.ts";
import { OAUTH_CLIENT, OAUTH_GRANT, OIDC_PROVIDER } from "./oauth.ts";
import {
  AUTHENTICATION_SETTINGS,
  CACHE_SETTINGS,
  OUTBOUND_SETTINGS,
  SHARING_SETTINGS,
  SMARTHOST_SETTINGS,
} from "./settings.ts";
import { QUEUED_MESSAGE } from "./queued_message.ts";
import type { ObjectSpec } from "./spec.ts";

export {
  ACCOUNT,
  API_KEY,
  APP_PASSWORD,
  AUTHENTICATION_SETTINGS,
  CACHE_SETTINGS,
  DKIM_KEY,
  DOMAIN,
  MAILBOX_GRANT,
  OAUTH_CLIENT,
  OAUTH_GRANT,
  OIDC_PROVIDER,
  OUTBOUND_SETTINGS,
  QUEUED_MESSAGE,
  SHARING_SETTINGS,
  SMARTHOST_SETTINGS,
};
export { queueAge, QUEUED_MESSAGE_STATES, queuedRecipients } from "./queued_message.ts";
export { durationSeconds, SCOPES, secretKeySchema, SIGNATURE_ALGORITHMS } from "./oauth.ts";
export type { OidcProviderSettings, SecretKey } from "./oauth.ts";
export { singletonDefaults } from "./settings.ts";
export type {
  AuthenticationSettings,
  CacheSettings,
  OutboundSettings,
  SharingSettings,
  SmarthostSettings,
} from "./settings.ts";
export { describeObject, keyedList, toKeyedList, validateObject } from "./spec.ts";
export type { FieldSpec, ObjectSpec, Validation } from "./spec.ts";
export { ARGON2_LIMITS } from "../argon2_limits.ts";
export {
  addressSchema,
  displayTextProblem,
  displayTextSchema,
  domainNameSchema,
  isHostNameOrAddress,
  localPartSchema,
} from "./fields.ts";

/** Object types by name. */
export const OBJECT_SPECS: Readonly<Record<string, ObjectSpec>> = {
  Account: ACCOUNT,
  Domain: DOMAIN,
  AppPassword: APP_PASSWORD,
  ApiKey: API_KEY,
  Cache: CACHE_SETTINGS,
  Authentication: AUTHENTICATION_SETTINGS,
  OAuthClient: OAUTH_CLIENT,
  OAuthGrant: OAUTH_GRANT,
  MailboxGrant: MAILBOX_GRANT,
  OidcProvider: OIDC_PROVIDER,
  Sharing: SHARING_SETTINGS,
  Smarthost: SMARTHOST_SETTINGS,
  Outbound: OUTBOUND_SETTINGS,
  DkimKey: DKIM_KEY,
  QueuedMessage: QUEUED_MESSAGE,
};
