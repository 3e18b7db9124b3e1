/**
 * `DkimKey`: a DKIM key of a local domain (RFC 6376, RFC 8463), made by the server when the domain
 * is created and by the RotateDkimKeys action; administrators read them and delete retired ones
 * (after which `postern dns` no longer lists their record). The private key never leaves the server.
 */
import { serverSetField } from "./mod_internal.ts";
import type { ObjectSpec } from "./spec.ts";

const read = serverSetField;

/** The DkimKey declaration. */
export const DKIM_KEY: ObjectSpec = {
  name: "DkimKey",
  description:
    "A DKIM signing key of a domain; made with the domain and by the RotateDkimKeys action, destroy a retired one to unpublish it",
  readOnly: true,
  fields: {
    id: read("Id", "Object id", true),
    domainId: read("Id<Domain>", "The domain it signs for"),
    domainName: read("String", "That domain's name", true),
    selector: read("String", "The selector (s= tag; the record is SELECTOR._domainkey.DOMAIN)", true),
    algorithm: read("String", "ed25519 (RFC 8463) or rsa (2048 bits)", true),
    active: read("Boolean", "Whether it signs now; a retired key stays published until destroyed", true),
    publicKey: read("String", "The public key as published (p= tag, base64)"),
    dnsName: read("String", "The owner name of its TXT record"),
    dnsValue: read("String", "The TXT record's data, in zone-file strings"),
    createdAt: read("UTCDate", "When it was made"),
    retiredAt: read("UTCDate?", "When a rotation retired it"),
  },
};
