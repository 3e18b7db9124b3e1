import assert from "node:assert/strict";
import { OIDC_PROVIDER, singletonDefaults, validateObject } from "../model/objects/mod.ts";
import type { OidcProviderSettings } from "../model/objects/mod.ts";
import { generateKeyText, KeyUnavailableError, resolveSettings, secretKeyBytes } from "./settings.ts";

Deno.test("the documented defaults resolve to the documented lifetimes", () => {
  const settings = resolveSettings(singletonDefaults(OIDC_PROVIDER) as unknown as OidcProviderSettings);
  const hour = 3_600_000;
  assert.equal(settings.accessTokenMs, hour);
  assert.equal(settings.refreshTokenMs, 30 * 24 * hour);
  assert.equal(settings.refreshRenewalMs, 4 * 24 * hour);
  assert.equal(settings.userCodeMs, hour / 2);
  assert.equal(settings.authCodeMs, 10 * 60_000);
  assert.equal(settings.idTokenMs, 15 * 60_000);
  assert.equal(settings.authCodeMaxAttempts, 3);
  assert.equal(settings.signatureAlgorithm, "RS256");
  assert.equal(settings.allowDynamicRegistration, false);
});

Deno.test("durations are accepted as seconds or text and refused outside their bounds, naming the field", () => {
  const ok = validateObject(OIDC_PROVIDER, { accessTokenExpiry: 900, refreshTokenExpiry: "90d" }, {
    mode: "update",
  });
  assert.ok(ok.ok);
  assert.deepEqual(ok.value, { accessTokenExpiry: "900s", refreshTokenExpiry: "90d" });
  for (const bad of ["1 fortnight", "5", 10, "8d", -1]) {
    const result = validateObject(OIDC_PROVIDER, { accessTokenExpiry: bad }, { mode: "update" });
    assert.ok(!result.ok, String(bad));
    assert.equal(result.problems[0].property, "accessTokenExpiry");
  }
});

Deno.test("an encryption key comes from its value, a variable or a file, and a missing one says where", async () => {
  const value = "v".repeat(40);
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  assert.equal(text(await secretKeyBytes({ "@type": "Value", secret: value }, {})), value);
  assert.equal(
    text(
      await secretKeyBytes({ "@type": "EnvironmentVariable", variableName: "OAUTH_KEY" }, {
        OAUTH_KEY: value,
      }),
    ),
    value,
  );
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, `${value}\n`);
    assert.equal(text(await secretKeyBytes({ "@type": "File", filePath: file }, {})), value);
  } finally {
    await Deno.remove(file);
  }
  await assert.rejects(
    secretKeyBytes({ "@type": "EnvironmentVariable", variableName: "MISSING_KEY" }, {}),
    (error: Error) => error instanceof KeyUnavailableError && error.message.includes("MISSING_KEY"),
  );
  await assert.rejects(
    secretKeyBytes({ "@type": "File", filePath: "/nonexistent/key" }, {}),
    (error: Error) => error instanceof KeyUnavailableError && error.message.includes("/nonexistent/key"),
  );
  assert.equal(generateKeyText().length, 86);
  assert.notEqual(generateKeyText(), generateKeyText());
});
