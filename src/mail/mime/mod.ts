/** MIME: a message's part tree with byte ranges, header forms, and its body as JMAP sees it. */
export { lastHeader, messageHeaders, MIME_LIMITS, parseMime } from "./parse_mime.ts";
export type { MimeHeader, MimePart } from "./parse_mime.ts";
export {
  asAddresses,
  asDate,
  asGroupedAddresses,
  asMessageIds,
  asText,
  asURLs,
  HEADER_FORMS,
  headerAs,
} from "./header_forms.ts";
export type { EmailAddress, EmailAddressGroup, HeaderForm } from "./header_forms.ts";
export {
  BODY_PROPERTIES,
  bodyPartWire,
  bodyText,
  bodyValue,
  DEFAULT_BODY_PROPERTIES,
  emailBody,
  findPart,
  hasAttachment,
  partId,
  partName,
  partSize,
  preview,
  previewOf,
} from "./email_body.ts";
export type { EmailBody } from "./email_body.ts";
export { decodeText, decodeTransfer } from "./decode_body.ts";
export { htmlToText } from "./html_text.ts";
