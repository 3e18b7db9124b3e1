/**
 * A terminal mail client on Postern's IMAP: Debian's neomutt in a tmux pane, over implicit TLS with
 * the server's certificate trusted from a file, driven by keys and read from the screen. Each thing a
 * user does (read, flag, save to another mailbox, delete, search, postpone a draft) is checked over
 * JMAP, and JMAP's changes (a new message, a flag set elsewhere) appear in neomutt's index by IDLE.
 */
import assert from "node:assert/strict";
import { PASSWORD, until } from "./helpers.ts";
import { imported, importMessage } from "./email_helpers.ts";
import { imapPeersMissing, startImapProcess } from "./imap_helpers.ts";
import {
  createUsers,
  mailboxesByName,
  mailCall,
  type Obj,
  serverTarget,
  type Target,
  type Who,
} from "./mail_helpers.ts";
import { HAS_TMUX, TuiSession } from "./tui_helpers.ts";

const HAS_NEOMUTT = await new Deno.Command("neomutt", { args: ["-v"], stdout: "null", stderr: "null" })
  .output().then((o) => o.success, () => false);

const ignore = imapPeersMissing("neomutt on IMAP") || !HAS_TMUX || !HAS_NEOMUTT;
if (!HAS_NEOMUTT || !HAS_TMUX) {
  console.warn("neomutt on IMAP: skipped (needs the Debian packages neomutt and tmux)");
}

/** A message from bob to alice. */
function message(subject: string, body: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(
    `From: Bob <bob@example.org>\r\nTo: alice@example.org\r\nSubject: ${subject}\r\n` +
      `Date: Mon, 7 Dec 2026 09:00:00 +0000\r\nMessage-ID: <${
        subject.replaceAll(" ", ".")
      }@example.org>\r\n` +
      `\r\n${body}\r\n`,
  );
}

/** The one email of alice's with this subject (its keywords and mailboxes), or undefined. */
async function emailBySubject(target: Target, alice: Who, subject: string): Promise<Obj | undefined> {
  const query = await mailCall(target, "Email/query", { filter: { subject } }, alice);
  const ids = query.ids as string[];
  if (ids.length === 0) return undefined;
  const got = await mailCall(
    target,
    "Email/get",
    { ids, properties: ["subject", "keywords", "mailboxIds"] },
    alice,
  );
  return (got.list as Obj[]).find((e) => e.subject === subject);
}

/** Polls `check` until it holds (the client writes when it synchronises, not at once). */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`never happened: ${what}`);
}

Deno.test({
  name:
    "neomutt reads, flags, saves, deletes, searches and postpones on Postern's IMAP; JMAP sees it and it sees JMAP",
  ignore,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-imap-neomutt-" });
    const server = await startImapProcess(dataDir);
    let pane: TuiSession | undefined;
    try {
      const target = serverTarget(server.url);
      const [alice] = await createUsers(target, ["alice"]);
      const boxes = await mailboxesByName(target, alice);
      for (
        const [subject, body] of [["First note", "one"], ["Second note", "two"], ["Third note", "three"]]
      ) {
        await importMessage(target, alice, message(subject, `the body of the ${body}`));
      }
      const certFile = `${dataDir}/trusted.pem`;
      await Deno.writeTextFile(certFile, server.certPem);
      const muttrc = `${dataDir}/muttrc`;
      await Deno.writeTextFile(
        muttrc,
        [
          `set folder = "imaps://alice@127.0.0.1:${server.imapsPort}/"`,
          `set spoolfile = "+INBOX"`,
          `set postponed = "+Drafts"`,
          `set record = ""`,
          `set imap_user = "alice"`,
          `set imap_pass = "${PASSWORD}"`,
          `set certificate_file = "${certFile}"`,
          `set ssl_ca_certificates_file = "${certFile}"`,
          `set imap_idle = yes`,
          `set mail_check = 1`,
          `set timeout = 1`,
          `set sleep_time = 0`,
          `set quit = yes`,
          `set delete = yes`,
          `set move = no`,
          `set mark_old = no`,
          `set confirmappend = no`,
          `set confirmcreate = no`,
          `set wait_key = no`,
          `set from = "alice@example.org"`,
          `set hostname = "example.org"`,
          `set editor = "true"`,
          `set abort_unmodified = no`,
          `set askcc = no`,
          `set sort = date`,
          `set index_format = "%4C %Z %-12.12L %s"`,
          `set help = no`,
        ].join("\n") + "\n",
      );
      pane = await TuiSession.start([], { HOME: dataDir }, {
        command: ["neomutt", "-n", "-F", muttrc],
        size: [120, 30],
      });
      const session = pane;
      const index = async (subject: string) => {
        const screen = await session.waitFor(subject);
        return screen.split("\n").find((line) => line.includes(subject)) ?? "";
      };
      /** Moves the index cursor to the message with this subject (a search in the index). */
      const goTo = async (subject: string) => {
        await session.keys("/");
        await session.waitFor("Search for:");
        await session.type(`~s "${subject}"`);
        await session.keys("Enter");
        await session.waitFor(subject);
      };

      if (
        !await t.step("the index lists INBOX over TLS", async () => {
          await index("Third note");
          const screen = await session.screen();
          assert.ok(screen.includes("First note") && screen.includes("Second note"), screen);
        })
      ) return;

      if (
        !await t.step("reading a message marks it \\Seen for JMAP", async () => {
          await goTo("Second note");
          await session.keys("Enter");
          await session.waitFor("the body of the two");
          await session.keys("q");
          await index("Third note");
          await session.keys("$");
          await eventually("Second note is $seen", async () => {
            const email = await emailBySubject(target, alice, "Second note");
            return (email?.keywords as Obj)?.$seen === true;
          });
        })
      ) return;

      if (
        !await t.step("flagging sets $flagged", async () => {
          await goTo("Third note");
          await session.keys("F");
          await session.keys("$");
          await eventually("Third note is $flagged", async () => {
            const email = await emailBySubject(target, alice, "Third note");
            return (email?.keywords as Obj)?.$flagged === true;
          });
        })
      ) return;

      if (
        !await t.step("saving to another mailbox moves the email there", async () => {
          await goTo("Second note");
          await session.keys("s");
          await session.waitFor(/Save to mailbox/i);
          await session.keys("C-u");
          await session.type("=Archive");
          await session.keys("Enter");
          await session.keys("$");
          await eventually("Second note is in Archive only", async () => {
            const email = await emailBySubject(target, alice, "Second note");
            const ids = Object.keys((email?.mailboxIds as Obj) ?? {});
            return ids.length === 1 && ids[0] === boxes.Archive.id;
          });
        })
      ) return;

      if (
        !await t.step("deleting and synchronising destroys the email", async () => {
          await goTo("First note");
          await session.keys("d");
          await session.keys("$");
          await eventually(
            "First note is gone",
            async () => !await emailBySubject(target, alice, "First note"),
          );
        })
      ) return;

      if (
        !await t.step("a body search (server-side) limits the index", async () => {
          await importMessage(target, alice, message("Budget plan", "the quarterly numbers"));
          await index("Budget plan");
          await session.keys("l");
          await session.waitFor(/Limit to messages matching/i);
          await session.type("~B quarterly");
          await session.keys("Enter");
          // "Budget plan" was on the screen before the limit too: wait for the screen without the others (the
          // server's SEARCH answer comes back asynchronously), and fail naming what it shows.
          let screen = "";
          await until(async () => {
            screen = await session.screen();
            return screen.includes("Budget plan") && !screen.includes("Third note");
          }, "the index limited to the search's match").catch(() => {
            assert.fail(`the index was never limited to the search's match; it shows:\n${screen}`);
          });
          await session.keys("l");
          await session.waitFor(/Limit to messages matching/i);
          await session.type("all");
          await session.keys("Enter");
          await index("Third note");
        })
      ) return;

      if (
        !await t.step("JMAP's changes reach the index by IDLE: a new message, then a flag", async () => {
          const created = await imported(target, alice, message("Late news", "arrived over JMAP"));
          await index("Late news");
          await mailCall(target, "Email/set", {
            update: { [created.id as string]: { "keywords/$flagged": true } },
          }, alice);
          await session.waitFor(/^.*!.*Late news.*$/m);
        })
      ) return;

      if (
        !await t.step("a postponed message is appended to Drafts", async () => {
          await session.keys("m");
          await session.waitFor("To:");
          await session.type("bob@example.org");
          await session.keys("Enter");
          await session.waitFor("Subject:");
          await session.type("Draft from neomutt");
          await session.keys("Enter");
          await session.waitFor(/Postpone|Compose|Send/i);
          await session.keys("P");
          await eventually("the draft is in Drafts", async () => {
            const email = await emailBySubject(target, alice, "Draft from neomutt");
            return (email?.mailboxIds as Obj)?.[boxes.Drafts.id as string] === true &&
              (email?.keywords as Obj)?.$draft === true;
          });
        })
      ) return;

      await session.keys("q");
      await session.waitForExit();
    } finally {
      await pane?.close();
      await server.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
    }
  },
});
