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

/** Options of `deviceConfirmPage`. */
export interface DeviceConfirmPageOptions {
  /** Where the form posts. */
  action: string;
  /** The device authorization flow being approved. */
  flow: string;
  /** The CSRF token bound to the flow. */
  csrf: string;
  /** The client's display name. */
  clientName: string;
  /** The signed-in account, as its owner knows it (its address). */
  account: string;
  /** The code the user entered, to compare with the device's screen. */
  userCode: string;
  /** The permissions asked for. */
  scopes: readonly ScopeView[];
  /** The client registered itself (RFC 7591): nobody vouches for its name. */
  unverified?: boolean;
}

/**
 * Asks the signed-in user to confirm a device. The code is shown large so it can be checked against
 * the device's screen: a code phished from someone else's device looks the same otherwise (RFC 8628 §5.4).
 */
export function deviceConfirmPage(options: DeviceConfirmPageOptions): string {
  return layout({
    title: "Connect a device",
    body: markup`<h1>Connect ${options.clientName}?</h1>
${
      unverifiedNotice({ unverified: options.unverified, trust: "the device in front of you" })
    }<p class="lead"><span class="client">${options.clientName}</span> wants to access your account
 <strong>${options.account}</strong></p>
<p>Check that your device shows this code:</p>
<p class="user-code">${options.userCode}</p>
${scopeList(options)}<form method="post" action="${options.action}">
${hiddenFields(options)}${decisionButtons(APPROVE_OR_DENY)}</form>
`,
  });
}
