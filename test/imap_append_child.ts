/**
 * A second process appending to one mailbox through the IMAP service, on the same database file as
 * the test that starts it (imap_race_test.ts). Prints the UIDs it was given, as JSON, when done.
 *
 *   deno run -A test/imap_append_child.ts <dataDir> <viewerId> <accountId> <mailboxId> <count>
 */
import { resolveConfig } from "../src/config/mod.ts";
import { openData } from "../src/server.ts";

const [dataDir, viewer, account, mailbox, count] = Deno.args;
const { services } = await openData(resolveConfig({ data: dataDir }, {}));
try {
  const uids: number[] = [];
  for (let i = 0; i < Number(count); i++) {
    const message = new TextEncoder().encode(
      `From: child@example.net\r\nSubject: child ${i}\r\nMessage-ID: <${crypto.randomUUID()}@child>\r\n\r\nBody\r\n`,
    );
    const appended = await services.imapMailboxes.append(Number(viewer), {
      accountId: Number(account),
      mailboxId: Number(mailbox),
    }, { message });
    uids.push(appended.uid);
  }
  console.log(JSON.stringify(uids));
} finally {
  await services.close();
}
