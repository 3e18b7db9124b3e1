/**
 * Differential test against Python's imaplib (Debian `python3`): imaplib talks to a scripted server
 * in the same Python process (it greets, continues literals, answers OK) that records the bytes of
 * every command; the decoder must read each back as the command imaplib was asked to send.
 * Skipped when python3 is missing.
 */
import assert from "node:assert/strict";
import type { ImapCommand } from "../src/imap/command.ts";
import { createCommandDecoder } from "../src/imap/decoder.ts";

const python = await new Deno.Command("python3", { args: ["--version"], stdout: "null", stderr: "null" })
  .output()
  .then((o) => o.success, () => false);

const SCRIPT = `
import imaplib, json, base64, sys, re, datetime

class Fake(imaplib.IMAP4):
    """imaplib against a scripted server: greets, continues literals, answers OK; records each command's bytes."""
    def open(self, host="", port=143, timeout=None):
        self.out = []
        self.pending = [b"* OK [CAPABILITY IMAP4rev1 LITERAL+ ENABLE UTF8=ACCEPT QUOTA ACL ID] hi\\r\\n"]
        self.current = b""
        self.literal_left = 0
        self.commands = []
    def send(self, data):
        self.current += data
        if self.literal_left:
            self.literal_left -= len(data)
            return
        announced = re.search(rb"\\{(\\d+)\\}\\r\\n$", self.current)
        if announced:
            self.literal_left = int(announced.group(1))
            self.pending.append(b"+ go\\r\\n")
            return
        m = re.match(rb"([A-Z]+\\d+) ", self.current)
        if self.current.endswith(b"\\r\\n") and m:
            self.commands.append(self.current)
            self.pending.append(m.group(1) + b" OK done\\r\\n")
            self.current = b""
    def readline(self):
        return self.pending.pop(0) if self.pending else b""
    def read(self, size):
        return b""
    def shutdown(self):
        pass

m = Fake()
when = datetime.datetime(2024, 2, 1, 10, 0, 0, tzinfo=datetime.timezone.utc)
m.login("fred", 'p"a ss\\\\')
m.select("INBOX", readonly=True)
m.fetch("1:3", "(FLAGS BODY.PEEK[HEADER.FIELDS (FROM)])")
m.search(None, "UNSEEN", "FROM", '"Smith"', "SINCE", "1-Feb-1994")
m.store("1", "+FLAGS", "(\\\\Seen)")
m.append("INBOX", "(\\\\Seen)", imaplib.Time2Internaldate(when), b"Subject: x\\r\\n\\r\\nhi\\r\\n")
m.copy("1:2", "Archive")
m.uid("FETCH", "1:*", "(UID FLAGS)")
m.list('""', "*")
m.status("INBOX", "(MESSAGES UIDNEXT)")
m.create("new")
m.rename("new", "old")
m.delete("old")
m.subscribe("INBOX")
m.getquotaroot("INBOX")
m.getacl("INBOX")
m.setacl("INBOX", "bob", "lr")
m.myrights("INBOX")
m.expunge()
m.noop()
json.dump([base64.b64encode(c).decode() for c in m.commands], sys.stdout)
`;

const enc = new TextEncoder();
const bytes = (text: string) => enc.encode(text);

Deno.test({
  name: "the decoder reads back every command Python's imaplib sends",
  ignore: !python,
  async fn() {
    const output = await new Deno.Command("python3", {
      args: ["-c", SCRIPT],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(output.success, new TextDecoder().decode(output.stderr));
    const sent = (JSON.parse(new TextDecoder().decode(output.stdout)) as string[]).map((b64) =>
      Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))
    );
    const decoder = createCommandDecoder({ maxLine: 65536, maxAppendLiteral: 1 << 20, maxLiteral: 65536 });
    const commands: Array<Omit<ImapCommand, "tag">> = [];
    for (const command of sent) {
      const events = decoder.push(command).filter((e) => e.type !== "continue");
      assert.equal(events.length, 1, Deno.inspect(events));
      const event = events[0];
      if (event.type !== "command") {
        throw new Error(`${new TextDecoder().decode(command)}: ${Deno.inspect(event)}`);
      }
      assert.match(event.command.tag, /^[A-Z]+\d+$/);
      commands.push({ uid: event.command.uid, body: event.command.body });
    }
    const plain = (body: ImapCommand["body"]) => ({ uid: false, body });
    assert.deepEqual(commands, [
      plain({ name: "CAPABILITY" }),
      plain({ name: "LOGIN", username: "fred", password: 'p"a ss\\' }),
      plain({ name: "EXAMINE", mailbox: "INBOX", condstore: false }),
      plain({
        name: "FETCH",
        set: [{ start: 1, end: 3 }],
        items: [{ kind: "FLAGS" }, {
          kind: "BODY[]",
          peek: true,
          section: { part: [], text: "HEADER.FIELDS", fields: ["FROM"] },
        }],
        vanished: false,
      }),
      plain({
        name: "SEARCH",
        criteria: {
          op: "and",
          keys: [
            { op: "flag", flag: "\\Seen", present: false },
            { op: "header", field: "FROM", value: "Smith" },
            { op: "date", field: "internal", compare: "since", date: "1994-02-01" },
          ],
        },
        returns: [],
        esearch: false,
      }),
      plain({
        name: "STORE",
        set: [{ start: 1, end: 1 }],
        operation: "add",
        silent: false,
        flags: ["\\Seen"],
      }),
      plain({
        name: "APPEND",
        mailbox: "INBOX",
        messages: [{
          flags: ["\\Seen"],
          date: new Date("2024-02-01T10:00:00Z"),
          message: bytes("Subject: x\r\n\r\nhi\r\n"),
          binary: false,
        }],
      }),
      plain({ name: "COPY", set: [{ start: 1, end: 2 }], mailbox: "Archive" }),
      {
        uid: true,
        body: {
          name: "FETCH",
          set: [{ start: 1, end: "*" }],
          items: [{ kind: "UID" }, { kind: "FLAGS" }],
          vanished: false,
        },
      },
      plain({
        name: "LIST",
        reference: "",
        patterns: ["*"],
        selection: [],
        returns: { subscribed: false, children: false, specialUse: false },
        basic: true,
      }),
      plain({ name: "STATUS", mailbox: "INBOX", items: ["MESSAGES", "UIDNEXT"] }),
      plain({ name: "CREATE", mailbox: "new", specialUse: [] }),
      plain({ name: "RENAME", from: "new", to: "old" }),
      plain({ name: "DELETE", mailbox: "old" }),
      plain({ name: "SUBSCRIBE", mailbox: "INBOX" }),
      plain({ name: "GETQUOTAROOT", mailbox: "INBOX" }),
      plain({ name: "GETACL", mailbox: "INBOX" }),
      plain({ name: "SETACL", mailbox: "INBOX", identifier: "bob", rights: "lr" }),
      plain({ name: "MYRIGHTS", mailbox: "INBOX" }),
      plain({ name: "EXPUNGE" }),
      plain({ name: "NOOP" }),
    ]);
  },
});
