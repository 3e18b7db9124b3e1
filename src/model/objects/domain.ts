/** `Domain`: a mail domain that accounts and addresses live in. */
import { z } from "zod";
import { DMARC_ENFORCEMENTS } from "../types.ts";
import { domainNameSchema, serverSetSchema, textSchema } from "./mod_internal.ts";
import type { ObjectSpec } from "./spec.ts";

/** The Domain declaration. */
export const DOMAIN: ObjectSpec = {
  name: "Domain",
  description: "A mail domain; it cannot be deleted while accounts or addresses use it",
  fields: {
    id: { schema: serverSetSchema, type: "Id", description: "Domain id", serverSet: true, column: true },
    name: {
      schema: domainNameSchema,
      type: "String",
      description: "Domain name",
      required: true,
      column: true,
    },
    description: { schema: textSchema(256), type: "String?", description: "Note", column: true },
    dmarcEnforcement: {
      schema: z.enum(DMARC_ENFORCEMENTS as [string, ...string[]]),
      type: "String",
      description: "Incoming mail failing DMARC: enforce the sender's policy (reject refused, quarantine " +
        "to Junk), quarantineOnly (both to Junk), or monitor (Inbox, result only in the header)",
      default: "enforce",
      enum: DMARC_ENFORCEMENTS,
    },
    createdAt: { schema: serverSetSchema, type: "UTCDate", description: "Creation time", serverSet: true },
  },
};
