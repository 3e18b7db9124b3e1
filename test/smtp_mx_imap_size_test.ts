/**
 * The MX gives the store each copy's IMAP size (its data guard refused any bare LF), so the insert
 * does not read the message back to measure it: what is stored is the size IMAP serves, the trace
 * fields included, exactly as measuring the stored message gives it.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createUsers, serverTarget } from "./mail_helpers.ts";
import { rawDialogue, smtpMessage, startMxProcess } from "./smtp_helpers.ts";

/** The size FETCH BODY[] serves: every bare LF made CRLF. */
function served(bytes: Uint8Array): number {
  let bare = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10 && (i === 0 || bytes[i - 1] !== 13)) bare++;
  return bytes.length + bare;
}

Deno.test("a message stored by the MX has the IMAP size of its stored octets", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-mx-imap-size-" });
  const server = await startMxProcess(dataDir);
  try {
    await createUsers(serverTarget(server.url), ["alice"]);
    const reply = await rawDialogue(server.smtpPort, [
      "EHLO client.test\r\n",
      "MAIL FROM:<sender@remote.test>\r\n",
      "RCPT TO:<alice@example.org>\r\n",
      "DATA\r\n",
      smtpMessage("sized", "line one\r\nline two") + ".\r\n",
      "QUIT\r\n",
    ]);
    assert.match(reply, /^250 2\.6\.0 /m, reply);
    const db = new DatabaseSync(`${dataDir}/postern.db`, { readOnly: true });
    try {
      const rows = db.prepare(
        "SELECT e.size, e.imap_size, b.data FROM emails e JOIN blobs b ON b.id = e.blob_id",
      ).all() as { size: number; imap_size: number | null; data: Uint8Array }[];
      assert.equal(rows.length, 1);
      const [row] = rows;
      assert.equal(row.size, row.data.length);
      assert.equal(row.imap_size ?? row.size, served(row.data));
      assert.equal(row.imap_size, null, "no bare LF: the IMAP size is the size");
    } finally {
      db.close();
    }
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
