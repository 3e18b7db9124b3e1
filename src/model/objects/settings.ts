/** Singleton settings objects; each has the one id `singleton` and every field has a default. */
import { z } from "zod";
import { ARGON2_LIMITS } from "../argon2_limits.ts";
import { displayTextSchema, domainNameSchema, isHostNameOrAddress } from "./fields.ts";
import { keyedList, type ObjectSpec } from "./spec.ts";

const seconds = (max: number) => z.number().int().min(0).max(max);

/** A whole number within the bounds of {@link ARGON2_LIMITS}, whose refusal names the limit. */
function argon2Bound(limit: { min: number; max: number }, why: string) {
  return z.number().int("must be a whole number")
    .min(limit.min, `must be at least ${limit.min}`)
    .max(limit.max, `must be at most ${limit.max} (${why})`);
}

/** `Cache`: sizes and lifetimes of the directory caches. Correctness never depends on these TTLs. */
export const CACHE_SETTINGS: ObjectSpec = {
  name: "Cache",
  description: "Sizes and lifetimes of the directory caches (writes invalidate entries at once regardless)",
  singleton: true,
  fields: {
    maxEntries: {
      schema: z.number().int().min(16).max(10_000_000),
      type: "UnsignedInt",
      description: "Entries per cache namespace",
      default: 50_000,
    },
    ttlSeconds: {
      schema: seconds(86_400),
      type: "Duration",
      description: "Life of a positive entry",
      default: 1800,
    },
    negativeTtlSeconds: {
      schema: seconds(86_400),
      type: "Duration",
      description: "Life of a negative (not found) entry",
      default: 3600,
    },
    authTtlSeconds: {
      schema: seconds(86_400),
      type: "Duration",
      description: "Life of a verified Authorization header",
      default: 600,
    },
  },
};

/** `Authentication`: password hashing, password policy and failed-login throttling. */
export const AUTHENTICATION_SETTINGS: ObjectSpec = {
  name: "Authentication",
  description: "Password hashing, password policy and throttling of failed logins",
  singleton: true,
  fields: {
    argon2MemoryKiB: {
      schema: argon2Bound(ARGON2_LIMITS.memoryKiB, "1 GiB, the most one hash may take"),
      type: "UnsignedInt",
      description:
        "Argon2id memory cost in KiB (OWASP: 19456); at most 1 GiB, and the hash workers together at most half of the machine's memory",
      default: 19_456,
    },
    argon2Iterations: {
      schema: argon2Bound(ARGON2_LIMITS.iterations, "the hasher's limit"),
      type: "UnsignedInt",
      description: "Argon2id iterations (OWASP: 2)",
      default: 2,
    },
    argon2Parallelism: {
      schema: argon2Bound(ARGON2_LIMITS.parallelism, "the hasher's limit"),
      type: "UnsignedInt",
      description: "Argon2id lanes (OWASP: 1)",
      default: 1,
    },
    minPasswordLength: {
      schema: z.number().int().min(1).max(256),
      type: "UnsignedInt",
      description: "Shortest password accepted for an account",
      default: 8,
    },
    failedLoginFreeAttempts: {
      schema: z.number().int().min(1).max(1000),
      type: "UnsignedInt",
      description: "Failures per client address or account before delays start",
      default: 5,
    },
    failedLoginWindowSeconds: {
      schema: seconds(86_400),
      type: "Duration",
      description: "Window in which failures are counted",
      default: 900,
    },
    failedLoginBaseDelaySeconds: {
      schema: seconds(3600),
      type: "Duration",
      description: "First delay; doubles with each further failure",
      default: 1,
    },
    failedLoginMaxDelaySeconds: {
      schema: seconds(86_400),
      type: "Duration",
      description: "Longest delay; there is never a permanent lock-out",
      default: 900,
    },
    keepFinishedSeconds: {
      schema: seconds(90 * 86_400),
      type: "Duration",
      description:
        "How long a finished message (delivered, failed and reported, or canceled) stays for `postern queue` before it is deleted (0: at once, as Postfix keeps none)",
      default: 259_200,
    },
  },
};

/** `Sharing`: how far users see the directory through JMAP Principals (RFC 9670). */
export const SHARING_SETTINGS: ObjectSpec = {
  name: "Sharing",
  description: "What users see of the directory when they share (JMAP Principals)",
  singleton: true,
  fields: {
    principalScope: {
      schema: z.enum(["domain", "all"]),
      type: "String",
      description:
        "Principals a user can look up: those of their own domain (and whoever shares with them), or all",
      default: "domain",
      enum: ["domain", "all"],
    },
  },
};

/** `Smarthost`: where mail for other domains is relayed (RFC 8621 §7 submissions to outside addresses). */
export const SMARTHOST_SETTINGS: ObjectSpec = {
  name: "Smarthost",
  description: "The SMTP server that relays mail for other domains (empty host: no relaying)",
  singleton: true,
  fields: {
    host: {
      schema: z.string().max(255, "at most 255 characters")
        .refine(
          (v) => v === "" || isHostNameOrAddress(v),
          "must be a host name such as smtp.example.net, an IP address, or empty",
        )
        .transform((v) => v.replace(/^\[(.*)\]$/, "$1")),
      type: "String",
      description: "Host name or address of the smarthost; empty turns relaying off",
      default: "",
    },
    port: {
      schema: z.number().int().min(1).max(65_535),
      type: "UnsignedInt",
      description: "TCP port (587 submission with STARTTLS, 465 implicit TLS, 25 relay)",
      default: 587,
    },
    security: {
      schema: z.enum(["starttls", "tls", "none"]),
      type: "String",
      description: "starttls: upgrade, and refuse if the server cannot; tls: TLS from the start; none: plain",
      default: "starttls",
      enum: ["starttls", "tls", "none"],
    },
    username: {
      schema: displayTextSchema(255).nullable(),
      type: "String?",
      description: "Login at the smarthost (null: no authentication)",
      default: null,
    },
    password: {
      schema: z.string().max(1024).nullable(),
      type: "String?",
      description: "Password at the smarthost",
      default: null,
      writeOnly: true,
    },
    timeoutSeconds: {
      schema: z.number().int().min(1).max(600),
      type: "Duration",
      description: "Longest wait for the smarthost's connection and each reply",
      default: 30,
    },
  },
};

/** One row of the relay table: mail for `domain` goes to this server instead of the domain's MX. */
const relaySchema = z.strictObject({
  domain: domainNameSchema,
  host: z.string().max(255, "at most 255 characters")
    .refine(isHostNameOrAddress, "must be a host name such as smtp.example.net or an IP address")
    .transform((v) => v.replace(/^\[(.*)\]$/, "$1")),
  port: z.number().int().min(1).max(65_535).default(25),
  security: z.enum(["starttls", "tls", "none"]).default("none"),
});

/**
 * `Outbound`: how mail leaves for other domains (the queue, src/mail/queue.ts): the route, the
 * relay table, the retry schedule (Postfix-like: first retry after minutes, doubling up to hours,
 * given up after days) and the concurrency of delivery.
 */
export const OUTBOUND_SETTINGS: ObjectSpec = {
  name: "Outbound",
  description: "How mail for other domains leaves: route, relays, retries and concurrency",
  singleton: true,
  fields: {
    route: {
      schema: z.enum(["mx", "smarthost"]),
      type: "String",
      description: "mx: straight to each domain's MX hosts; smarthost: everything through the Smarthost",
      default: "mx",
      enum: ["mx", "smarthost"],
    },
    smarthostDomains: {
      schema: keyedList(domainNameSchema, 1000),
      type: "List<Domain>",
      description: "Domains sent through the Smarthost even when the route is mx",
      default: [],
    },
    relays: {
      schema: keyedList(relaySchema, 1000),
      type: "List<Relay>",
      description:
        "Per-domain relays: {domain, host, port (25), security (none: STARTTLS if offered; starttls; tls)}",
      default: [],
    },
    mxPort: {
      schema: z.number().int().min(1).max(65_535),
      type: "UnsignedInt",
      description: "TCP port of MX hosts (25; another only for tests and split setups)",
      default: 25,
    },
    firstRetrySeconds: {
      schema: seconds(86_400).min(1),
      type: "Duration",
      description: "Wait before the first retry after a temporary failure (doubling after each)",
      default: 300,
    },
    maxRetrySeconds: {
      schema: seconds(7 * 86_400).min(1),
      type: "Duration",
      description: "Longest wait between two retries",
      default: 14_400,
    },
    maxAgeSeconds: {
      schema: seconds(30 * 86_400).min(1),
      type: "Duration",
      description: "Age at which a message still not delivered fails (expired) and bounces",
      default: 432_000,
    },
    delayNoticeSeconds: {
      schema: seconds(30 * 86_400),
      type: "Duration",
      description: "Age at which the sender is told once that a message is delayed (0: never)",
      default: 14_400,
    },
    perDomainConcurrency: {
      schema: z.number().int().min(1).max(1000),
      type: "UnsignedInt",
      description: "Deliveries at once to one domain",
      default: 4,
    },
    globalConcurrency: {
      schema: z.number().int().min(1).max(10_000),
      type: "UnsignedInt",
      description: "Deliveries at once in all",
      default: 32,
    },
    perDomainRateDelaySeconds: {
      schema: seconds(3600),
      type: "Duration",
      description:
        "Least time between two deliveries to one domain, for receivers that limit senders (0: none; Postfix's default_destination_rate_delay)",
      default: 0,
    },
    leaseSeconds: {
      schema: seconds(86_400).min(10),
      type: "Duration",
      description:
        "How long a worker holds a delivery it claimed; one lost with its process is retried after it (the transport gives up before it runs out)",
      default: 900,
    },
    keepFinishedSeconds: {
      schema: seconds(90 * 86_400),
      type: "Duration",
      description:
        "How long a finished message (delivered, failed and reported, or canceled) stays for `postern queue` before it is deleted (0: at once, as Postfix keeps none)",
      default: 259_200,
    },
  },
};

/** Typed view of the Outbound singleton. */
export interface OutboundSettings {
  route: "mx" | "smarthost";
  smarthostDomains: string[];
  relays: { domain: string; host: string; port: number; security: "starttls" | "tls" | "none" }[];
  mxPort: number;
  firstRetrySeconds: number;
  maxRetrySeconds: number;
  maxAgeSeconds: number;
  delayNoticeSeconds: number;
  perDomainConcurrency: number;
  globalConcurrency: number;
  perDomainRateDelaySeconds: number;
  leaseSeconds: number;
  keepFinishedSeconds: number;
}

/** Typed view of the Smarthost singleton. */
export interface SmarthostSettings {
  host: string;
  port: number;
  security: "starttls" | "tls" | "none";
  username: string | null;
  password: string | null;
  timeoutSeconds: number;
}

/** Typed view of the Sharing singleton. */
export interface SharingSettings {
  principalScope: "domain" | "all";
}

/** Defaults of a singleton, from its declaration. */
export function singletonDefaults(spec: ObjectSpec): Record<string, unknown> {
  return Object.fromEntries(Object.entries(spec.fields).map(([name, field]) => [name, field.default]));
}

/** Typed view of the Cache singleton. */
export interface CacheSettings {
  maxEntries: number;
  ttlSeconds: number;
  negativeTtlSeconds: number;
  authTtlSeconds: number;
}

/** Typed view of the Authentication singleton. */
export interface AuthenticationSettings {
  argon2MemoryKiB: number;
  argon2Iterations: number;
  argon2Parallelism: number;
  minPasswordLength: number;
  failedLoginFreeAttempts: number;
  failedLoginWindowSeconds: number;
  failedLoginBaseDelaySeconds: number;
  failedLoginMaxDelaySeconds: number;
}
