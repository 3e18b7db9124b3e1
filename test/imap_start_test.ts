/**
 * Starting the IMAP listeners: without certificate files, or on a busy port, `postern serve` stops
 * with one line naming the flag to change.
 */
import assert from "node:assert/strict";
import { freePort } from "./helpers.ts";
import { imapPeersMissing } from "./imap_helpers.ts";
import { failedStart, jsonLines } from "./log_helpers.ts";
import { selfSignedCertificate } from "./smtp_submission_helpers.ts";

Deno.test("IMAP without certificate files is a configuration error naming the flag and the TLS flags", async () => {
  const parent = await Deno.makeTempDir({ prefix: "postern-imap-start-" });
  try {
    for (
      const [flag, variable] of [["--imap-listen", "POSTERN_IMAP_LISTEN"], [
        "--imaps-listen",
        "POSTERN_IMAPS_LISTEN",
      ]]
    ) {
      const { code, stderr } = await failedStart([
        "--data",
        `${parent}/data`,
        "--listen",
        `127.0.0.1:${freePort()}`,
        flag,
        `127.0.0.1:${freePort()}`,
      ]);
      assert.equal(code, 2, stderr);
      assert.equal(
        stderr.trim(),
        `postern: Cannot start ${flag} (${variable}): IMAP needs TLS; set --tls-cert and --tls-key ` +
          "(POSTERN_TLS_CERT, POSTERN_TLS_KEY) or --acme-directory (POSTERN_ACME_DIRECTORY)",
      );
    }
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test({
  name: "a busy IMAP port is one line naming --imaps-listen",
  ignore: imapPeersMissing("busy IMAP port"),
  async fn() {
    const parent = await Deno.makeTempDir({ prefix: "postern-imap-busy-" });
    const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (busy.addr as Deno.NetAddr).port;
    try {
      const files = await selfSignedCertificate(parent);
      const { code, stderr } = await failedStart([
        "--data",
        `${parent}/data`,
        "--listen",
        `127.0.0.1:${freePort()}`,
        "--tls-cert",
        files.cert,
        "--tls-key",
        files.key,
        "--imap-listen",
        `127.0.0.1:${freePort()}`,
        "--imaps-listen",
        `127.0.0.1:${port}`,
      ]);
      const lines = jsonLines(stderr);
      assert.equal(code, 1);
      assert.equal(lines.length, 1, JSON.stringify(lines));
      assert.equal(
        lines[0].message,
        `Cannot listen on 127.0.0.1:${port}: the address is already in use (another Postern or another server?); ` +
          "change --imaps-listen (POSTERN_IMAPS_LISTEN)",
      );
    } finally {
      busy.close();
      await Deno.remove(parent, { recursive: true });
    }
  },
});
