/** A start that cannot serve: checked before anything is created, one JSON line naming the flag. */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { freePort } from "./helpers.ts";
import { failedStart, jsonLines } from "./log_helpers.ts";

/** A failed start's JSON log lines; nothing is printed on stdout. */
async function failedStartLines(
  args: string[],
): Promise<{ code: number; lines: ReturnType<typeof jsonLines> }> {
  const { code, stdout, stderr } = await failedStart(args);
  assert.equal(stdout, "");
  return { code, lines: jsonLines(stderr) };
}

Deno.test("first start on a busy port creates nothing and says which address and flag in one line", async () => {
  const parent = await Deno.makeTempDir({ prefix: "postern-busy-" });
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (busy.addr as Deno.NetAddr).port;
  try {
    const { code, lines } = await failedStartLines([
      "--data",
      `${parent}/data`,
      "--listen",
      `127.0.0.1:${port}`,
    ]);
    assert.equal(code, 1);
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.equal(lines[0].level, "ERROR");
    assert.equal(
      lines[0].message,
      `Cannot listen on 127.0.0.1:${port}: the address is already in use (another Postern or another server?); ` +
        "change --listen (POSTERN_LISTEN)",
    );
    assert.ok(!("error" in (lines[0].properties ?? {})), "no stack trace");
    // No admin was created whose once-only password would have been printed for nothing.
    await assert.rejects(Deno.stat(`${parent}/data`), Deno.errors.NotFound);
  } finally {
    busy.close();
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("an address that is not this machine's, or does not resolve, is one line naming --listen", async () => {
  const parent = await Deno.makeTempDir({ prefix: "postern-addr-" });
  try {
    for (
      const [listen, cause] of [
        ["192.0.2.1:8080", "no network interface of this machine has that address"],
        ["no-such-host.invalid:8080", "the host name does not resolve"],
      ]
    ) {
      const { code, lines } = await failedStartLines(["--data", `${parent}/data`, "--listen", listen]);
      assert.equal(code, 1);
      assert.deepEqual(lines.map((l) => l.message), [
        `Cannot listen on ${listen}: ${cause}; change --listen (POSTERN_LISTEN)`,
      ]);
    }
    await assert.rejects(Deno.stat(`${parent}/data`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("a data directory that cannot be created is one line naming --data, and the port is free again", async () => {
  const parent = await Deno.makeTempDir({ prefix: "postern-datadir-" });
  await Deno.writeTextFile(`${parent}/file`, "not a directory");
  const port = freePort();
  try {
    const { code, lines } = await failedStartLines([
      "--data",
      `${parent}/file/data`,
      "--listen",
      `127.0.0.1:${port}`,
    ]);
    assert.equal(code, 1);
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.match(lines[0].message, new RegExp(`^Cannot use the data directory "${parent}/file/data": `));
    assert.match(lines[0].message, /; change --data \(POSTERN_DATA\) or its owner$/);
    Deno.listen({ hostname: "127.0.0.1", port }).close();
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("a busy SMTP port is one line naming --smtp-listen, and no first admin is made", async () => {
  const parent = await Deno.makeTempDir({ prefix: "postern-busy-smtp-" });
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (busy.addr as Deno.NetAddr).port;
  try {
    const { code, lines } = await failedStartLines([
      "--data",
      `${parent}/data`,
      "--listen",
      `127.0.0.1:${freePort()}`,
      "--smtp-listen",
      `127.0.0.1:${port}`,
    ]);
    assert.equal(code, 1);
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.equal(lines[0].level, "ERROR");
    assert.equal(
      lines[0].message,
      `Cannot listen on 127.0.0.1:${port}: the address is already in use (another Postern or another server?); ` +
        "change --smtp-listen (POSTERN_SMTP_LISTEN)",
    );
    const db = new DatabaseSync(`${parent}/data/postern.db`, { readOnly: true });
    try {
      const { n } = db.prepare("SELECT count(*) AS n FROM accounts").get() as { n: number };
      assert.equal(n, 0, "no admin whose once-only password was printed for nothing");
    } finally {
      db.close();
    }
  } finally {
    busy.close();
    await Deno.remove(parent, { recursive: true });
  }
});
