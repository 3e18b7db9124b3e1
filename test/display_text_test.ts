/**
 * Display text holds no control, invisible or text-direction characters (issue 19, item 10): OAuth
 * client names and descriptions, domain and key descriptions and the smarthost username reach the
 * consent page, the TUI and the terminal. The smarthost host must be a host name or an address.
 */
import assert from "node:assert/strict";
import { createUser, notCreated, notUpdated, set, withApp } from "./jmap_helpers.ts";

/** What the fuzz run found accepted: NUL, CR LF, BEL, a right-to-left override, a zero-width space, a lone surrogate. */
const BAD = {
  NUL: "Mail\u0000app",
  "CR LF": "Mail\r\nPOSTERN: trusted",
  BEL: "Mail\u0007app",
  "U+202E": "Mail \u202egnp.exe",
  "U+200B": "Mail\u200bapp",
  "lone surrogate": "Mail\ud800app",
};

/** Names people do write, which must still pass: accents, scripts, emoji built with joiners, ZWNJ (Persian). */
const GOOD = ["Café Mail", "メール", "👩‍💻 Dev mail", "می‌خواهم", "Mail (beta) – v2"];

function assertRefused(error: Record<string, unknown> | undefined, property: string, label: string) {
  assert.equal(error?.type, "invalidProperties", `${label}: ${JSON.stringify(error)}`);
  assert.deepEqual(error?.properties, [property], label);
  assert.match(String(error?.description), /control, invisible or text-direction|well-formed/, label);
}

const CLIENT = {
  "@type": "Confidential",
  redirectUris: { "0": "https://app.example.org/cb" },
  scopes: { "0": "openid" },
};

Deno.test("OAuth client names and descriptions refuse control, invisible and direction characters", () =>
  withApp(async (t) => {
    for (const [label, text] of Object.entries(BAD)) {
      assertRefused(await notCreated(t, "x:OAuthClient", { ...CLIENT, name: text }), "name", label);
      assertRefused(
        await notCreated(t, "x:OAuthClient", { ...CLIENT, name: `Client ${label}`, description: text }),
        "description",
        label,
      );
    }
    for (const [index, name] of GOOD.entries()) {
      const result = await set(t, "x:OAuthClient", {
        create: { [`c${index}`]: { ...CLIENT, name, description: name } },
      });
      assert.equal(result.notCreated, null, `${name}: ${JSON.stringify(result.notCreated)}`);
    }
    const made = await set(t, "x:OAuthClient", { create: { c: { ...CLIENT, name: "Plain" } } });
    const id = (made.created as Record<string, { id: string }>).c.id;
    assertRefused(await notUpdated(t, "x:OAuthClient", id, { name: BAD["U+202E"] }), "name", "update");
  }));

Deno.test("domain, app password and API key descriptions refuse control, invisible and direction characters", () =>
  withApp(async (t) => {
    const user = await createUser(t, "dora");
    for (const [label, text] of Object.entries(BAD)) {
      assertRefused(
        await notCreated(t, "x:Domain", {
          name: `d${Object.keys(BAD).indexOf(label)}.example`,
          description: text,
        }),
        "description",
        label,
      );
      for (const type of ["x:AppPassword", "x:ApiKey"]) {
        assertRefused(
          await notCreated(t, type, { description: text }, user),
          "description",
          `${type} ${label}`,
        );
      }
      assertRefused(await notUpdated(t, "x:Account", user.id, { description: text }), "description", label);
    }
    for (const type of ["x:AppPassword", "x:ApiKey"]) {
      const result = await set(t, type, { create: { k: { description: GOOD[2] } } }, user);
      assert.equal(result.notCreated, null, JSON.stringify(result.notCreated));
    }
  }));

Deno.test("the smarthost username refuses control characters and the host must be a host name or an address", () =>
  withApp(async (t) => {
    for (const [label, text] of Object.entries(BAD)) {
      assertRefused(await notUpdated(t, "x:Smarthost", "singleton", { username: text }), "username", label);
    }
    for (
      const host of [
        ".",
        "-",
        "..",
        "a..b",
        "-relay.example",
        "relay-.example",
        "smtp.example.net.",
        "a b",
        "1.2.3",
        "300.1.1.1",
        "[relay.example]",
        "[::1",
        "::g",
        "x".repeat(64) + ".example",
      ]
    ) {
      const error = await notUpdated(t, "x:Smarthost", "singleton", { host });
      assert.equal(error?.type, "invalidProperties", `${host}: ${JSON.stringify(error)}`);
      assert.deepEqual(error?.properties, ["host"], host);
    }
    for (
      const [host, stored] of [
        ["", ""],
        ["smtp.example.net", "smtp.example.net"],
        ["relay", "relay"],
        ["192.0.2.25", "192.0.2.25"],
        ["2001:db8::25", "2001:db8::25"],
        ["[2001:db8::25]", "2001:db8::25"],
      ]
    ) {
      const result = await set(t, "x:Smarthost", { update: { singleton: { host } } });
      assert.equal(result.notUpdated, null, `${host}: ${JSON.stringify(result.notUpdated)}`);
      assert.equal((await t.services.settings.get("Smarthost")).host, stored);
    }
    const named = await set(t, "x:Smarthost", {
      update: { singleton: { username: "relay user@example.net" } },
    });
    assert.equal(named.notUpdated, null, JSON.stringify(named.notUpdated));
  }));

Deno.test("a self-registered client cannot carry control or direction characters in its name to the consent page", () =>
  withApp(async (t) => {
    await t.services.settings.update("OidcProvider", { allowDynamicRegistration: true });
    for (const [label, text] of Object.entries(BAD)) {
      const response = await t.fetch("/auth/register", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ client_name: text, redirect_uris: ["https://app.example.org/cb"] }),
      });
      const body = await response.json();
      assert.equal(response.status, 400, `${label}: ${JSON.stringify(body)}`);
      assert.equal(body.error, "invalid_client_metadata", label);
    }
  }));
