/**
 * Refresh-token renewal for confidential clients (issue 4, Refresh tokens): the same refresh token comes
 * back while more than `refreshTokenRenewal` of its life is left, and a new one once less is left; the
 * renewed-from token is then spent like any rotated one.
 */
import assert from "node:assert/strict";
import {
  bearerStatus,
  clientAuth,
  obtainTokens,
  postForm,
  refresh,
  withProvider,
} from "./oauth_security_helpers.ts";

const OFFLINE = { scope: "openid offline_access" };
const DAY = 86_400;

Deno.test("a confidential client gets a new refresh token once less than refreshTokenRenewal is left", () =>
  withProvider(async (p) => {
    // Far from expiry (30 days left, renewal below 4): the same refresh token comes back.
    const lasting = await obtainTokens(p, OFFLINE);
    const kept = await refresh(p.t, p.client, lasting.refresh_token!);
    assert.equal(kept.status, 200, JSON.stringify(kept.body));
    assert.equal(kept.body.refresh_token, lasting.refresh_token);

    // Refresh tokens that live one day have less than refreshTokenRenewal (4 days) left from the start.
    await p.t.services.objects.update("oidc-provider", "singleton", {
      refreshTokenExpiry: "1d",
      refreshTokenReuseGrace: 0,
    }, "system");
    const short = await obtainTokens(p, OFFLINE);
    const before = Math.floor(Date.now() / 1000);
    const renewed = await refresh(p.t, p.client, short.refresh_token!);
    assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
    const next = renewed.body.refresh_token as string;
    assert.ok(next && next !== short.refresh_token, "no new refresh token");
    const described = await postForm(p.t, "/auth/introspect", { token: next, ...clientAuth(p.client) });
    assert.equal(described.body.active, true);
    const exp = described.body.exp as number;
    assert.ok(exp >= before + DAY && exp <= before + DAY + 5, `a full day from the renewal: exp ${exp}`);
    assert.equal(await bearerStatus(p.t, renewed.body.access_token as string), 200);

    // The renewed-from token is spent: presented again (no grace window) it revokes the family.
    const reused = await refresh(p.t, p.client, short.refresh_token!);
    assert.equal(reused.status, 400);
    assert.equal(reused.body.error, "invalid_grant");
    assert.equal(await bearerStatus(p.t, renewed.body.access_token as string), 401);
    assert.equal((await refresh(p.t, p.client, next)).body.error, "invalid_grant");
  }));
