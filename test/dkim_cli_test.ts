/**
 * DKIM from the command line, locally on the database file: `postern dns` prints each key's TXT
 * record (the RSA key's data split into strings of at most 255 bytes), `postern dkim-rotate` makes
 * new keys while the old records stay listed, and deleting the retired x:DkimKey objects unpublishes
 * them. Bad input: an unknown domain (exit 1) and a malformed name (exit 2). The CLI runs in-process
 * (cli_in_process.ts) but for the malformed name, a real process's exit status.
 */
import assert from "node:assert/strict";
import { cliInProcess } from "./cli_in_process.ts";
import { cli, withTempDir } from "./helpers.ts";
import { txtStrings } from "./dkim_helpers.ts";

const dkimLines = (zone: string) => zone.split("\n").filter((l) => l.includes("._domainkey."));

Deno.test("postern dns prints the DKIM records; dkim-rotate keeps the old ones until their keys are deleted", async () => {
  await withTempDir("postern-dkim-cli-", async (dir) => {
    const init = await cliInProcess(["--data", dir, "init", "--domain", "example.org"]);
    assert.equal(init.code, 0, init.stderr);
    const month = new Date().toISOString().slice(0, 7).replace("-", "");
    const zone = await cliInProcess(["--data", dir, "dns", "example.org"]);
    assert.equal(zone.code, 0, zone.stderr);
    const lines = dkimLines(zone.stdout);
    assert.equal(lines.length, 2, zone.stdout);
    assert.match(
      lines[0],
      new RegExp(
        `^pe${month}\\._domainkey\\.example\\.org\\.\\t3600\\tIN\\tTXT\\t"v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}="$`,
      ),
    );
    const [, , , , rsa] = lines[1].split("\t");
    assert.match(lines[1], new RegExp(`^pr${month}\\._domainkey\\.example\\.org\\.\\t`));
    const strings = txtStrings(rsa);
    assert.ok(strings.length >= 2 && strings.every((s) => s.length <= 255), rsa);
    assert.match(
      strings.join(""),
      /^v=DKIM1; k=rsa; p=MIIBIjAN[A-Za-z0-9+/=]+$/,
      "an RSA-2048 SubjectPublicKeyInfo",
    );

    const rotated = await cliInProcess(["--data", dir, "--json", "dkim-rotate", "example.org"]);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.deepEqual(JSON.parse(rotated.stdout).selectors.sort(), [`pe${month}b`, `pr${month}b`]);
    const both = dkimLines((await cliInProcess(["--data", dir, "dns", "example.org"])).stdout);
    assert.equal(both.length, 4, both.join("\n"));

    const keys = await cliInProcess(["--data", dir, "--json", "query", "dkim-key"]);
    assert.equal(keys.code, 0, keys.stderr);
    const retired = (JSON.parse(keys.stdout) as { id: string; active: boolean }[]).filter((k) => !k.active);
    assert.equal(retired.length, 2);
    const deleted = await cliInProcess([
      "--data",
      dir,
      "delete",
      "dkim-key",
      "--ids",
      retired.map((k) => k.id).join(","),
    ]);
    assert.equal(deleted.code, 0, deleted.stderr);
    const after = dkimLines((await cliInProcess(["--data", dir, "dns", "example.org"])).stdout);
    assert.deepEqual(after.map((l) => l.split(".")[0]).sort(), [`pe${month}b`, `pr${month}b`]);

    const unknown = await cliInProcess(["--data", dir, "dkim-rotate", "nowhere.test"]);
    assert.equal(unknown.code, 1, unknown.stderr);
    assert.match(unknown.stderr, /Domain "nowhere\.test" does not exist/);
    const bad = await cli(["--data", dir, "dkim-rotate", "not_a..name"]);
    assert.equal(bad.code, 2, bad.stderr);
  });
});
