/** Authentication: header parsing, credential verification, password hashing, throttling. */
export { APP_PASSWORD_SCOPES, Authenticator } from "./authenticator.ts";
export type { AuthCounters, AuthenticatorDeps, LoginOrigin, TokenVerifier } from "./authenticator.ts";
export { parseAuthorization } from "./parse_authorization.ts";
export { DEFAULT_ARGON2, isArgon2idPhc, PasswordHasher } from "./password_hasher.ts";
export {
  ARGON2_MAX_HASH_MS,
  ARGON2_MEMORY_SHARE,
  ARGON2_SLOW_HASH_MS,
  Argon2CostError,
  argon2MemoryProblem,
  describeParameters,
  measureHash,
  tryHasher,
} from "./hasher_trial.ts";
export type { HasherTrialOptions, TriedHasher } from "./hasher_trial.ts";
export type { Argon2Parameters } from "./password_hasher.ts";
export { keyedHasher } from "./keyed_hash.ts";
export { DEFAULT_RATE_LIMIT, type LoginThrottle, RateLimiter } from "./rate_limiter.ts";
export { SharedRateLimiter } from "./shared_rate_limiter.ts";
export {
  authorizationOf,
  checkSaslCredential,
  isBearerMechanism,
  parseOauthBearer,
  parsePlain,
  parseXoauth2,
  type SaslAuthDeps,
  type SaslCheck,
  type SaslCredentials,
} from "./sasl.ts";
