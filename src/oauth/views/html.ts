/**
 * A tagged template that escapes every interpolated value, so a page cannot forget to: only `Html`
 * (the result of another `markup` template, or markup a view vouches for) passes through unchanged.
 *
 * The tag is not named `html` on purpose: deno fmt reformats `html`-tagged templates as HTML, which
 * rewrites the text the pages emit (it turned `\` line continuations into literal backslashes).
 */
import { escapeHtml } from "./escape_html.ts";

/** Markup that is safe to emit as is. */
export class Html {
  /** Wraps markup; the caller vouches that it holds no untrusted text. */
  constructor(readonly text: string) {}

  /** The markup itself. */
  toString(): string {
    return this.text;
  }
}

/** What a template may interpolate: nothing, text, numbers, markup, or a list of them. */
export type HtmlValue = Html | string | number | false | null | undefined | readonly HtmlValue[];

/** Builds markup from a template, escaping each value that is not already `Html`. */
export function markup(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let text = strings[0];
  values.forEach((value, index) => {
    text += render(value) + strings[index + 1];
  });
  return new Html(text);
}

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join("");
  if (value === false || value === null || value === undefined) return "";
  return escapeHtml(String(value));
}
