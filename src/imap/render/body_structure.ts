/**
 * FETCH BODYSTRUCTURE and BODY (RFC 9051 §7.5.2): a part's type, parameters, id, description,
 * transfer encoding, size in octets, lines (text/*, message/rfc822), the encapsulated message's
 * envelope and structure (message/rfc822), and with `extended` the extension data (md5,
 * disposition, language, location; a multipart's parameters, disposition, language, location).
 * Values are the header's as sent; defaults and details follow Dovecot (text/* without a charset
 * gets charset us-ascii appended; a missing Content-Type is text/plain, message/rfc822 in a digest;
 * of a Content-* field sent twice the first counts).
 */
import type { ResponseValue } from "../command.ts";
import { fieldValue, type HeaderField } from "./header_fields.ts";
import { type ContentValue, parseContentValue } from "./content_fields.ts";
import { envelope } from "./envelope.ts";
import type { RenderPart } from "./message_tree.ts";
import { octetString } from "./values.ts";

/** The BODYSTRUCTURE (`extended`) or BODY of `part` of the message `bytes`. */
export function bodyStructure(bytes: Uint8Array, part: RenderPart, extended: boolean): ResponseValue[] {
  const fields = part.fields;
  const first = (name: string): HeaderField | undefined => fields.find((f) => f.name.toLowerCase() === name);
  const text = (name: string): string | null => {
    const field = first(name);
    return field ? fieldValue(bytes, field).trimEnd() : null;
  };
  const typeText = text("content-type");
  const contentType = typeText === null ? null : parseContentValue(typeText, true);
  if (part.children) {
    const out: ResponseValue[] = part.children.map((child) => bodyStructure(bytes, child, extended));
    out.push(octetString(contentType?.subtype ?? "mixed"));
    if (extended) out.push(params(contentType), ...dispositionAndAfter(text));
    return out;
  }
  const fallback = part.inDigest ? "message/rfc822" : "text/plain";
  const [type, subtype] = contentType && contentType.value.toLowerCase() !== "multipart"
    ? [contentType.value, contentType.subtype]
    : fallback.split("/");
  const parameters = contentType && contentType.value.toLowerCase() !== "multipart"
    ? [...contentType.params]
    : [];
  if (type.toLowerCase() === "text" && !parameters.some(([name]) => name.toLowerCase() === "charset")) {
    parameters.push(["charset", "us-ascii"]);
  }
  const size = part.end - part.bodyStart;
  const out: ResponseValue[] = [
    octetString(type),
    octetString(subtype),
    parameters.length ? parameters.flat().map(octetString) : null,
    octetString(text("content-id")),
    octetString(text("content-description")),
    octetString(text("content-transfer-encoding") || "7bit"),
    size,
  ];
  if (part.type === "message/rfc822" && `${type}/${subtype}`.toLowerCase() === "message/rfc822") {
    const inner = part.message();
    out.push(
      inner ? envelope(bytes, inner.fields) : envelope(bytes, []),
      inner
        ? bodyStructure(bytes, inner, extended)
        : ["text", "plain", ["charset", "us-ascii"], null, null, "7bit", 0, 0],
      lines(bytes, part),
    );
  } else if (type.toLowerCase() === "text") {
    out.push(lines(bytes, part));
  }
  if (extended) out.push(octetString(text("content-md5")), ...dispositionAndAfter(text));
  return out;
}

function params(value: ContentValue | null): ResponseValue {
  if (!value || value.params.length === 0) return null;
  return value.params.flat().map(octetString);
}

/** body-fld-dsp, body-fld-lang, body-fld-loc. */
function dispositionAndAfter(text: (name: string) => string | null): ResponseValue[] {
  const dispositionText = text("content-disposition");
  const disposition = dispositionText === null ? null : parseContentValue(dispositionText, false);
  const languageText = text("content-language");
  const languages = languageText?.split(/[\s,]+/).filter(Boolean) ?? [];
  return [
    disposition ? [octetString(disposition.value), params(disposition)] : null,
    languages.length ? languages.map(octetString) : null,
    octetString(text("content-location")),
  ];
}

/** The number of lines of a part's body: its LFs (its octets are CRLF text). */
function lines(bytes: Uint8Array, part: RenderPart): number {
  let n = 0;
  for (let i = bytes.indexOf(10, part.bodyStart); i !== -1 && i < part.end; i = bytes.indexOf(10, i + 1)) n++;
  return n;
}
