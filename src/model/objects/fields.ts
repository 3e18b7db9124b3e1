/** Field schemas shared by several object types. */
import { z } from "zod";
import { decodeId } from "../ids.ts";

/** A wire id such as "b". */
export const idSchema = z.string().refine((v) => decodeId(v) !== undefined, "not a valid id");

/** Free text of bounded length; null clears it. */
export const textSchema = (max: number) => z.string().max(max, `at most ${max} characters`).nullable();

/** A domain name: letters, digits and hyphens in dot-separated labels (or "localhost"). */
export const domainNameSchema = z.string()
  .min(1, "must not be empty")
  .max(253, "at most 253 characters")
  .transform((v) => v.toLowerCase())
  .refine(
    (v) => /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/.test(v),
    "must be a domain name such as example.org (letters, digits, hyphens and dots)",
  );

/** A local part as used in account names and addresses. */
export const localPartSchema = z.string()
  .min(1, "must not be empty")
  .max(64, "at most 64 characters")
  .transform((v) => v.toLowerCase())
  .refine(
    (v) => /^[a-z0-9](?:[a-z0-9._+-]*[a-z0-9_])?$/.test(v) && !v.includes(".."),
    "may contain only letters, digits and . _ + - (not at the start or end)",
  );

/** An email address `local@domain`. */
export const addressSchema = z.string().max(254, "at most 254 characters").transform((v, ctx) => {
  const at = v.lastIndexOf("@");
  const local = localPartSchema.safeParse(v.slice(0, Math.max(at, 0)));
  const domain = domainNameSchema.safeParse(v.slice(at + 1));
  if (at < 1 || !local.success || !domain.success) {
    ctx.addIssue({ code: "custom", message: `"${v}" is not an email address such as name@example.org` });
    return z.NEVER;
  }
  return `${local.data}@${domain.data}`;
});

/** A timestamp in RFC 3339 UTC form, or null for none. */
export const utcDateSchema = z.string()
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/,
    "must be a UTC date such as 2027-01-31T00:00:00Z",
  )
  .refine((v) => !Number.isNaN(Date.parse(v)), "not a real date")
  .nullable();

/** A server-set value; the schema only exists so a declaration is uniform. */
export const serverSetSchema = z.never();
