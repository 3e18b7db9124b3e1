/** Pieces shared by the pages' forms: the hidden state, the error region, the scopes, the two decisions. */
import { type Html, markup } from "./html.ts";

/** A permission the client asks for, as the consent screens list it. */
export interface ScopeView {
  /** The scope as requested, e.g. `mail:read`. */
  name: string;
  /** What it lets the client do, in words, e.g. "Read your mail". */
  description: string;
}

/** The hidden inputs every form carries: the CSRF token, and the flow id when there is one. */
export function hiddenFields(options: { csrf: string; flow?: string }): Html {
  return markup`<input type="hidden" name="csrf" value="${options.csrf}">
${
    options.flow !== undefined && markup`<input type="hidden" name="flow" value="${options.flow}">
`
  }`;
}

/** The error region, announced by screen readers as the page loads; nothing when there is no error. */
export function errorAlert(options: { id: string; lines: (string | undefined)[] }): Html {
  const lines = options.lines.filter((line) => line !== undefined && line !== "");
  if (lines.length === 0) return markup``;
  return markup`<div class="alert" id="${options.id}" role="alert">
${lines.map((line) => markup`<p>${line}</p>\n`)}</div>
`;
}

/** The permissions asked for, or a plain statement that there are none beyond the sign-in. */
export function scopeList(options: { clientName: string; scopes: readonly ScopeView[] }): Html {
  if (options.scopes.length === 0) return markup`<p>It asks for no access beyond knowing who you are.</p>\n`;
  const items = options.scopes.map((scope) =>
    markup`<li>${scope.description}<span class="scope-name">${scope.name}</span></li>\n`
  );
  return markup`<p>This will allow <span class="client">${options.clientName}</span> to:</p>
<ul class="scopes">
${items}</ul>
`;
}

/** Two submit buttons posting `decision`: the first is the primary action, the second the way out. */
export function decisionButtons(options: {
  primary: { value: string; label: string };
  secondary: { value: string; label: string };
}): Html {
  const { primary, secondary } = options;
  return markup`<div class="actions">
<button type="submit" name="decision" value="${primary.value}">${primary.label}</button>
<button type="submit" name="decision" value="${secondary.value}" class="secondary">${secondary.label}</button>
</div>
`;
}

/** Allow / Deny, as the consent and device pages post them. */
export const APPROVE_OR_DENY = {
  primary: { value: "approve", label: "Allow" },
  secondary: { value: "deny", label: "Deny" },
} as const;

/**
 * The warning on the pages of a client that registered itself (RFC 7591): nobody vouches for its
 * name, so the person is told what to trust instead (where the answer goes, or the device at hand).
 */
export function unverifiedNotice(options: { unverified?: boolean; trust: Html | string }): Html {
  if (!options.unverified) return markup``;
  return markup`<div class="alert" role="note">
<p><strong>Unverified application.</strong> It registered itself with this server: nobody has checked
 who runs it or that its name is true. Allow it only if you trust ${options.trust}.</p>
</div>
`;
}
