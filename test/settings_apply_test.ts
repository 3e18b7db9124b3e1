/**
 * A settings write can never brick the installation (issue 19, item 1): a value the server cannot
 * apply is refused before it is stored, naming the limit; and a database where such a value was
 * stored anyway (by an older Postern, or by hand) still opens with the CLI to repair it, while
 * `postern serve` refuses to start, naming the setting and the command that fixes it.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { ARGON2_LIMITS } from "../src/model/objects/mod.ts";
import { InvalidInputError } from "../src/model/errors.ts";
import { openServices, type ServiceOptions } from "../src/services.ts";
import { ADMIN_PASSWORD, basic, cli, PASSWORD, startServerProcess } from "./helpers.ts";
import { adminCallAt, createUser, notUpdated, withApp } from "./jmap_helpers.ts";

/** What the settings row holds, read as another process would. */
function storedRow(dataDir: string, key: string): Record<string, unknown> | undefined {
  const db = new DatabaseSync(`${dataDir}/postern.db`, { readOnly: true });
  try {
    const row = db.prepare("SELECT value FROM settings WHERE key = ?").get(key) as
      | { value: string }
      | undefined;
    return row ? JSON.parse(row.value) : undefined;
  } finally {
    db.close();
  }
}

/** Writes a settings field straight into the row, as an older Postern could have. */
function storeRaw(dataDir: string, key: string, field: string, value: unknown): void {
  const db = new DatabaseSync(`${dataDir}/postern.db`);
  try {
    const row = db.prepare("SELECT value FROM settings WHERE key = ?").get(key) as
      | { value: string }
      | undefined;
    const next = { ...(row ? JSON.parse(row.value) : {}), [field]: value };
    db.prepare(
      `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    ).run(key, JSON.stringify(next), Date.now());
  } finally {
    db.close();
  }
}

Deno.test("an Argon2 memory past the hasher's limit is refused by name, nothing is stored, and logins keep working", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-settings-" });
  const server = await startServerProcess(dataDir);
  try {
    const before = storedRow(dataDir, "Authentication");
    const refused = await adminCallAt(server.url, "x:Authentication/set", {
      update: { singleton: { argon2MemoryKiB: 2_000_000 } },
    });
    assert.equal(refused.updated, null, JSON.stringify(refused));
    const error = refused.notUpdated?.singleton;
    assert.equal(error?.type, "invalidProperties", JSON.stringify(refused));
    assert.deepEqual(error.properties, ["argon2MemoryKiB"]);
    assert.match(error.description, new RegExp(String(ARGON2_LIMITS.memoryKiB.max)));
    assert.deepEqual(storedRow(dataDir, "Authentication"), before, "nothing stored");

    // The server still applies what it had: a password login works, and the settings read unchanged.
    const got = await adminCallAt(server.url, "x:Authentication/get", { ids: ["singleton"] });
    assert.equal(got.list[0].argon2MemoryKiB, 19_456);
    const account = await fetch(`${server.url}/api/account`, {
      headers: { authorization: basic("admin@example.org", ADMIN_PASSWORD) },
    });
    await account.body?.cancel();
    assert.equal(account.status, 200);

    // A value inside every limit is applied at once: a new password is hashed with it.
    const changed = await adminCallAt(server.url, "x:Authentication/set", {
      update: { singleton: { argon2MemoryKiB: 12_288 } },
    });
    assert.equal(changed.notUpdated, null, JSON.stringify(changed));
    const created = await adminCallAt(server.url, "x:Account/set", {
      create: {
        u: {
          "@type": "User",
          name: "frank",
          domainId: "b",
          credentials: { "0": { "@type": "Password", secret: PASSWORD } },
        },
      },
    });
    assert.equal(created.notCreated, null, JSON.stringify(created.notCreated));
    const login = await fetch(`${server.url}/api/account`, {
      headers: { authorization: basic("frank@example.org", PASSWORD) },
    });
    await login.body?.cancel();
    assert.equal(login.status, 200);
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
  }
});

Deno.test("a database holding an Argon2 memory past the limit opens with the CLI to repair it, and serve names the setting and the fix", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-settings-" });
  try {
    const first = await startServerProcess(dataDir);
    await first.stop();
    storeRaw(dataDir, "Authentication", "argon2MemoryKiB", 2_000_000);
    const data = ["--data", dataDir];

    // serve refuses to start, naming the setting, its value, the limit and the command.
    await assert.rejects(startServerProcess(dataDir), (error: Error) => {
      assert.match(error.message, /Authentication\.argon2MemoryKiB/);
      assert.match(error.message, /2000000/);
      assert.match(error.message, new RegExp(String(ARGON2_LIMITS.memoryKiB.max)));
      assert.match(error.message, /postern update authentication singleton --field argon2MemoryKiB=19456/);
      return true;
    });

    // The CLI opens the database: it reads the setting (warning about the stored value)...
    const got = await cli(["get", "authentication", "singleton", "--json", ...data]);
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stderr, /Authentication\.argon2MemoryKiB/);
    assert.equal(JSON.parse(got.stdout).argon2MemoryKiB, 19_456, "the value in effect: the default");
    const queried = await cli(["query", "authentication", "--json", ...data]);
    assert.equal(queried.code, 0, queried.stderr);
    const checked = await cli(["db", "check", ...data]);
    assert.equal(checked.code, 0, checked.stderr);
    assert.match(checked.stdout, /Database OK/);

    // ...and repairs it.
    const repaired = await cli([
      "update",
      "authentication",
      "singleton",
      "--field",
      "argon2MemoryKiB=19456",
      ...data,
    ]);
    assert.equal(repaired.code, 0, repaired.stderr);
    assert.equal(storedRow(dataDir, "Authentication")?.argon2MemoryKiB, 19_456);
    const clean = await cli(["get", "authentication", "singleton", "--json", ...data]);
    assert.equal(clean.stderr, "", "no warning once repaired");

    const server = await startServerProcess(dataDir);
    try {
      const account = await fetch(`${server.url}/api/account`, {
        headers: { authorization: basic("admin@example.org", ADMIN_PASSWORD) },
      });
      await account.body?.cancel();
      assert.equal(account.status, 200);
    } finally {
      await server.stop();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
  }
});

/** Runs `body` on services over a new database; `warnings` collects what they warn about. */
async function withServices(
  options: Partial<ServiceOptions>,
  body: (
    open: (more?: Partial<ServiceOptions>) => ReturnType<typeof openServices>,
    warnings: string[],
  ) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "postern-settings-" });
  const warnings: string[] = [];
  const opened: Awaited<ReturnType<typeof openServices>>[] = [];
  const open = async (more: Partial<ServiceOptions> = {}) => {
    const services = await openServices({
      databasePath: `${dir}/postern.db`,
      encryptionKey: new Uint8Array(64).fill(7),
      hashWorkers: 1,
      warn: (message) => warnings.push(message),
      ...options,
      ...more,
    });
    opened.push(services);
    return services;
  };
  try {
    await body(open, warnings);
  } finally {
    for (const services of opened) await services.close();
    await Deno.remove(dir, { recursive: true }).catch(() => undefined);
  }
}

Deno.test("Argon2 memory this machine cannot give every hash worker at once is refused, naming the property, and not stored", () =>
  withServices({ argon2Trial: { totalMemoryBytes: 256 * 1024 * 1024 } }, async (open) => {
    const services = await open();
    const before = await services.store.settings.get("Authentication");
    const error = await services.settings.update("Authentication", { argon2MemoryKiB: 200 * 1024 })
      .then(() => undefined, (e) => e);
    assert.ok(error instanceof InvalidInputError, String(error));
    assert.deepEqual(error.problems.map((p) => p.property), ["argon2MemoryKiB"]);
    assert.match(error.message, /more than this machine can give/);
    assert.deepEqual(await services.store.settings.get("Authentication"), before);
    // The hasher in force is the old one: a new hash has the old parameters.
    assert.match(await services.hashing.hash("a password"), /\$m=19456,t=2,p=1\$/);
  }));

Deno.test("a slow Argon2 setting is applied with a warning giving the measured time of one hash", () =>
  withServices({ argon2Trial: { slowHashMs: 0 } }, async (open, warnings) => {
    const services = await open();
    await services.settings.update("Authentication", { argon2MemoryKiB: 8192, argon2Iterations: 1 });
    assert.ok(
      warnings.some((w) => /^Argon2 parameters m=8192,t=1,p=1 take \d+ ms per hash on this machine/.test(w)),
      warnings.join("\n"),
    );
    assert.match(await services.hashing.hash("a password"), /\$m=8192,t=1,p=1\$/);
  }));

Deno.test("a stored value its schema refuses reads as the default in every settings object, and says how to fix it", () =>
  withServices({}, async (open, warnings) => {
    let services = await open();
    const key = (await services.store.settings.get("OidcProvider") as Record<string, unknown>).encryptionKey;
    const raw: Record<string, Record<string, unknown>> = {
      Cache: { maxEntries: -1, ttlSeconds: 60 },
      Authentication: { argon2Iterations: 1000, failedLoginWindowSeconds: "soon" },
      OidcProvider: { encryptionKey: key, accessTokenExpiry: "forever" },
      Sharing: { principalScope: "everyone" },
      Smarthost: { port: 70_000, host: "smtp.example.net" },
    };
    for (const [name, value] of Object.entries(raw)) await services.store.settings.put(name, value);
    await services.close();

    services = await open();
    assert.equal((await services.settings.get("Cache")).maxEntries, 50_000);
    assert.equal(
      (await services.settings.get("Cache")).ttlSeconds,
      60,
      "a good value next to a bad one stays",
    );
    assert.equal((await services.settings.get("Authentication")).argon2Iterations, 2);
    assert.equal((await services.settings.get("OidcProvider")).accessTokenExpiry, "1h");
    assert.deepEqual((await services.settings.get("OidcProvider")).encryptionKey, key, "the key is kept");
    assert.equal((await services.settings.get("Sharing")).principalScope, "domain");
    assert.equal((await services.settings.get("Smarthost")).port, 587);
    const problems = await services.settings.problems();
    assert.deepEqual(problems.map((p) => p.setting).sort(), [
      "Authentication.argon2Iterations",
      "Authentication.failedLoginWindowSeconds",
      "Cache.maxEntries",
      "OidcProvider.accessTokenExpiry",
      "Sharing.principalScope",
      "Smarthost.port",
    ]);
    assert.equal(
      problems.find((p) => p.setting === "OidcProvider.accessTokenExpiry")?.fix,
      "postern update oidc-provider singleton --field accessTokenExpiry=1h",
    );
    assert.match(problems.find((p) => p.setting === "Authentication.argon2Iterations")!.reason, /at most 64/);
    // Each is told once, however often it is read.
    assert.equal(warnings.filter((w) => w.startsWith("Sharing.principalScope")).length, 1);
    // Storing any change of the object stores the defaults in place of what could not be used.
    await services.settings.update("Sharing", {});
    assert.deepEqual(await services.settings.problems("Sharing"), []);
  }));

Deno.test("a running server that learns of an unusable Argon2 value from another process keeps hashing", () =>
  withServices({}, async (open) => {
    const server = await open();
    const other = await open();
    await server.settings.update("Authentication", { argon2MemoryKiB: 8192 });
    // As an older Postern would: the value and its invalidation, without any check.
    await other.store.transaction(async () => {
      const stored = await other.store.settings.get("Authentication") as Record<string, unknown>;
      await other.store.settings.put("Authentication", { ...stored, argon2MemoryKiB: 2_000_000 });
      await other.store.invalidations.append([{ kind: "settings", name: "Authentication" }]);
    });
    await server.sync();
    const phc = await server.hashing.hash("a password");
    assert.match(phc, /\$m=19456,t=2,p=1\$/, "the default, not the unusable value");
    assert.equal(await server.hashing.verify(phc, "a password"), true);
  }));

Deno.test("at a server's start, Argon2 settings past what this machine can do are warned about, with the measured hash time", () =>
  withServices(
    { argon2Trial: { totalMemoryBytes: 16 * 1024 * 1024, slowHashMs: 0 } },
    async (open, warnings) => {
      const services = await open();
      await services.checkHashCost();
      assert.ok(
        warnings.some((w) =>
          /^Authentication\.argon2MemoryKiB: memoryKiB 19456 is more than this machine can give/.test(w)
        ),
        warnings.join("\n"),
      );
      assert.ok(
        warnings.some((w) =>
          /^Argon2 parameters m=19456,t=2,p=1 take \d+ ms per hash on this machine/.test(w)
        ),
        warnings.join("\n"),
      );
    },
  ));

Deno.test("a plain user's change of the Argon2 settings is forbidden before any limit or trial is looked at", () =>
  withApp(async (t) => {
    const user = await createUser(t, "gail");
    const before = await t.services.store.settings.get("Authentication");
    for (const argon2MemoryKiB of [2_000_000, 12_288]) {
      const error = await notUpdated(t, "x:Authentication", "singleton", { argon2MemoryKiB }, user);
      assert.equal(error.type, "forbidden", JSON.stringify(error));
    }
    assert.deepEqual(await t.services.store.settings.get("Authentication"), before);
  }));
