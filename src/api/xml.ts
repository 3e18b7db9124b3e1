/**
 * XML built by construction: every value put into a template is escaped, so an address or a name
 * from a request can never open an element or an attribute (see src/oauth/views/html.ts for HTML).
 */

/** A piece of XML that is already safe to emit. */
export class Xml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/** Escapes text for element content and attribute values; drops characters XML 1.0 cannot carry. */
export function escapeXml(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/g, "").replace(
    /[&<>"']/g,
    (c) => ENTITIES[c],
  );
}

/** A template whose values are escaped (numbers and Xml pieces, lists of them, go in as they are). */
export function xml(strings: TemplateStringsArray, ...values: (string | number | Xml | Xml[])[]): Xml {
  let out = strings[0];
  values.forEach((value, i) => {
    const text = Array.isArray(value)
      ? value.map((v) => v.text).join("")
      : value instanceof Xml
      ? value.text
      : typeof value === "number"
      ? String(value)
      : escapeXml(value);
    out += text + strings[i + 1];
  });
  return new Xml(out);
}
