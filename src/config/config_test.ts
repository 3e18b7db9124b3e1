import assert from "node:assert/strict";
import { type Config, ConfigError, type ConfigInput, ENVIRONMENT, resolveConfig } from "./config.ts";
import { IMAP_DEFAULTS, type ImapConfigInput } from "./imap_config.ts";
import { SMTP_DEFAULTS, type SmtpConfigInput } from "./smtp_config.ts";
import type { TlsConfigInput } from "./tls_config.ts";
import { resolveReadWorkers } from "./read_workers_config.ts";

/**
 * Asserts that `value`, given as the flag and (unless empty, which may reasonably mean "unset") as
 * the environment variable, fails with a ConfigError whose message quotes it and says what it is.
 */
function assertRefused(flag: keyof ConfigInput, variable: string, value: string, what: RegExp): void {
  assertRefusedBy({ [flag]: value }, {}, value, what);
  if (value !== "") assertRefusedBy({}, { [variable]: value }, value, what);
}

function assertRefusedBy(input: ConfigInput, env: Record<string, string>, value: string, what: RegExp): void {
  const context = JSON.stringify({ input, env });
  assert.throws(() => resolveConfig(input, env), (error: unknown) => {
    assert.ok(error instanceof ConfigError, `${context}: ${error}`);
    // Values are normalised (lower or upper case) before checking; the message quotes that form.
    assert.ok(
      error.message.toLowerCase().includes(`"${value.toLowerCase()}"`),
      `${context}: message does not quote "${value}": ${error.message}`,
    );
    assert.match(error.message, what, context);
    return true;
  });
}

Deno.test("with no flags and no environment every setting has its documented default", () => {
  const config = resolveConfig({}, {});
  const expected: Config = {
    dataDir: "./data",
    databasePath: "./data/postern.db",
    hostname: "127.0.0.1",
    port: 8080,
    domain: "localhost",
    adminPassword: undefined,
    encryptionKey: { kind: "file", path: "./data/encryption.key" },
    logLevel: "info",
    trustedProxies: [],
    maxBodyBytes: 10_485_760,
    synchronous: "NORMAL",
    busyTimeoutMs: 5000,
    publicUrl: undefined,
    corsOrigins: [],
    corsMaxAgeSeconds: 7200,
    pushPrivateTargets: false,
    shutdownGraceSeconds: 10,
    maxConnections: undefined,
    maxConnectionsPerAddress: 64,
    headerTimeoutSeconds: 30,
    idleTimeoutSeconds: 120,
    migrationBackup: true,
    smtp: {
      listen: undefined,
      submissionListen: undefined,
      submissionsListen: undefined,
      tlsCertFile: undefined,
      tlsKeyFile: undefined,
      ...SMTP_DEFAULTS,
    },
    imap: { listen: undefined, secureListen: undefined, ...IMAP_DEFAULTS },
    dnsServers: [],
    mailHost: undefined,
    tls: { httpsListen: undefined, acme: undefined },
    // One process unless asked for more (--processes auto: one per core, processes_config_test.ts).
    processes: 1,
    reusePort: false,
    // One read worker per core, up to 4 (read_workers_config_test.ts).
    readWorkers: resolveReadWorkers("auto"),
  };
  assert.deepEqual(config, expected);
});

Deno.test("every documented environment variable is read", () => {
  const config = resolveConfig({}, {
    POSTERN_DATA: "/srv/postern",
    POSTERN_LISTEN: "0.0.0.0:9000",
    POSTERN_DOMAIN: "example.org",
    POSTERN_ADMIN_PASSWORD: "from the environment",
    POSTERN_ENCRYPTION_KEY_FILE: "/run/secrets/postern.key",
    POSTERN_LOG_LEVEL: "debug",
    POSTERN_TRUSTED_PROXIES: " 10.0.0.1 , ,10.0.0.2",
    POSTERN_MAX_BODY_BYTES: "2048",
    POSTERN_SYNCHRONOUS: "FULL",
    POSTERN_BUSY_TIMEOUT_MS: "250",
    POSTERN_PUBLIC_URL: "https://mail.example.org",
    POSTERN_CORS_ORIGINS: "https://webmail.example.org, http://localhost:5173",
    POSTERN_CORS_MAX_AGE: "600",
    POSTERN_PUSH_PRIVATE_TARGETS: "allow",
    POSTERN_SHUTDOWN_GRACE: "30",
    POSTERN_MAX_CONNECTIONS: "10000",
    POSTERN_MAX_CONNECTIONS_PER_ADDRESS: "20",
    POSTERN_HEADER_TIMEOUT: "10",
    POSTERN_IDLE_TIMEOUT: "300",
    POSTERN_SMTP_LISTEN: "0.0.0.0:25",
    POSTERN_SUBMISSION_LISTEN: "0.0.0.0:587",
    POSTERN_SUBMISSIONS_LISTEN: "0.0.0.0:465",
    POSTERN_TLS_CERT: "/etc/postern/cert.pem",
    POSTERN_TLS_KEY: "/etc/postern/key.pem",
    POSTERN_SMTP_MAX_MESSAGE_BYTES: "5000000",
    POSTERN_SMTP_MAX_RECIPIENTS: "150",
    POSTERN_SMTP_MAX_CONNECTIONS: "300",
    POSTERN_SMTP_MAX_CONNECTIONS_PER_ADDRESS: "5",
    POSTERN_SMTP_MAX_ERRORS: "9",
    POSTERN_SMTP_COMMAND_TIMEOUT: "120",
    POSTERN_SMTP_DATA_TIMEOUT: "240",
    POSTERN_DNS_SERVER: "127.0.0.1:5353,[::1]:53",
    POSTERN_SMTP_MAX_COMMANDS_BEFORE_MAIL: "50",
    POSTERN_MAIL_HOST: "Mail.Example.org.",
    POSTERN_HTTPS_LISTEN: "0.0.0.0:443",
    POSTERN_IMAP_LISTEN: "0.0.0.0:143",
    POSTERN_IMAPS_LISTEN: "0.0.0.0:993",
    POSTERN_IMAP_MAX_CONNECTIONS: "400",
    POSTERN_IMAP_MAX_CONNECTIONS_PER_ADDRESS: "7",
    POSTERN_IMAP_MAX_ERRORS: "8",
    POSTERN_IMAP_LOGIN_TIMEOUT: "30",
    POSTERN_IMAP_IDLE_TIMEOUT: "3600",
    POSTERN_PROCESSES: "1",
    POSTERN_READ_WORKERS: "3",
  });
  assert.deepEqual(config, {
    dataDir: "/srv/postern",
    databasePath: "/srv/postern/postern.db",
    hostname: "0.0.0.0",
    port: 9000,
    domain: "example.org",
    adminPassword: "from the environment",
    encryptionKey: { kind: "file", path: "/run/secrets/postern.key" },
    logLevel: "debug",
    trustedProxies: ["10.0.0.1", "10.0.0.2"],
    maxBodyBytes: 2048,
    synchronous: "FULL",
    busyTimeoutMs: 250,
    publicUrl: "https://mail.example.org",
    corsOrigins: ["https://webmail.example.org", "http://localhost:5173"],
    corsMaxAgeSeconds: 600,
    pushPrivateTargets: true,
    shutdownGraceSeconds: 30,
    maxConnections: 10_000,
    maxConnectionsPerAddress: 20,
    headerTimeoutSeconds: 10,
    idleTimeoutSeconds: 300,
    migrationBackup: true,
    smtp: {
      listen: { hostname: "0.0.0.0", port: 25 },
      submissionListen: { hostname: "0.0.0.0", port: 587 },
      submissionsListen: { hostname: "0.0.0.0", port: 465 },
      tlsCertFile: "/etc/postern/cert.pem",
      tlsKeyFile: "/etc/postern/key.pem",
      maxMessageBytes: 5_000_000,
      maxRecipients: 150,
      maxConnections: 300,
      maxConnectionsPerAddress: 5,
      maxErrors: 9,
      maxCommandsBeforeMail: 50,
      commandTimeoutSeconds: 120,
      dataTimeoutSeconds: 240,
    },
    imap: {
      listen: { hostname: "0.0.0.0", port: 143 },
      secureListen: { hostname: "0.0.0.0", port: 993 },
      maxConnections: 400,
      maxConnectionsPerAddress: 7,
      maxErrors: 8,
      loginTimeoutSeconds: 30,
      idleTimeoutSeconds: 3600,
    },
    dnsServers: ["127.0.0.1:5353", "[::1]:53"],
    mailHost: "mail.example.org",
    // The ACME variables: tls_config_test.ts (ACME and certificate files exclude each other).
    tls: { httpsListen: { hostname: "0.0.0.0", port: 443 }, acme: undefined },
    processes: 1,
    reusePort: false,
    readWorkers: 3,
  });
  assert.throws(() => resolveConfig({}, { POSTERN_PUSH_PRIVATE_TARGETS: "yes" }), /allow or deny/);
  const withKey = resolveConfig({}, { POSTERN_ENCRYPTION_KEY: "a".repeat(44) });
  assert.deepEqual(withKey.encryptionKey, { kind: "env", name: "POSTERN_ENCRYPTION_KEY" });
  // Every variable used above is one ENVIRONMENT documents for --help.
  for (
    const name of [
      "POSTERN_DATA",
      "POSTERN_ENCRYPTION_KEY",
      "POSTERN_PUBLIC_URL",
      "POSTERN_PUSH_PRIVATE_TARGETS",
      "POSTERN_MAX_CONNECTIONS",
      "POSTERN_MAX_CONNECTIONS_PER_ADDRESS",
      "POSTERN_HEADER_TIMEOUT",
      "POSTERN_IDLE_TIMEOUT",
      "POSTERN_SMTP_LISTEN",
      "POSTERN_SUBMISSION_LISTEN",
      "POSTERN_SUBMISSIONS_LISTEN",
      "POSTERN_TLS_CERT",
      "POSTERN_SMTP_DATA_TIMEOUT",
      "POSTERN_DNS_SERVER",
    ]
  ) {
    assert.ok(name in ENVIRONMENT, name);
  }
});

Deno.test("a flag wins over its environment variable, which wins over the default", () => {
  const env = {
    POSTERN_DATA: "/env/data",
    POSTERN_LISTEN: "10.0.0.1:1111",
    POSTERN_DOMAIN: "env.example",
    POSTERN_LOG_LEVEL: "error",
    POSTERN_TRUSTED_PROXIES: "10.9.9.9",
    POSTERN_MAX_BODY_BYTES: "4096",
    POSTERN_SYNCHRONOUS: "FULL",
    POSTERN_PUBLIC_URL: "https://env.example",
    POSTERN_CORS_ORIGINS: "https://env.example",
    POSTERN_MAX_CONNECTIONS: "100",
    POSTERN_MAX_CONNECTIONS_PER_ADDRESS: "10",
    POSTERN_HEADER_TIMEOUT: "5",
    POSTERN_IDLE_TIMEOUT: "50",
    POSTERN_DNS_SERVER: "192.0.2.53",
    POSTERN_MAIL_HOST: "mx.env.example",
    POSTERN_PROCESSES: "1",
    POSTERN_READ_WORKERS: "3",
  };
  const flags: ConfigInput = {
    data: "/flag/data",
    listen: "[::1]:2222",
    domain: "flag.example",
    logLevel: "warning",
    trustedProxy: ["192.0.2.1"],
    maxBodyBytes: "8192",
    synchronous: "NORMAL",
    publicUrl: "https://flag.example",
    corsOrigin: ["https://flag.example"],
    maxConnections: "200",
    maxConnectionsPerAddress: "20",
    headerTimeout: "6",
    idleTimeout: "60",
    backup: false,
    dnsServer: "127.0.0.1:5353",
    mailHost: "mx.flag.example",
    processes: "auto",
    readWorkers: "0",
  };
  const config = resolveConfig(flags, env);
  assert.equal(config.dataDir, "/flag/data");
  assert.equal(config.databasePath, "/flag/data/postern.db");
  assert.deepEqual(config.encryptionKey, { kind: "file", path: "/flag/data/encryption.key" });
  assert.equal(config.hostname, "::1");
  assert.equal(config.port, 2222);
  assert.equal(config.domain, "flag.example");
  assert.equal(config.logLevel, "warning");
  assert.deepEqual(config.trustedProxies, ["192.0.2.1"]);
  assert.equal(config.maxBodyBytes, 8192);
  assert.equal(config.synchronous, "NORMAL");
  assert.equal(config.publicUrl, "https://flag.example");

  // Each flag on its own overrides only the settings it is for; the rest still come from the environment
  // (the SMTP flags: smtp_config_test.ts; HTTPS and ACME: tls_config_test.ts; IMAP: the test below).
  const affects: Record<
    Exclude<keyof ConfigInput, keyof SmtpConfigInput | keyof TlsConfigInput | keyof ImapConfigInput>,
    (keyof Config)[]
  > = {
    data: ["dataDir", "databasePath", "encryptionKey"],
    listen: ["hostname", "port"],
    domain: ["domain"],
    logLevel: ["logLevel"],
    trustedProxy: ["trustedProxies"],
    maxBodyBytes: ["maxBodyBytes"],
    synchronous: ["synchronous"],
    publicUrl: ["publicUrl"],
    corsOrigin: ["corsOrigins"],
    maxConnections: ["maxConnections"],
    maxConnectionsPerAddress: ["maxConnectionsPerAddress"],
    headerTimeout: ["headerTimeoutSeconds"],
    idleTimeout: ["idleTimeoutSeconds"],
    backup: ["migrationBackup"],
    dnsServer: ["dnsServers"],
    mailHost: ["mailHost"],
    processes: ["processes", "reusePort"],
    readWorkers: ["readWorkers"],
  };
  const fromEnv = resolveConfig({}, env);
  for (const flag of Object.keys(affects) as (keyof typeof affects)[]) {
    const one = resolveConfig({ [flag]: flags[flag] }, env);
    for (const key of Object.keys(config) as (keyof Config)[]) {
      const expected = affects[flag].includes(key) ? config[key] : fromEnv[key];
      assert.deepEqual(one[key], expected, `--${flag} alone: ${key}`);
    }
  }
});

Deno.test("log level, synchronous mode and domain are accepted in any case", () => {
  const config = resolveConfig({ logLevel: "DEBUG", synchronous: "full", domain: "Mail.Example.ORG" }, {});
  assert.equal(config.logLevel, "debug");
  assert.equal(config.synchronous, "FULL");
  assert.equal(config.domain, "mail.example.org");
});

Deno.test("listen addresses with IPv4, IPv6 and host names are split into host and port", () => {
  const cases: [string, string, number][] = [
    ["127.0.0.1:8080", "127.0.0.1", 8080],
    ["0.0.0.0:1", "0.0.0.0", 1],
    ["[::1]:8080", "::1", 8080],
    ["[::]:443", "::", 443],
    ["mail.example.org:65535", "mail.example.org", 65535],
    ["localhost:25", "localhost", 25],
  ];
  for (const [listen, hostname, port] of cases) {
    const config = resolveConfig({ listen }, {});
    assert.equal(config.hostname, hostname, listen);
    assert.equal(config.port, port, listen);
  }
});

Deno.test("an invalid listen address is refused naming it", () => {
  const bad = [
    "8080",
    "localhost",
    "127.0.0.1",
    "127.0.0.1:",
    ":8080",
    "host:65536",
    "host:123456",
    "host:http",
  ];
  bad.push("a b:80", "::1:8080", "[::1]8080", "host:80:80", "");
  for (const listen of bad) {
    assertRefused("listen", "POSTERN_LISTEN", listen, /listen address/);
  }
});

Deno.test("an invalid log level is refused naming it", () => {
  for (const logLevel of ["verbose", "warn", "trace", "", "info "]) {
    assertRefused("logLevel", "POSTERN_LOG_LEVEL", logLevel, /log level/);
  }
});

Deno.test("an invalid synchronous mode is refused naming it", () => {
  for (const synchronous of ["OFF", "EXTRA", "normal1", "", "1"]) {
    assertRefused("synchronous", "POSTERN_SYNCHRONOUS", synchronous, /synchronous mode/);
  }
});

Deno.test("an invalid busy timeout is refused naming it", () => {
  for (const value of ["", "-1", "1.5", "soon", "60001"]) {
    assertRefusedBy({}, { POSTERN_BUSY_TIMEOUT_MS: value }, value, /POSTERN_BUSY_TIMEOUT_MS/);
  }
});

Deno.test("an invalid body size is refused naming it", () => {
  for (const maxBodyBytes of ["abc", "1023", "0", "-5", "1.5", "", "10MB", "99999999999999999999"]) {
    assertRefused("maxBodyBytes", "POSTERN_MAX_BODY_BYTES", maxBodyBytes, /max body size/);
  }
  assert.equal(resolveConfig({ maxBodyBytes: "1024" }, {}).maxBodyBytes, 1024);
});

Deno.test("invalid connection limits and timeouts are refused naming them", () => {
  const bad = ["abc", "0", "-5", "1.5", "10s", "99999999999999999999"];
  for (const value of bad) {
    assertRefused("maxConnections", "POSTERN_MAX_CONNECTIONS", value, /max connections/);
    assertRefused(
      "maxConnectionsPerAddress",
      "POSTERN_MAX_CONNECTIONS_PER_ADDRESS",
      value,
      /max connections per address/,
    );
    assertRefused("headerTimeout", "POSTERN_HEADER_TIMEOUT", value, /header timeout/);
    assertRefused("idleTimeout", "POSTERN_IDLE_TIMEOUT", value, /idle timeout/);
  }
  assertRefused("headerTimeout", "POSTERN_HEADER_TIMEOUT", "3601", /header timeout/);
  assertRefused("maxConnectionsPerAddress", "POSTERN_MAX_CONNECTIONS_PER_ADDRESS", "", /per address/);
  // An empty POSTERN_MAX_CONNECTIONS means unset: the default that fits the open-file limit.
  assert.equal(resolveConfig({}, { POSTERN_MAX_CONNECTIONS: "" }).maxConnections, undefined);
  assert.equal(resolveConfig({ idleTimeout: "1", headerTimeout: "1" }, {}).idleTimeoutSeconds, 1);
});

Deno.test("an invalid public URL is refused naming it", () => {
  const bad = ["not a url", "/relative/path", "//mail.example.org", "https://", "", "mail.example.org:443"];
  for (const publicUrl of [...bad, "localhost:8080", "javascript:alert(1)", "ftp://example.org"]) {
    assertRefused("publicUrl", "POSTERN_PUBLIC_URL", publicUrl, /public URL/);
  }
});

Deno.test("an invalid domain is refused naming it", () => {
  const bad = ["bad_domain!", "-example.org", "example-.org", "example..org", ".example.org", "example.org."];
  bad.push(
    "exa mple.org",
    "",
    "a".repeat(254),
    "mail@example.org",
    "example.org:25",
    "a".repeat(70) + ".org",
  );
  for (const domain of bad) {
    assertRefused("domain", "POSTERN_DOMAIN", domain, /domain/);
  }
});

Deno.test("an invalid mail host is refused naming it; unset, it is the public URL's host or none", () => {
  for (
    const host of ["", "mail host", "mail_host.example.org", "-mail.example.org", "a".repeat(254), "mail@x"]
  ) {
    assertRefused("mailHost", "POSTERN_MAIL_HOST", host, /--mail-host.*host name/);
  }
  assert.equal(resolveConfig({ mailHost: "MX.Example.org." }, {}).mailHost, "mx.example.org");
  assert.equal(
    resolveConfig({}, { POSTERN_PUBLIC_URL: "https://Mail.example.org:8443/" }).mailHost,
    "mail.example.org",
  );
  assert.equal(resolveConfig({}, { POSTERN_MAIL_HOST: "" }).mailHost, undefined);
});

Deno.test("an invalid shutdown grace is refused naming it, and 0 to 3600 seconds are taken", () => {
  for (const grace of ["-1", "3601", "1.5", "ten", "1e3", " 5", "99999999999999999999"]) {
    assertRefusedBy({}, { POSTERN_SHUTDOWN_GRACE: grace }, grace, /POSTERN_SHUTDOWN_GRACE.*0 to 3600/);
  }
  assert.equal(resolveConfig({}, { POSTERN_SHUTDOWN_GRACE: "0" }).shutdownGraceSeconds, 0);
  assert.equal(resolveConfig({}, { POSTERN_SHUTDOWN_GRACE: "3600" }).shutdownGraceSeconds, 3600);
  assert.equal(resolveConfig({}, { POSTERN_SHUTDOWN_GRACE: "" }).shutdownGraceSeconds, 10);
});

Deno.test("IMAP listeners need TLS, and the autologout timer is at least 30 minutes", () => {
  assert.throws(
    () => resolveConfig({ imapListen: "127.0.0.1:143" }, {}),
    /Cannot start --imap-listen \(POSTERN_IMAP_LISTEN\): IMAP needs TLS/,
  );
  assert.throws(() => resolveConfig({}, { POSTERN_IMAPS_LISTEN: "127.0.0.1:993" }), /IMAP needs TLS/);
  const tls = { tlsCert: "/c.pem", tlsKey: "/k.pem" };
  assert.deepEqual(resolveConfig({ ...tls, imapsListen: "[::1]:993" }, {}).imap.secureListen, {
    hostname: "::1",
    port: 993,
  });
  assert.throws(
    () => resolveConfig({ ...tls, imapIdleTimeout: "600" }, {}),
    /Invalid --imap-idle-timeout \(POSTERN_IMAP_IDLE_TIMEOUT\) "600": a whole number from 1800/,
  );
  assert.throws(() => resolveConfig({ imapMaxErrors: "0" }, {}), /--imap-max-errors/);
});
