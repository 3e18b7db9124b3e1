import { errorAlert, hiddenFields } from "./form_parts.ts";
import { markup } from "./html.ts";
import { layout } from "./layout.ts";

/** Options of `deviceCodePage`. */
export interface DeviceCodePageOptions {
  /** Where the form posts. */
  action: string;
  /** The CSRF token of the page. */
  csrf: string;
  /** A flow id, when the page already belongs to one. */
  flow?: string;
  /** The code to fill in: from `verification_uri_complete`, or the one that was just refused. */
  userCode?: string;
  /** Why the last code was refused. */
  error?: string;
}

/** Asks for the code a device shows (RFC 8628 §3.3) to start connecting it. */
export function deviceCodePage(options: DeviceCodePageOptions): string {
  const invalid = options.error !== undefined && markup` aria-invalid="true" aria-describedby="code-error"`;
  return layout({
    title: "Connect a device",
    body: markup`<h1>Connect a device</h1>
<p class="lead">Enter the code shown on your device.</p>
${errorAlert({ id: "code-error", lines: [options.error] })}<form method="post" action="${options.action}">
${hiddenFields(options)}<label for="user_code">Code</label>
<input type="text" id="user_code" name="user_code" class="code" value="${options.userCode ?? ""}"
 placeholder="WDJB-MJHT" autocomplete="one-time-code" autocapitalize="characters" autocorrect="off"
 spellcheck="false" required autofocus${invalid}>
<div class="actions">
<button type="submit">Continue</button>
</div>
</form>
`,
  });
}
