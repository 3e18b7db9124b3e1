import assert from "node:assert/strict";
import { ConfigError, resolveConfig } from "./config.ts";

Deno.test("without --smtp-listen there is no SMTP listener", () => {
  assert.equal(resolveConfig({}, {}).smtp.listen, undefined);
});

Deno.test("SMTP flags win over their environment variables", () => {
  const env = {
    POSTERN_SMTP_LISTEN: "0.0.0.0:25",
    POSTERN_SMTP_MAX_RECIPIENTS: "50",
    POSTERN_SMTP_DATA_TIMEOUT: "30",
    POSTERN_TLS_CERT: "/env/cert.pem",
    POSTERN_TLS_KEY: "/env/key.pem",
  };
  const fromEnv = resolveConfig({}, env).smtp;
  assert.deepEqual(fromEnv.listen, { hostname: "0.0.0.0", port: 25 });
  assert.equal(fromEnv.maxRecipients, 50);
  assert.equal(fromEnv.dataTimeoutSeconds, 30);
  assert.equal(fromEnv.tlsCertFile, "/env/cert.pem");
  const flags =
    resolveConfig({ smtpListen: "[::1]:2525", smtpMaxRecipients: "7", smtpMaxErrors: "3" }, env).smtp;
  assert.deepEqual(flags.listen, { hostname: "::1", port: 2525 });
  assert.equal(flags.maxRecipients, 7);
  assert.equal(flags.maxErrors, 3);
});

Deno.test("bad SMTP settings are refused naming the flag, the variable and the value", () => {
  const cases: [Record<string, string>, Record<string, string>, RegExp][] = [
    [{ smtpListen: "nowhere" }, {}, /listen address "nowhere"/],
    [{ smtpMaxRecipients: "0" }, {}, /--smtp-max-recipients \(POSTERN_SMTP_MAX_RECIPIENTS\) "0"/],
    [{}, { POSTERN_SMTP_MAX_MESSAGE_BYTES: "12x" }, /POSTERN_SMTP_MAX_MESSAGE_BYTES\) "12x"/],
    [{}, { POSTERN_SMTP_COMMAND_TIMEOUT: "-1" }, /--smtp-command-timeout/],
    [{ tlsCert: "/c.pem" }, {}, /--tls-cert and --tls-key go together/],
  ];
  for (const [flags, env, message] of cases) {
    assert.throws(() => resolveConfig(flags, env), (error: Error) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(error.message, message);
      return true;
    });
  }
});

Deno.test("the submission listeners come from their flags or variables and need the certificate files", () => {
  const tls = { POSTERN_TLS_CERT: "/c.pem", POSTERN_TLS_KEY: "/k.pem" };
  const none = resolveConfig({}, tls).smtp;
  assert.equal(none.submissionListen, undefined);
  assert.equal(none.submissionsListen, undefined);
  const fromEnv = resolveConfig({}, {
    ...tls,
    POSTERN_SUBMISSION_LISTEN: "0.0.0.0:587",
    POSTERN_SUBMISSIONS_LISTEN: "0.0.0.0:465",
  }).smtp;
  assert.deepEqual(fromEnv.submissionListen, { hostname: "0.0.0.0", port: 587 });
  assert.deepEqual(fromEnv.submissionsListen, { hostname: "0.0.0.0", port: 465 });
  const flags = resolveConfig({ submissionListen: "127.0.0.1:2587" }, {
    ...tls,
    POSTERN_SUBMISSION_LISTEN: "0.0.0.0:587",
  }).smtp;
  assert.deepEqual(flags.submissionListen, { hostname: "127.0.0.1", port: 2587 });
  assert.throws(
    () => resolveConfig({ submissionsListen: "127.0.0.1:465" }, {}),
    (error: Error) =>
      error instanceof ConfigError &&
      /^Cannot start --submissions-listen \(POSTERN_SUBMISSIONS_LISTEN\): submission needs TLS/.test(
        error.message,
      ),
  );
  assert.throws(() => resolveConfig({ submissionListen: "nowhere" }, tls), /listen address "nowhere"/);
});
