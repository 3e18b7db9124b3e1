import { Html, markup } from "./html.ts";
import { STYLE } from "./style.ts";

/** Options of `layout`. */
export interface LayoutOptions {
  /** What the page is for; the tab reads "{title} · Postern". */
  title: string;
  /** The content of the page's card, below the product name. */
  body: Html;
}

/** Wraps a page body in the document every OAuth page shares: one card, one stylesheet, no script. */
export function layout(options: LayoutOptions): string {
  // STYLE goes in verbatim: the CSP admits it by the hash of its exact text.
  return markup`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="robots" content="noindex, nofollow">
<title>${options.title} · Postern</title>
<style>${new Html(STYLE)}</style>
</head>
<body>
<main>
<p class="brand">Postern</p>
${options.body}</main>
</body>
</html>
`.text;
}
