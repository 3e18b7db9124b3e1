/** `Account`: a user who logs in, or a group that users belong to. */
import { z } from "zod";
import {
  addressSchema,
  idSchema,
  keyedList,
  localPartSchema,
  serverSetSchema,
  textSchema,
} from "./mod_internal.ts";
import type { ObjectSpec } from "./spec.ts";

/** A password credential as written by a client; an Argon2id PHC string is stored as-is. */
const passwordCredential = z.strictObject({
  "@type": z.literal("Password", { error: 'only "Password" credentials are written here' }),
  secret: z.string().min(1, "must not be empty").max(1024, "at most 1024 characters"),
  /** Asked for with a new password: the account's app passwords are revoked in the same change. */
  revokeAppPasswords: z.boolean().optional(),
});

const quotas = z.strictObject({
  maxDiskQuota: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  maxMailboxes: z.number().int().min(0).max(1_000_000).optional(),
  maxAppPasswords: z.number().int().min(0).max(10_000).optional(),
  maxApiKeys: z.number().int().min(0).max(10_000).optional(),
});

/** How many addresses an account may forward its mail to. */
export const MAX_FORWARD_TARGETS = 10;

/**
 * Forwarding addresses. Each entry is checked after the list is read, so the error names the
 * address and the count (a union of list forms would only say "Invalid input").
 */
const forwardTargets = keyedList(z.string(), 1000).transform((list, ctx) => {
  if (list.length > MAX_FORWARD_TARGETS) {
    ctx.addIssue({ code: "custom", message: `at most ${MAX_FORWARD_TARGETS} addresses` });
    return z.NEVER;
  }
  const out: string[] = [];
  for (const entry of list) {
    const parsed = addressSchema.safeParse(entry);
    if (parsed.success) out.push(parsed.data);
    else {ctx.addIssue({
        code: "custom",
        message: parsed.error.issues[0]?.message ?? `"${entry}" is not an address`,
      });}
  }
  return out;
});

/** The Account declaration. */
export const ACCOUNT: ObjectSpec = {
  name: "Account",
  description: "A directory account: a User who logs in, or a Group whose members share its mail",
  variants: ["User", "Group"],
  fields: {
    id: { schema: serverSetSchema, type: "Id", description: "Account id", serverSet: true, column: true },
    name: {
      schema: localPartSchema,
      type: "String",
      description: "Login name and local part of the primary address (name@domain)",
      required: true,
      column: true,
    },
    domainId: { schema: idSchema, type: "Id<Domain>", description: "Domain of the account", required: true },
    emailAddress: {
      schema: serverSetSchema,
      type: "String",
      description: "Primary address, name@domain",
      serverSet: true,
      column: true,
    },
    description: {
      schema: textSchema(256),
      type: "String?",
      description: "Display name or note",
      column: true,
    },
    locale: {
      schema: z.string().regex(
        /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/,
        "must be a language tag such as en-US",
      )
        .nullable(),
      type: "String?",
      description: "Preferred language (BCP 47)",
    },
    aliases: {
      schema: keyedList(addressSchema, 200),
      type: "List<String>",
      description: "Further addresses of the account; each must be in an existing domain",
      default: {},
    },
    credentials: {
      schema: keyedList(passwordCredential, 1),
      type: "List<Credential>",
      description:
        "Password; read back masked. revokeAppPasswords: true with a new password also revokes the app passwords (kept otherwise). App passwords and API keys are their own objects",
      writeOnly: true,
      variants: ["User"],
    },
    quotas: {
      schema: quotas,
      type: "Quotas",
      description: "Limits: maxDiskQuota (bytes), maxMailboxes, maxAppPasswords, maxApiKeys",
      default: {},
    },
    roles: {
      schema: keyedList(z.enum(["admin", "user"]), 2),
      type: "List<Role>",
      description: "admin manages everything; user manages only itself",
      enum: ["admin", "user"],
      default: { "0": "user" },
      variants: ["User"],
    },
    memberGroupIds: {
      schema: keyedList(idSchema, 1000),
      type: "List<Id<Account>>",
      description: "Groups this account belongs to",
      default: {},
    },
    sendAsGroupIds: {
      schema: keyedList(idSchema, 1000),
      type: "List<Id<Account>>",
      description:
        "Groups (each one of memberGroupIds) whose addresses this user may send as: MAIL FROM, From and identities. Leaving a group drops it",
      default: {},
      variants: ["User"],
    },
    forwardTo: {
      schema: forwardTargets,
      type: "List<String>",
      description:
        `Addresses elsewhere that incoming mail is forwarded to (at most ${MAX_FORWARD_TARGETS}, none of the account's own); the envelope sender is rewritten (SRS) and the copy ARC-sealed`,
      default: {},
      variants: ["User"],
    },
    forwardKeepCopy: {
      schema: z.boolean(),
      type: "Boolean",
      description: "Whether forwarded mail is also kept in the account (false: only forwarded)",
      default: true,
      variants: ["User"],
    },
    enabled: {
      schema: z.boolean(),
      type: "Boolean",
      description: "A disabled account cannot log in",
      default: true,
    },
    createdAt: { schema: serverSetSchema, type: "UTCDate", description: "Creation time", serverSet: true },
    updatedAt: { schema: serverSetSchema, type: "UTCDate", description: "Last change", serverSet: true },
  },
};
