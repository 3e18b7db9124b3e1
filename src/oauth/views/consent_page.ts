import {
  APPROVE_OR_DENY,
  decisionButtons,
  hiddenFields,
  scopeList,
  type ScopeView,
  unverifiedNotice,
} from "./form_parts.ts";
import { markup } from "./html.ts";
import { layout } from "./layout.ts";

/** Options of `consentPage`. */
export interface ConsentPageOptions {
  /** Where the form posts. */
  action: string;
  /** The authorization flow being approved. */
  flow: string;
  /** The CSRF token bound to the flow. */
  csrf: string;
  /** The client's display name. */
  clientName: string;
  /** The signed-in account, as its owner knows it (its address). */
  account: string;
  /** The permissions asked for. */
  scopes: readonly ScopeView[];
  /** Where the answer is sent (the redirect URI's origin, or its scheme for a native app). */
  returnTo: string;
  /** The client registered itself (RFC 7591): nobody vouches for its name. */
  unverified?: boolean;
}

/**
 * Asks the signed-in user to allow or deny a client the scopes it requested, saying where the answer
 * goes and, for a client that registered itself, that its name is its own claim.
 */
export function consentPage(options: ConsentPageOptions): string {
  return layout({
    title: `Allow ${options.clientName}?`,
    body: markup`<h1>Allow access?</h1>
${
      unverifiedNotice({
        unverified: options.unverified,
        trust: markup`<strong>${options.returnTo}</strong>`,
      })
    }<p class="lead"><span class="client">${options.clientName}</span> wants to access your account
 <strong>${options.account}</strong></p>
${scopeList(options)}<p>After you answer, you are sent to <strong>${options.returnTo}</strong>.</p>
<form method="post" action="${options.action}">
${hiddenFields(options)}${decisionButtons(APPROVE_OR_DENY)}</form>
`,
  });
}
