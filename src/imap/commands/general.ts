/**
 * Commands of any state and of the authenticated state that touch no mailbox: CAPABILITY, NOOP,
 * LOGOUT (RFC 9051 §6.1), ID (RFC 2971), ENABLE (RFC 5161), NAMESPACE (RFC 2342), COMPRESS
 * (RFC 4978), IDLE (RFC 2177), and UNSELECT/CLOSE when nothing is selected.
 */
import type { CommandBody, ImapCommand, StatusResponse } from "../command.ts";
import { enableable } from "../capabilities.ts";
import { ImapBad, ImapNo } from "../errors.ts";
import { atom } from "../response.ts";
import type { ImapSession, Outcome } from "../session.ts";
import { watchSelected } from "../session_sync.ts";
import { OTHER_USERS } from "./mailbox_names.ts";

type Body<N extends CommandBody["name"]> = CommandBody & { name: N };

const ok = (command: ImapCommand, text: string): StatusResponse => ({ tag: command.tag, status: "OK", text });

/** CAPABILITY. */
export function capability(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  session.untagged([atom("CAPABILITY"), ...session.capabilities().map(atom)]);
  return Promise.resolve(ok(command, "CAPABILITY completed"));
}

/** NOOP (and CHECK, RFC 3501 §6.4.1): the sync after it reports what changed in the selected mailbox. */
export function noop(_session: ImapSession, command: ImapCommand): Promise<Outcome> {
  return Promise.resolve(ok(command, `${command.body.name} completed`));
}

/** LOGOUT: `* BYE`, then OK, then the connection closes. */
export function logout(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  session.status({ status: "BYE", text: "Postern logging out" });
  session.finish("LOGOUT", ok(command, "LOGOUT completed"));
  session.state = "logout";
  session.io.close();
  return Promise.resolve("pending");
}

/** ID (RFC 2971): the server's name and version; the client's parameters go to the session log. */
export function id(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const { parameters } = command.body as Body<"ID">;
  session.clientId = parameters ? Object.fromEntries(Object.entries(parameters).slice(0, 30)) : null;
  session.untagged([atom("ID"), ["name", "Postern", "version", session.deps.version]]);
  return Promise.resolve(ok(command, "ID completed"));
}

/** ENABLE (RFC 5161): what is offered is turned on and listed; the rest is ignored. */
export function enable(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const { capabilities } = command.body as Body<"ENABLE">;
  const offered = enableable();
  const now: string[] = [];
  const condstore = session.enabled.has("CONDSTORE");
  for (const name of capabilities) {
    const upper = name.toUpperCase();
    if (!offered.has(upper) || session.enabled.has(upper)) continue;
    session.enabled.add(upper);
    now.push(upper === "IMAP4REV2" ? "IMAP4rev2" : upper);
    // RFC 9051 §6.3.1 and RFC 6855: strings and mailbox names are UTF-8 from here on.
    if (upper === "UTF8=ACCEPT" || upper === "IMAP4REV2") {
      session.writer.utf8 = true;
      session.decoder.utf8(true);
    }
  }
  // RFC 7162 §3.2.3: enabling QRESYNC enables CONDSTORE too.
  if (session.enabled.has("QRESYNC")) session.enabled.add("CONDSTORE");
  if (!condstore && session.enabled.has("CONDSTORE") && session.selected) {
    // RFC 7162 §3.1: CONDSTORE turned on with a mailbox selected tells its HIGHESTMODSEQ (as Dovecot).
    session.status({
      status: "OK",
      code: { name: "HIGHESTMODSEQ", values: [session.selected.modseq] },
      text: "Highest",
    });
  }
  session.untagged([atom("ENABLED"), ...now.map(atom)]);
  return Promise.resolve(ok(command, "ENABLE completed"));
}

/** NAMESPACE (RFC 2342): personal at the root, other users' shared mailboxes under "Other Users/". */
export function namespace(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  session.untagged([atom("NAMESPACE"), [["", "/"]], [[`${OTHER_USERS}/`, "/"]], null]);
  return Promise.resolve(ok(command, "NAMESPACE completed"));
}

/** COMPRESS DEFLATE (RFC 4978): OK uncompressed, then both directions deflated. */
export function compress(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const { mechanism } = command.body as Body<"COMPRESS">;
  if (mechanism.toUpperCase() !== "DEFLATE") throw new ImapBad(`Unknown compression ${mechanism}`);
  if (session.compressed) throw new ImapNo("COMPRESSIONACTIVE", "Compression is already on");
  session.finish("COMPRESS", ok(command, "DEFLATE active"));
  session.compressed = true;
  session.io.compress();
  return Promise.resolve("pending");
}

/**
 * IDLE (RFC 2177): `+ idling` until DONE. With a mailbox selected, what changes in it is told as it
 * commits (session_sync.ts watchSelected), expunges included, and once more before the tagged OK.
 */
export function idle(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  session.continuation("idling");
  const watch = session.selected ? watchSelected(session) : undefined;
  session.expectLine(async (line) => {
    await watch?.stop();
    const done = line.trim().toUpperCase() === "DONE";
    if (done && session.state === "selected") await session.sync({ expunges: true });
    session.finish(
      "IDLE",
      done
        ? ok(command, "IDLE terminated")
        : { tag: command.tag, status: "BAD", text: "Expected DONE to end IDLE" },
    );
  }, () => void watch?.stop());
  return Promise.resolve("pending");
}

/** UNSELECT and CLOSE with no mailbox selected (RFC 9051 §6.4.2, §6.4.1: valid only when one is). */
export function nothingSelected(_session: ImapSession, command: ImapCommand): Promise<Outcome> {
  return Promise.resolve({ tag: command.tag, status: "BAD", text: "No mailbox selected" });
}
