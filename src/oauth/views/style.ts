/**
 * The one stylesheet of every OAuth page. It is inlined in a single <style> element and admitted by
 * the CSP through its hash, so the pages load nothing and run no script.
 */
import { createHash } from "node:crypto";

/** The CSS of every page, emitted verbatim inside the page's only <style> element. */
export const STYLE = `
:root {
  color-scheme: light dark;
  --bg: #f3f4f6;
  --card: #ffffff;
  --text: #1b1e23;
  --muted: #555c69;
  --border: #d4d8df;
  --accent: #2449a8;
  --accent-hover: #1c3a87;
  --on-accent: #ffffff;
  --danger: #a8231b;
  --danger-bg: #fdeceb;
  --success: #1b6e36;
  --success-bg: #e7f5ec;
  --info-bg: #e9eefb;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111317;
    --card: #1b1e24;
    --text: #e8eaed;
    --muted: #a4aab5;
    --border: #3a3f48;
    --accent: #8cb0ff;
    --accent-hover: #aac5ff;
    --on-accent: #0b1222;
    --danger: #ffb4ab;
    --danger-bg: #3a1714;
    --success: #86dba0;
    --success-bg: #14301e;
    --info-bg: #1b2640;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0;
  min-height: 100vh;
  display: flex;
  justify-content: center;
  align-items: flex-start;
  padding: 3rem 1rem;
  background: var(--bg);
  color: var(--text);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif;
}
main {
  width: 100%;
  max-width: 26rem;
  padding: 2rem 1.75rem;
  background: var(--card);
  border: 1px solid var(--border);
  border-radius: 12px;
}
.brand {
  margin: 0 0 1.25rem;
  color: var(--muted);
  font-size: 0.875rem;
  font-weight: 600;
  letter-spacing: 0.08em;
  text-transform: uppercase;
}
h1 { margin: 0 0 0.5rem; font-size: 1.5rem; line-height: 1.25; }
p { margin: 0 0 1rem; }
.lead { color: var(--muted); }
strong, .client { color: var(--text); font-weight: 600; overflow-wrap: anywhere; }
.alert {
  margin: 0 0 1.25rem;
  padding: 0.75rem 1rem;
  border-left: 4px solid var(--danger);
  border-radius: 6px;
  background: var(--danger-bg);
  color: var(--text);
}
.alert p { margin: 0; }
.alert p + p { margin-top: 0.25rem; }
form { margin: 0; }
label { display: block; margin: 0 0 0.375rem; font-weight: 600; }
input[type="text"], input[type="password"] {
  display: block;
  width: 100%;
  margin: 0 0 1.25rem;
  padding: 0.7rem 0.8rem;
  border: 1px solid var(--border);
  border-radius: 8px;
  background: var(--card);
  color: var(--text);
  font: inherit;
}
input[aria-invalid="true"] { border-color: var(--danger); }
input.code { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; letter-spacing: 0.1em; }
input:focus-visible, button:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.actions { display: flex; flex-wrap: wrap; gap: 0.75rem; margin-top: 1.5rem; }
button {
  flex: 1 1 8rem;
  min-height: 2.75rem;
  padding: 0.65rem 1.25rem;
  border: 1px solid var(--accent);
  border-radius: 8px;
  background: var(--accent);
  color: var(--on-accent);
  font: inherit;
  font-weight: 600;
  cursor: pointer;
}
button:hover { background: var(--accent-hover); border-color: var(--accent-hover); }
button.secondary { background: transparent; color: var(--text); border-color: var(--border); }
button.secondary:hover { background: var(--bg); }
.scopes { margin: 0 0 1rem; padding: 0; list-style: none; border-top: 1px solid var(--border); }
.scopes li { padding: 0.625rem 0; border-bottom: 1px solid var(--border); }
.scopes .scope-name { display: block; color: var(--muted); font-size: 0.8125rem; }
.user-code {
  margin: 0.5rem 0 1.25rem;
  padding: 0.75rem;
  border: 1px dashed var(--border);
  border-radius: 8px;
  font: 600 1.75rem/1.2 ui-monospace, "SF Mono", Menlo, Consolas, monospace;
  letter-spacing: 0.12em;
  text-align: center;
  overflow-wrap: anywhere;
}
.status {
  display: flex;
  align-items: center;
  justify-content: center;
  width: 2.5rem;
  height: 2.5rem;
  margin: 0 0 1rem;
  border-radius: 50%;
  font-size: 1.25rem;
  font-weight: 700;
}
.status-success { background: var(--success-bg); color: var(--success); }
.status-error { background: var(--danger-bg); color: var(--danger); }
.status-info { background: var(--info-bg); color: var(--accent); }
.detail { color: var(--muted); font-size: 0.875rem; overflow-wrap: anywhere; }
@media (max-width: 30rem) {
  body { padding: 1rem 0.75rem; }
  main { padding: 1.5rem 1.25rem; }
}
`;

/** The CSP source admitting `STYLE`: `'sha256-<base64>'` of its exact text. */
export const STYLE_HASH = `'sha256-${createHash("sha256").update(STYLE).digest("base64")}'`;
