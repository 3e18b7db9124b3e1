/** `Domain`: a mail domain that accounts and addresses live in. */
import { z } from "zod";
import { DMARC_ENFORCEMENTS, MTA_STS_MODES } from "../types.ts";
import { addressSchema, domainNameSchema, serverSetSchema, textSchema } from "./mod_internal.ts";
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
    catchAll: {
      schema: addressSchema.nullable(),
      type: "String?",
      description:
        "Address of an account or group that receives mail sent to unknown addresses of this domain (none: refused)",
    },
    mtaStsMode: {
      schema: z.enum(MTA_STS_MODES as [string, ...string[]]),
      type: "String",
      description:
        "Mode of the MTA-STS policy published at https://mta-sts.DOMAIN/.well-known/mta-sts.txt: " +
        "testing (senders report TLS failures but deliver), enforce (senders require valid TLS to the MX), " +
        "or none (policy withdrawn)",
      default: "testing",
      enum: MTA_STS_MODES,
    },
    createdAt: { schema: serverSetSchema, type: "UTCDate", description: "Creation time", serverSet: true },
  },
};
