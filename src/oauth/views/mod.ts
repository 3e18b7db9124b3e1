/**
 * The HTML pages of the OAuth 2.0 / OpenID Connect provider: pure functions from options to a
 * self-contained page (one hashed stylesheet, no script, no external resource), and the headers
 * that must go with them.
 */
export { consentPage } from "./consent_page.ts";
export type { ConsentPageOptions } from "./consent_page.ts";
export { deviceCodePage } from "./device_code_page.ts";
export type { DeviceCodePageOptions } from "./device_code_page.ts";
export { deviceConfirmPage } from "./device_confirm_page.ts";
export type { DeviceConfirmPageOptions } from "./device_confirm_page.ts";
export { escapeHtml } from "./escape_html.ts";
export type { ScopeView } from "./form_parts.ts";
export { Html, markup } from "./html.ts";
export type { HtmlValue } from "./html.ts";
export { layout } from "./layout.ts";
export type { LayoutOptions } from "./layout.ts";
export { loginPage } from "./login_page.ts";
export type { LoginPageOptions } from "./login_page.ts";
export { logoutPage } from "./logout_page.ts";
export type { LogoutPageOptions } from "./logout_page.ts";
export { messagePage } from "./message_page.ts";
export type { MessagePageOptions, MessageStatus } from "./message_page.ts";
export { securityHeaders } from "./security_headers.ts";
export type { SecurityHeadersOptions } from "./security_headers.ts";
export { STYLE, STYLE_HASH } from "./style.ts";
