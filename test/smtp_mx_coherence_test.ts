/**
 * The MX and the negative cache (the founding report's second case, for SMTP): a recipient refused
 * before its account existed is accepted once the account is created by another process (the CLI on
 * the database file the server runs on), with no HTTP request in between to bring the caches in step.
 */
import assert from "node:assert/strict";
import { cli } from "./helpers.ts";
import { rawDialogue, startMxProcess } from "./smtp_helpers.ts";

Deno.test("a recipient refused before the CLI creates its account is accepted at the next RCPT", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-mx-coherence-" });
  const server = await startMxProcess(dataDir);
  try {
    const rcpt = () =>
      rawDialogue(server.smtpPort, [
        "EHLO client.test\r\n",
        "MAIL FROM:<sender@remote.test>\r\n",
        "RCPT TO:<newcomer@example.org>\r\n",
        "QUIT\r\n",
      ]);
    const before = await rcpt();
    assert.match(before, /^550 5\.1\.1 /m, before);
    const made = await cli([
      "--data",
      dataDir,
      "create",
      "account/user",
      "--field",
      "name=newcomer",
      "--field",
      "domainId=example.org",
    ]);
    assert.equal(made.code, 0, made.stderr);
    const after = await rcpt();
    assert.match(after, /^250 2\.1\.5 /m, after);
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
