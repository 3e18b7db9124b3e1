/**
 * `header:{name}[:as{Form}][:all]` properties (RFC 8621 §4.1.3): parsed, checked against the forms
 * each known header field allows (§4.1.2), and answered from a part's header fields.
 */
import { HEADER_FORMS, headerAs, type HeaderForm, type MimeHeader } from "../../mail/mime/mod.ts";
import { MethodError } from "../errors.ts";

/** A parsed header property. */
export interface HeaderProperty {
  property: string;
  /** The field name in lower case. */
  name: string;
  form: HeaderForm;
  all: boolean;
}

const ADDRESS_FIELDS = [
  "from",
  "sender",
  "reply-to",
  "to",
  "cc",
  "bcc",
  "resent-from",
  "resent-sender",
  "resent-reply-to",
  "resent-to",
  "resent-cc",
  "resent-bcc",
];
const ID_FIELDS = ["message-id", "in-reply-to", "references", "resent-message-id"];
const DATE_FIELDS = ["date", "resent-date"];
const URL_FIELDS = [
  "list-help",
  "list-unsubscribe",
  "list-subscribe",
  "list-post",
  "list-owner",
  "list-archive",
];
const TEXT_FIELDS = ["subject", "comments", "keywords", "list-id"];
/** Fields RFC 5322 and RFC 2369 define: only their own forms apply to them. */
const KNOWN = new Set([
  ...ADDRESS_FIELDS,
  ...ID_FIELDS,
  ...DATE_FIELDS,
  ...URL_FIELDS,
  ...TEXT_FIELDS,
  "return-path",
  "received",
  "resent-date",
]);

/** Whether RFC 8621 §4.1.2 allows `form` for the field `name` (lower case). */
function allowed(name: string, form: HeaderForm): boolean {
  if (form === "Raw" || !KNOWN.has(name)) return true;
  switch (form) {
    case "Text":
      return TEXT_FIELDS.includes(name);
    case "Addresses":
    case "GroupedAddresses":
      return ADDRESS_FIELDS.includes(name);
    case "MessageIds":
      return ID_FIELDS.includes(name);
    case "Date":
      return DATE_FIELDS.includes(name);
    case "URLs":
      return URL_FIELDS.includes(name);
  }
}

/** The header property `property`, or undefined when it is not one; invalidArguments when malformed. */
export function parseHeaderProperty(property: string): HeaderProperty | undefined {
  if (!property.startsWith("header:")) return undefined;
  const parts = property.slice("header:".length).split(":");
  const name = parts.shift() ?? "";
  if (!/^[!-9;-~]+$/.test(name)) {
    throw new MethodError("invalidArguments", `"${property}" does not name a header field`);
  }
  let form: HeaderForm = "Raw";
  let all = false;
  if (parts[0]?.startsWith("as")) {
    const asked = parts.shift()!.slice(2);
    const known = HEADER_FORMS.find((f) => f.toLowerCase() === asked.toLowerCase());
    if (!known) throw new MethodError("invalidArguments", `"${property}": no header form "as${asked}"`);
    form = known;
  }
  if (parts[0] === "all") {
    parts.shift();
    all = true;
  }
  if (parts.length) throw new MethodError("invalidArguments", `"${property}" has more than a form and :all`);
  const lower = name.toLowerCase();
  if (!allowed(lower, form)) {
    throw new MethodError("invalidArguments", `"${property}": the ${name} field cannot be read as ${form}`);
  }
  return { property, name: lower, form, all };
}

/** The property's value from these header fields (null or [] when the field is absent). */
export function headerValue(headers: readonly MimeHeader[], asked: HeaderProperty): unknown {
  const values = headers.filter((h) => h.name.toLowerCase() === asked.name).map((h) =>
    headerAs(h.value, asked.form)
  );
  if (asked.all) return values;
  return values.length ? values[values.length - 1] : null;
}
