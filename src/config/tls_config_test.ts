import assert from "node:assert/strict";
import { resolveConfig } from "./config.ts";
import { LETS_ENCRYPT_DIRECTORY } from "./tls_config.ts";

const PEBBLE = "https://127.0.0.1:14000/dir";

Deno.test("ACME defaults to the server's domain and public URL host; flags beat the environment", () => {
  const config = resolveConfig({ domain: "example.org", publicUrl: "https://mail.example.org" }, {
    POSTERN_ACME_DIRECTORY: LETS_ENCRYPT_DIRECTORY,
    POSTERN_HTTPS_LISTEN: "0.0.0.0:443",
  });
  assert.deepEqual(config.tls, {
    httpsListen: { hostname: "0.0.0.0", port: 443 },
    acme: {
      directoryUrl: LETS_ENCRYPT_DIRECTORY,
      email: undefined,
      domains: ["example.org", "mail.example.org"],
      caFile: undefined,
      challenge: "http-01",
    },
  });
  const flags = resolveConfig({
    acmeDirectory: PEBBLE,
    acmeDomains: "Mail.Example.org, example.org,mail.example.org",
    acmeEmail: "admin@example.org",
    acmeCaFile: "/tmp/ca.pem",
    acmeChallenge: "tls-alpn-01",
    httpsListen: "127.0.0.1:8443",
  }, {
    POSTERN_ACME_DIRECTORY: LETS_ENCRYPT_DIRECTORY,
    POSTERN_ACME_DOMAINS: "other.example",
    POSTERN_ACME_CHALLENGE: "http-01",
  });
  assert.deepEqual(flags.tls.acme, {
    directoryUrl: PEBBLE,
    email: "admin@example.org",
    domains: ["mail.example.org", "example.org"],
    caFile: "/tmp/ca.pem",
    challenge: "tls-alpn-01",
  });
  assert.deepEqual(flags.tls.httpsListen, { hostname: "127.0.0.1", port: 8443 });
});

Deno.test("bad TLS and ACME settings are refused with one line naming the flag", () => {
  const cases: [Record<string, string>, Record<string, string>, RegExp][] = [
    [{ acmeDirectory: "not a url" }, {}, /^Invalid --acme-directory \(POSTERN_ACME_DIRECTORY\) "not a url"/],
    [{}, { POSTERN_ACME_DIRECTORY: "http://insecure.example/dir" }, /--acme-directory .*an https URL/],
    [{ acmeDirectory: PEBBLE, acmeDomains: "bad_name.example" }, {}, /^Invalid --acme-domains/],
    [{ acmeDirectory: PEBBLE, acmeDomains: " , " }, {}, /^Invalid --acme-domains/],
    [{ acmeDirectory: PEBBLE, acmeEmail: "nobody" }, {}, /^Invalid --acme-email/],
    [{ acmeEmail: "a@example.org" }, {}, /^Invalid --acme-email: it needs --acme-directory/],
    [{ acmeChallenge: "tls-alpn-01" }, {}, /^Invalid --acme-challenge: it needs --acme-directory/],
    [
      { acmeDirectory: PEBBLE, acmeChallenge: "dns-01" },
      {},
      /^Invalid --acme-challenge .*"dns-01": http-01 or/,
    ],
    [
      { acmeDirectory: PEBBLE },
      { POSTERN_ACME_CHALLENGE: "tls-alpn-01" },
      /tls-alpn-01: .*needs --https-listen/,
    ],
    [
      { httpsListen: "127.0.0.1:8443" },
      {},
      /^Invalid --https-listen .*needs --tls-cert\/--tls-key or --acme-directory/,
    ],
    [
      { httpsListen: "nowhere" },
      {},
      /^Invalid --https-listen \(POSTERN_HTTPS_LISTEN\): Invalid listen address/,
    ],
    [{ acmeDirectory: PEBBLE, tlsCert: "c.pem", tlsKey: "k.pem" }, {}, /ACME or --tls-cert, not both/],
  ];
  for (const [input, env, pattern] of cases) {
    assert.throws(() => resolveConfig(input, env), (error: Error) => {
      assert.match(error.message, pattern, JSON.stringify(input));
      assert.ok(!error.message.includes("\n"), "one line");
      return true;
    });
  }
});

Deno.test("HTTPS with certificate files needs no ACME", () => {
  const config = resolveConfig({ httpsListen: "[::1]:8443", tlsCert: "c.pem", tlsKey: "k.pem" }, {});
  assert.deepEqual(config.tls, { httpsListen: { hostname: "::1", port: 8443 }, acme: undefined });
});
