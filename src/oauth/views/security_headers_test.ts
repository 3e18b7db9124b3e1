import assert from "node:assert/strict";
import { securityHeaders, STYLE_HASH } from "./mod.ts";

Deno.test("security headers forbid caching, framing, sniffing and everything but the hashed style", () => {
  const headers = securityHeaders();
  assert.equal(headers["content-type"], "text/html; charset=utf-8");
  assert.equal(headers["cache-control"], "no-store");
  assert.equal(headers["pragma"], "no-cache");
  assert.equal(headers["x-frame-options"], "DENY");
  assert.equal(headers["x-content-type-options"], "nosniff");
  assert.equal(headers["referrer-policy"], "no-referrer");
  assert.equal(
    headers["content-security-policy"],
    `default-src 'none'; style-src ${STYLE_HASH}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  );
});

Deno.test("security headers admit the redirect a form post ends in, and nothing injected", () => {
  const csp = (redirectUri: string) => securityHeaders({ redirectUri })["content-security-policy"];
  assert.match(csp("https://app.example:8443/cb?x=1"), /form-action 'self' https:\/\/app\.example:8443;/);
  assert.match(csp("http://127.0.0.1:51004/cb"), /form-action 'self' http:\/\/127\.0\.0\.1:51004;/);
  assert.match(csp("http://[::1]:51004/cb"), /form-action 'self' http:;/);
  assert.match(csp("com.example.app:/oauth"), /form-action 'self' com\.example\.app:;/);
  assert.match(csp("https://a.example/x;script-src *"), /form-action 'self' https:\/\/a\.example;/);
  assert.throws(() => csp("not a url; script-src *"), TypeError);
});
