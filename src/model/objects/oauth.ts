/** `OidcProvider` (the OAuth / OpenID Connect settings) and `OAuthClient` (a registered client). */
import { z } from "zod";
import { GRANT_TYPES } from "../oauth.ts";
import { displayTextSchema, idSchema, keyedList, serverSetSchema, textSchema } from "./mod_internal.ts";
import type { ObjectSpec } from "./spec.ts";

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** Seconds in a duration written as seconds (a number) or as text such as "15m", "1h", "30d"; else NaN. */
export function durationSeconds(value: string | number): number {
  if (typeof value === "number") return value;
  const match = /^\s*(\d+)\s*([smhd])\s*$/i.exec(value);
  if (!match) return NaN;
  return Number(match[1]) * UNIT_SECONDS[match[2].toLowerCase() as keyof typeof UNIT_SECONDS];
}

/** A duration within bounds (seconds), written as a number of seconds or as text such as "30d". */
function duration(minSeconds: number, maxSeconds: number) {
  return z.union([
    z.number().int("must be whole seconds"),
    z.string().regex(/^\s*\d+\s*[smhdSMHD]\s*$/, 'must be a duration such as "90s", "15m", "1h" or "30d"'),
  ]).refine((v) => {
    const s = durationSeconds(v);
    return !Number.isNaN(s) && s >= minSeconds && s <= maxSeconds;
  }, `must be between ${minSeconds} seconds and ${Math.round(maxSeconds / 86_400)} days`)
    .transform((v) => typeof v === "number" ? `${v}s` : v.trim().toLowerCase());
}

const DAY = 86_400;

/**
 * A secret that comes from the object itself, an environment variable or a file (Stalwart's
 * SecretKey). The value variant is never returned in clear.
 */
export const secretKeySchema = z.discriminatedUnion("@type", [
  z.strictObject({
    "@type": z.literal("Value"),
    secret: z.string().min(32, "at least 32 characters").max(4096, "at most 4096 characters"),
  }),
  z.strictObject({
    "@type": z.literal("EnvironmentVariable"),
    variableName: z.string().regex(
      /^[A-Za-z_][A-Za-z0-9_]{0,127}$/,
      "must be a variable name such as OAUTH_KEY",
    ),
  }),
  z.strictObject({
    "@type": z.literal("File"),
    filePath: z.string().min(1, "must not be empty").max(4096, "at most 4096 characters"),
  }),
], {
  error:
    'must be {"@type": "Value", "secret"}, {"@type": "EnvironmentVariable", "variableName"} or {"@type": "File", "filePath"}',
});

/** A SecretKey as stored. */
export type SecretKey = z.output<typeof secretKeySchema>;

/** Signature algorithms for ID tokens. */
export const SIGNATURE_ALGORITHMS = ["RS256", "ES256", "EdDSA"] as const;

/** The OidcProvider singleton: token lifetimes, the token encryption key, ID-token signing. */
export const OIDC_PROVIDER: ObjectSpec = {
  name: "OidcProvider",
  description: "The OAuth 2.0 / OpenID Connect provider: token lifetimes, encryption key, ID-token signing",
  singleton: true,
  fields: {
    encryptionKey: {
      schema: secretKeySchema.nullable(),
      type: "SecretKey?",
      description:
        "Key that seals every token; changing it revokes all tokens (null: generated on first start)",
      default: null,
      writeOnly: true,
    },
    accessTokenExpiry: {
      schema: duration(60, 7 * DAY),
      type: "Duration",
      description: "Lifetime of an access token",
      default: "1h",
    },
    refreshTokenExpiry: {
      schema: duration(300, 3650 * DAY),
      type: "Duration",
      description: "Lifetime of a refresh token: the family ends when it goes this long unused",
      default: "30d",
    },
    refreshTokenAbsoluteExpiry: {
      schema: duration(300, 3650 * DAY),
      type: "Duration",
      description:
        "Longest life of a token family from its sign-in, however often it is refreshed; then the user signs in again",
      default: "90d",
    },
    refreshTokenRenewal: {
      schema: duration(0, 3650 * DAY),
      type: "Duration",
      description: "Remaining lifetime below which a confidential client gets a new refresh token",
      default: "4d",
    },
    refreshTokenReuseGrace: {
      schema: duration(0, 300),
      type: "Duration",
      description:
        "After a rotation, the old refresh token presented again gets the same answer (no new token) for this long; 0: any reuse revokes the family",
      default: "0s",
    },
    userCodeExpiry: {
      schema: duration(60, DAY),
      type: "Duration",
      description: "Lifetime of a device-flow user code",
      default: "30m",
    },
    authCodeExpiry: {
      schema: duration(10, 3600),
      type: "Duration",
      description: "Lifetime of an authorization code",
      default: "10m",
    },
    idTokenExpiry: {
      schema: duration(60, DAY),
      type: "Duration",
      description: "Lifetime of an OpenID Connect ID token",
      default: "15m",
    },
    authCodeMaxAttempts: {
      schema: z.number().int().min(1).max(100),
      type: "UnsignedInt",
      description: "Failed sign-ins allowed within one authorization; past it the user must start again",
      default: 3,
    },
    sessionExpiry: {
      schema: duration(60, 90 * DAY),
      type: "Duration",
      description: "How long a browser stays signed in to the provider",
      default: "8h",
    },
    deviceCodeInterval: {
      schema: duration(1, 60),
      type: "Duration",
      description: "Least time between two polls of a device code",
      default: "5s",
    },
    signatureAlgorithm: {
      schema: z.enum(SIGNATURE_ALGORITHMS),
      type: "String",
      description: "Algorithm of ID-token signatures",
      default: "RS256",
      enum: SIGNATURE_ALGORITHMS,
    },
    allowDynamicRegistration: {
      schema: z.boolean(),
      type: "Boolean",
      description: "Let anyone register public clients through RFC 7591 dynamic registration",
      default: false,
    },
  },
};

/** Typed view of the OidcProvider singleton. */
export interface OidcProviderSettings {
  encryptionKey: SecretKey | null;
  accessTokenExpiry: string;
  refreshTokenExpiry: string;
  refreshTokenAbsoluteExpiry: string;
  refreshTokenRenewal: string;
  refreshTokenReuseGrace: string;
  userCodeExpiry: string;
  authCodeExpiry: string;
  idTokenExpiry: string;
  authCodeMaxAttempts: number;
  sessionExpiry: string;
  deviceCodeInterval: string;
  signatureAlgorithm: typeof SIGNATURE_ALGORITHMS[number];
  allowDynamicRegistration: boolean;
}

/** Scopes Postern issues, with what they allow (shown on the consent page). */
export const SCOPES: Readonly<Record<string, string>> = {
  openid: "Confirm who you are (OpenID Connect sign-in)",
  profile: "Your name and user name",
  email: "Your email address",
  offline_access: "Stay connected while you are away (refresh tokens)",
  "urn:ietf:params:jmap:mail": "Read, file and delete your mail",
  "urn:ietf:params:jmap:submission": "Send mail as you",
  "urn:postern:admin": "Manage the server and your account settings",
};

/** Schemes a browser would run, read from disk or render in place rather than send to an application. */
const NEVER_REDIRECT_SCHEMES = [
  "javascript:",
  "vbscript:",
  "file:",
  "data:",
  "blob:",
  "about:",
  "filesystem:",
];

/**
 * A redirect URI: absolute, no fragment (RFC 6749 §3.1.2), never a scheme of
 * {@link NEVER_REDIRECT_SCHEMES}; custom schemes for native apps allowed (what a client that
 * registered itself may use is narrower: src/oauth/client_rules.ts).
 */
const redirectUriSchema = z.string().max(2000, "at most 2000 characters").refine((v) => {
  if (!URL.canParse(v)) return false;
  return new URL(v).hash === "" && !v.includes("#");
}, "must be an absolute URI without a fragment, such as https://app.example.org/callback").refine(
  (v) => !URL.canParse(v) || !NEVER_REDIRECT_SCHEMES.includes(new URL(v).protocol),
  `must not use the schemes ${NEVER_REDIRECT_SCHEMES.join(" ")}`,
);

const clientIdSchema = z.string().regex(
  /^[A-Za-z0-9._~:-]{1,128}$/,
  "may contain only letters, digits and . _ ~ : - (at most 128)",
);

/** The OAuthClient declaration: a confidential client (with a secret) or a public one. */
export const OAUTH_CLIENT: ObjectSpec = {
  name: "OAuthClient",
  description: "An application that signs users in or acts for its owner through OAuth 2.0 / OpenID Connect",
  variants: ["Confidential", "Public"],
  fields: {
    id: { schema: serverSetSchema, type: "Id", description: "Object id", serverSet: true, column: true },
    clientId: {
      schema: clientIdSchema,
      type: "String",
      description: "The client_id the application presents (generated when omitted)",
      immutable: true,
      column: true,
    },
    name: {
      schema: displayTextSchema(128, { min: 1 }),
      type: "String",
      description: "Name shown on the sign-in and consent pages; no two clients share one",
      required: true,
      column: true,
    },
    description: { schema: textSchema(256), type: "String?", description: "Note for administrators" },
    redirectUris: {
      schema: keyedList(redirectUriSchema, 50),
      type: "List<Uri>",
      description: "Exact redirect URIs (for loopback addresses any port matches)",
      default: [],
    },
    postLogoutRedirectUris: {
      schema: keyedList(redirectUriSchema, 50),
      type: "List<Uri>",
      description: "Where RP-initiated logout may send the browser",
      default: [],
    },
    grantTypes: {
      schema: keyedList(z.enum(GRANT_TYPES), GRANT_TYPES.length),
      type: "List<GrantType>",
      description: "Grants the client may use",
      default: ["authorization_code", "refresh_token"],
      enum: GRANT_TYPES,
    },
    scopes: {
      schema: keyedList(
        z.string().refine((s) => s in SCOPES, `must be one of ${Object.keys(SCOPES).join(", ")}`),
        Object.keys(SCOPES).length,
      ),
      type: "List<Scope>",
      description:
        "Scopes the client may ask for; urn:postern:admin only when the owner (if any) is an administrator",
      default: ["openid", "profile", "email", "offline_access", "urn:ietf:params:jmap:mail"],
      enum: Object.keys(SCOPES),
    },
    ownerId: {
      schema: idSchema,
      type: "Id<Account>",
      description:
        "Account that owns the client; client_credentials tokens act as it (defaults to the caller)",
      column: true,
    },
    requireConsent: {
      schema: z.boolean(),
      type: "Boolean",
      description:
        "Ask users to approve the scopes (remembered per user); only an administrator registers a client that does not",
      default: true,
    },
    resourceServer: {
      schema: z.boolean(),
      type: "Boolean",
      description:
        "A resource server that may introspect tokens issued to any client (administrators only); " +
        "any other confidential client learns only about its own tokens",
      default: false,
    },
    secret: {
      schema: serverSetSchema,
      type: "String",
      description: "Client secret of a confidential client; returned once, in the create response",
      serverSet: true,
    },
    createdAt: { schema: serverSetSchema, type: "UTCDate", description: "Creation time", serverSet: true },
    updatedAt: { schema: serverSetSchema, type: "UTCDate", description: "Last change", serverSet: true },
  },
};

/**
 * The OAuthGrant declaration: one token family (an authorization and everything it issued), made by
 * the authorization code, device and client_credentials grants. Destroying it revokes its refresh
 * and access tokens at once.
 */
export const OAUTH_GRANT: ObjectSpec = {
  name: "OAuthGrant",
  description: "An authorization given to an OAuth client and the tokens it issued; destroy to revoke them",
  readOnly: true,
  fields: {
    id: { schema: serverSetSchema, type: "Id", description: "Object id", serverSet: true, column: true },
    accountId: {
      schema: serverSetSchema,
      type: "Id<Account>",
      description: "The account the tokens act as",
      serverSet: true,
      column: true,
    },
    oauthClientId: {
      schema: serverSetSchema,
      type: "Id<OAuthClient>",
      description: "The client the tokens were issued to",
      serverSet: true,
    },
    clientId: {
      schema: serverSetSchema,
      type: "String",
      description: "That client's client_id",
      serverSet: true,
      column: true,
    },
    clientName: {
      schema: serverSetSchema,
      type: "String",
      description: "That client's name",
      serverSet: true,
    },
    grantType: {
      schema: serverSetSchema,
      type: "GrantType",
      description: "The grant that started the family",
      serverSet: true,
      column: true,
    },
    scopes: { schema: serverSetSchema, type: "List<Scope>", description: "Scopes granted", serverSet: true },
    hasRefreshToken: {
      schema: serverSetSchema,
      type: "Boolean",
      description: "Whether the family holds a refresh token",
      serverSet: true,
    },
    authTime: {
      schema: serverSetSchema,
      type: "UTCDate",
      description: "When the user signed in",
      serverSet: true,
    },
    createdAt: { schema: serverSetSchema, type: "UTCDate", description: "Creation time", serverSet: true },
    expiresAt: {
      schema: serverSetSchema,
      type: "UTCDate",
      description: "When the family ends unless it is used again",
      serverSet: true,
      column: true,
    },
  },
};
