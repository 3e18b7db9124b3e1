/**
 * The device authorization grant (RFC 8628) as a device polls it in-process: every polling answer of
 * §3.5 (authorization_pending, slow_down, expired_token, access_denied), the tokens once approved, and
 * the page where the user types the code answering a repeated or overlong code with the form again.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import type { TestApp } from "./helpers.ts";
import { answerDeviceCode, USER_CODE } from "./oauth_clients_helpers.ts";
import { readForm } from "./oauth_helpers.ts";
import {
  bearerStatus,
  clientAuth,
  type JsonAnswer,
  newBrowser,
  postForm,
  type Provider,
  withProvider,
} from "./oauth_security_helpers.ts";

const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

/** What POST /auth/device gives a device (RFC 8628 §3.2). */
interface DeviceGrant {
  device_code: string;
  user_code: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

/** Asks for a device code as the registered client, with a 1-second polling interval. */
async function startDevice(p: Provider): Promise<DeviceGrant> {
  await p.t.services.objects.update("oidc-provider", "singleton", { deviceCodeInterval: "1s" }, "system");
  const answer = await postForm(p.t, "/auth/device", { scope: "openid email", ...clientAuth(p.client) });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const grant = answer.body as unknown as DeviceGrant;
  assert.match(grant.user_code, USER_CODE);
  assert.equal(grant.interval, 1);
  return grant;
}

/** One poll of the token endpoint with a device code (RFC 8628 §3.4). */
function poll(p: Provider, grant: DeviceGrant): Promise<JsonAnswer> {
  return postForm(p.t, "/auth/token", {
    grant_type: DEVICE_GRANT,
    device_code: grant.device_code,
    ...clientAuth(p.client),
  });
}

/** Asserts a §3.5 polling error: 400, the code, and a token response that is never cached. */
function assertPollError(answer: JsonAnswer, error: string): string {
  assert.equal(answer.status, 400, JSON.stringify(answer.body));
  assert.equal(answer.body.error, error, String(answer.body.error_description));
  assert.equal(answer.headers.get("cache-control"), "no-store");
  return String(answer.body.error_description);
}

/** Test seam: moves a device code's expiry into the past (userCodeExpiry is at least a minute). */
function expireDeviceCode(t: TestApp, userCode: string): void {
  const db = new DatabaseSync(`${t.dataDir}/postern.db`);
  try {
    db.prepare("UPDATE oauth_device_codes SET expires_at = ? WHERE user_code = ?").run(
      Date.now() - 1,
      userCode,
    );
  } finally {
    db.close();
  }
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("a device polling at its interval before the user answers gets authorization_pending each time", () =>
  withProvider(async (p) => {
    const grant = await startDevice(p);
    assertPollError(await poll(p, grant), "authorization_pending");
    await wait(1100);
    assertPollError(await poll(p, grant), "authorization_pending");
  }));

Deno.test("a device polling faster than the interval gets slow_down, and the interval grows by 5 seconds", () =>
  withProvider(async (p) => {
    const grant = await startDevice(p);
    assertPollError(await poll(p, grant), "authorization_pending");
    assert.match(assertPollError(await poll(p, grant), "slow_down"), /every 6 seconds/);
    // §3.5: the longer interval holds for later polls, so one second later is still too soon.
    await wait(1100);
    assert.match(assertPollError(await poll(p, grant), "slow_down"), /every 11 seconds/);
  }));

Deno.test("a device code past its expiry gets expired_token, and its user code is refused on the page", () =>
  withProvider(async (p) => {
    const grant = await startDevice(p);
    assertPollError(await poll(p, grant), "authorization_pending");
    expireDeviceCode(p.t, grant.user_code);
    assertPollError(await poll(p, grant), "expired_token");
    const browser = newBrowser(p.t);
    const codePage = await (await browser.request(grant.verification_uri_complete)).text();
    const refused = await browser.submit(codePage, {});
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /not valid or has expired/);
  }));

Deno.test("a device whose user denies gets access_denied, and the code gives nothing after", () =>
  withProvider(async (p) => {
    const grant = await startDevice(p);
    assertPollError(await poll(p, grant), "authorization_pending");
    const done = await answerDeviceCode(newBrowser(p.t), grant.verification_uri_complete, "deny");
    assert.match(done, /Access denied/);
    assertPollError(await poll(p, grant), "access_denied");
    await wait(1100);
    assertPollError(await poll(p, grant), "access_denied");
  }));

Deno.test("a device whose user approves gets working tokens once; polling again is invalid_grant", () =>
  withProvider(async (p) => {
    const grant = await startDevice(p);
    assertPollError(await poll(p, grant), "authorization_pending");
    const done = await answerDeviceCode(newBrowser(p.t), grant.verification_uri_complete, "approve");
    assert.match(done, /Device connected/);
    const tokens = await poll(p, grant);
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.equal(tokens.body.scope, "openid email");
    assert.equal(await bearerStatus(p.t, tokens.body.access_token as string), 200);
    assertPollError(await poll(p, grant), "invalid_grant");
  }));

Deno.test("the code page answers a repeated or overlong user_code with the empty form and says why", () =>
  withProvider(async (p) => {
    const grant = await startDevice(p);
    const browser = newBrowser(p.t);
    const cases = [
      [`/auth/device?user_code=${grant.user_code}&user_code=BCDF-GHJK`, /sent more than once/],
      [`/auth/device?user_code=${grant.user_code}${"X".repeat(20)}`, /longer than 20 characters/],
    ] as const;
    for (const [url, why] of cases) {
      const response = await browser.request(url);
      const html = await response.text();
      assert.equal(response.status, 400, html.slice(0, 300));
      assert.match(html, why);
      assert.equal(readForm(html).fields.user_code, "", "nothing cut short or picked is filled in");
    }
    const typed = await browser.request(`/auth/device?user_code=${grant.user_code}`);
    assert.equal(readForm(await typed.text()).fields.user_code, grant.user_code);
  }));
