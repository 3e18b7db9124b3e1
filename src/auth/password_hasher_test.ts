import assert from "node:assert/strict";
import { argon2id } from "hash-wasm";
import { ARGON2_LIMITS } from "../model/argon2_limits.ts";
import { DEFAULT_ARGON2, isArgon2idPhc, PasswordHasher } from "./password_hasher.ts";

Deno.test("a hashed password verifies and yields a standard Argon2id PHC string", async () => {
  using hasher = new PasswordHasher();
  const phc = await hasher.hash("correct horse battery staple");
  assert.match(phc, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.equal(await hasher.verify(phc, "correct horse battery staple"), true);
});

Deno.test("two hashes of one password differ because each gets a fresh salt", async () => {
  using hasher = new PasswordHasher({ memoryKiB: 64, iterations: 1 });
  assert.notEqual(await hasher.hash("same"), await hasher.hash("same"));
});

Deno.test("a wrong password does not verify", async () => {
  using hasher = new PasswordHasher();
  const phc = await hasher.hash("correct horse battery staple");
  assert.equal(await hasher.verify(phc, "correct horse battery stapler"), false);
  assert.equal(await hasher.verify(phc, ""), false);
});

Deno.test("a malformed PHC string does not verify and is not accepted as an import", async () => {
  using hasher = new PasswordHasher();
  const good = await hasher.hash("secret");
  const malformed = [
    "",
    "secret",
    good.replace("$argon2id$", "$argon2i$"),
    good.replace("v=19", "v=16"),
    good.replace("m=19456", "m=abc"),
    good.replace(",t=2,p=1", ",p=1,t=2"),
    good.replace("m=19456", "m=99999999"),
    good.slice(0, -10) + "!!!!!!!!!!",
    good.slice(0, good.lastIndexOf("$")),
    `${good}$extra`,
  ];
  for (const phc of malformed) {
    assert.equal(isArgon2idPhc(phc), false, phc);
    assert.equal(await hasher.verify(phc, "secret"), false, phc);
  }
  assert.equal(isArgon2idPhc(good), true);
});

Deno.test("a PHC string made with other parameters verifies with its own parameters", async () => {
  const salt = new TextEncoder().encode("imported-salt-16");
  const imported = await argon2id({
    password: "from another server",
    salt,
    memorySize: 4096,
    iterations: 3,
    parallelism: 2,
    hashLength: 24,
    outputType: "encoded",
  });
  assert.equal(isArgon2idPhc(imported), true);
  using hasher = new PasswordHasher();
  assert.equal(await hasher.verify(imported, "from another server"), true);
  assert.equal(await hasher.verify(imported, "from another serve"), false);
});

Deno.test("a hash made by the reference Argon2 implementation verifies", async () => {
  // From the argon2-cffi README (libargon2 underneath), with four lanes: proves interoperability beyond
  // hashes that hash-wasm made itself.
  const reference =
    "$argon2id$v=19$m=65536,t=3,p=4$MIIRqgvgQbgj220jfp0MPA$YfwJSVjtjSU0zzV/P3S9nnQ/USre2wvJMjfCIjrTQbg";
  using hasher = new PasswordHasher();
  assert.equal(await hasher.verify(reference, "correct horse battery staple"), true);
  assert.equal(await hasher.verify(reference, "Tr0ub4dor&3"), false);
});

Deno.test("eight concurrent hashes all complete and verify", async () => {
  using hasher = new PasswordHasher({ workers: 2 });
  const passwords = Array.from({ length: 8 }, (_, index) => `password-${index}`);
  const hashes = await Promise.all(passwords.map((password) => hasher.hash(password)));
  assert.equal(new Set(hashes).size, 8);
  const results = await Promise.all(hashes.map((phc, index) => hasher.verify(phc, passwords[index])));
  assert.deepEqual(results, Array(8).fill(true));
});

Deno.test("the event loop keeps running while six hashes run: hashing never happens on the main thread", async () => {
  // Parameters heavy enough that a hash takes far longer than one turn of the event loop, even on a loaded
  // machine. Had hashing run on the main thread, every hash would end before the timer could fire.
  using hasher = new PasswordHasher({ workers: 2, memoryKiB: 65536, iterations: 3 });
  // Starting a worker blocks the caller once (isolate boot), so fill the pool first.
  await Promise.all([hasher.hash("warm-up-1"), hasher.hash("warm-up-2")]);
  const events: string[] = [];
  const hashes = Array.from({ length: 6 }, (_, index) =>
    hasher.hash(`concurrent-${index}`).then(() => {
      events.push("hash");
    }));
  await new Promise<void>((resolve) =>
    setTimeout(() => {
      events.push("timer");
      resolve();
    }, 0)
  );
  await Promise.all(hashes);
  assert.equal(events[0], "timer", `order: ${events.join(", ")}`);
  assert.equal(events.length, 7);
});

Deno.test("closing the hasher rejects pending and later calls", async () => {
  const hasher = new PasswordHasher({ workers: 1 });
  const pending = [hasher.hash("first"), hasher.hash("queued")];
  hasher.close();
  for (const result of await Promise.allSettled(pending)) assert.equal(result.status, "rejected");
  await assert.rejects(hasher.hash("after close"), /closed/);
});

Deno.test("invalid parameters are refused when the hasher is created", () => {
  assert.throws(() => new PasswordHasher({ memoryKiB: 4 }), /memoryKiB 4/);
  assert.throws(() => new PasswordHasher({ iterations: 0 }), /iterations 0/);
  assert.throws(() => new PasswordHasher({ workers: 0 }), /workers 0/);
  assert.equal(DEFAULT_ARGON2.memoryKiB, 19456);
});

Deno.test("an empty password cannot be hashed", async () => {
  using hasher = new PasswordHasher();
  await assert.rejects(hasher.hash(""), /empty password/);
});

Deno.test("the hasher's limits are the settings' limits: a value past them is refused, made or stored", () => {
  const { memoryKiB, iterations, parallelism } = ARGON2_LIMITS;
  assert.throws(() => new PasswordHasher({ memoryKiB: memoryKiB.max + 1 }), new RegExp(`${memoryKiB.max}`));
  assert.throws(() => new PasswordHasher({ iterations: iterations.max + 1 }), /iterations/);
  assert.throws(() => new PasswordHasher({ parallelism: parallelism.max + 1 }), /parallelism/);
  const salt = "c2FsdHNhbHRzYWx0c2FsdA";
  const hash = "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
  const phc = (m: number, t: number, p: number) => `$argon2id$v=19$m=${m},t=${t},p=${p}$${salt}$${hash}`;
  assert.equal(isArgon2idPhc(phc(memoryKiB.max, iterations.max, parallelism.max)), true);
  assert.equal(isArgon2idPhc(phc(memoryKiB.max + 1, 1, 1)), false);
  assert.equal(isArgon2idPhc(phc(19456, iterations.max + 1, 1)), false);
  assert.equal(isArgon2idPhc(phc(19456, 1, parallelism.max + 1)), false);
});
