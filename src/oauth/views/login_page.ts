import { errorAlert, hiddenFields } from "./form_parts.ts";
import { markup } from "./html.ts";
import { layout } from "./layout.ts";

/** Options of `loginPage`. */
export interface LoginPageOptions {
  /** Where the form posts. */
  action: string;
  /** The authorization flow the sign-in belongs to. */
  flow: string;
  /** The CSRF token bound to the flow. */
  csrf: string;
  /** The client's display name. */
  clientName: string;
  /** The login to fill in again after a failed attempt. */
  login?: string;
  /** Why the last attempt failed. */
  error?: string;
  /** How many attempts remain before the flow is abandoned; shown only with an error. */
  attemptsLeft?: number;
}

/** The sign-in form of an authorization flow: username and password. */
export function loginPage(options: LoginPageOptions): string {
  const failed = options.error !== undefined;
  const attempts = failed && options.attemptsLeft !== undefined
    ? attemptsText(options.attemptsLeft, options.clientName)
    : undefined;
  // After a failed attempt the login is filled in again, so the password is what to type next.
  const focusPassword = options.login !== undefined && options.login !== "";
  const invalid = failed && markup` aria-invalid="true" aria-describedby="login-error"`;
  return layout({
    title: "Sign in",
    body: markup`<h1>Sign in</h1>
<p class="lead">Sign in to continue to <span class="client">${options.clientName}</span></p>
${
      errorAlert({ id: "login-error", lines: [options.error, attempts] })
    }<form method="post" action="${options.action}">
${hiddenFields(options)}<label for="username">Email address or username</label>
<input type="text" id="username" name="username" value="${options.login ?? ""}" autocomplete="username"
 autocapitalize="none" autocorrect="off" spellcheck="false" required${
      !focusPassword && markup` autofocus`
    }${invalid}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password"
 required${focusPassword && markup` autofocus`}${invalid}>
<div class="actions">
<button type="submit">Sign in</button>
</div>
</form>
`,
  });
}

function attemptsText(left: number, clientName: string): string {
  if (left <= 0) return `No attempts left: start signing in again from ${clientName}.`;
  const noun = left === 1 ? "attempt" : "attempts";
  return `${left} ${noun} left before you need to start signing in again from ${clientName}.`;
}
