import { decisionButtons, hiddenFields } from "./form_parts.ts";
import { markup } from "./html.ts";
import { layout } from "./layout.ts";

/** Options of `logoutPage`. */
export interface LogoutPageOptions {
  /** Where the form posts. */
  action: string;
  /** The CSRF token of the page. */
  csrf: string;
  /** The logout flow, when a client started it (RP-initiated logout). */
  flow?: string;
  /** The client that asked to sign the user out, if any. */
  clientName?: string;
  /**
   * The request's parameters that the confirmation must post again (`post_logout_redirect_uri`,
   * `state`, …): a form post carries its body, not the query of the page it came from.
   */
  carried?: Readonly<Record<string, string>>;
}

const SIGN_OUT_OR_CANCEL = {
  primary: { value: "logout", label: "Sign out" },
  secondary: { value: "cancel", label: "Cancel" },
};

/** Asks the user to confirm signing out, so a link alone cannot end their session. */
export function logoutPage(options: LogoutPageOptions): string {
  const asker = options.clientName !== undefined &&
    markup`<p class="lead"><span class="client">${options.clientName}</span> asked to sign you out.</p>\n`;
  return layout({
    title: "Sign out",
    body: markup`<h1>Sign out of Postern?</h1>
${asker}<form method="post" action="${options.action}">
${hiddenFields(options)}${carriedFields(options.carried ?? {})}${decisionButtons(SIGN_OUT_OR_CANCEL)}</form>
`,
  });
}

function carriedFields(carried: Readonly<Record<string, string>>) {
  return Object.entries(carried).map(([name, value]) =>
    markup`<input type="hidden" name="${name}" value="${value}">
`
  );
}
