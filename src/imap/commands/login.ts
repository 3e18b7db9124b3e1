/**
 * The commands of the not-authenticated state: STARTTLS (RFC 9051 §6.2.1), LOGIN (§6.2.3) and
 * AUTHENTICATE (§6.2.2) with SASL-IR (RFC 4959) and the mechanisms PLAIN (RFC 4616), LOGIN,
 * OAUTHBEARER (RFC 7628) and XOAUTH2, all through the one authenticator (auth/sasl.ts) with the
 * scope `urn:ietf:params:jmap:mail`. Before TLS nothing that carries a password is taken
 * (LOGINDISABLED; `NO [PRIVACYREQUIRED]`), as submission refuses AUTH before STARTTLS.
 */
import {
  isBearerMechanism,
  parseOauthBearer,
  parsePlain,
  parseXoauth2,
  type SaslCredentials,
} from "../../auth/mod.ts";
import type { CommandBody, ImapCommand } from "../command.ts";
import { ImapBad, ImapNo } from "../errors.ts";
import type { ImapSession, Outcome } from "../session.ts";
import { SASL_MECHANISMS } from "../capabilities.ts";

/** The scope an OAuth token or app password needs to open mailboxes over IMAP. */
export const IMAP_SCOPE = "urn:ietf:params:jmap:mail";

type Body<N extends CommandBody["name"]> = CommandBody & { name: N };

/** STARTTLS: OK, then the handshake; what the client pipelined after it is discarded. */
export async function starttls(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  if (!session.io.starttls || session.io.secure) throw new ImapBad("TLS is already on");
  session.finish("STARTTLS", { tag: command.tag, status: "OK", text: "Begin TLS negotiation now" });
  await session.io.startTls();
  return "pending";
}

/** LOGIN user password. */
export async function login(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const { username, password } = command.body as Body<"LOGIN">;
  if (!session.io.secure) throw new ImapNo("PRIVACYREQUIRED", "Use STARTTLS before LOGIN");
  return await check(session, command.tag, "login", { method: "LOGIN", username, password });
}

/** AUTHENTICATE mechanism [initial-response]. */
export async function authenticate(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const { mechanism, initialResponse } = command.body as Body<"AUTHENTICATE">;
  const name = mechanism.toUpperCase();
  const { tag } = command;
  // The decoder paused after AUTHENTICATE: the session reads the exchange's lines from here.
  if (!session.io.secure) throw new ImapNo("PRIVACYREQUIRED", "Use STARTTLS before AUTHENTICATE");
  if (!(SASL_MECHANISMS as readonly string[]).includes(name)) {
    throw new ImapNo("CANNOT", `Unsupported mechanism ${mechanism}; use ${SASL_MECHANISMS.join(", ")}`);
  }
  const withResponse = async (response: string) =>
    finishWith(session, await exchange(session, tag, name, response));
  if (initialResponse !== undefined) {
    const text = initialResponse === "" ? "" : new TextDecoder().decode(initialResponse);
    return await exchange(session, tag, name, text);
  }
  const prompt = name === "LOGIN" ? btoa("Username:") : "";
  askLine(session, tag, prompt, withResponse);
  return "pending";
}

/** Reads the client's next line as a base64 SASL response; `*` cancels (RFC 9051 §6.2.2). */
function askLine(
  session: ImapSession,
  tag: string,
  prompt: string,
  then: (decoded: string) => Promise<void>,
): void {
  session.continuation(prompt);
  session.expectLine(async (line) => {
    const trimmed = line.trim();
    if (trimmed === "*") {
      return session.finish("AUTHENTICATE", { tag, status: "BAD", text: "Authentication cancelled" });
    }
    const decoded = decodeBase64(trimmed);
    if (decoded === undefined) {
      return session.finish("AUTHENTICATE", { tag, status: "BAD", text: "Invalid base64 in the response" });
    }
    await then(decoded);
  });
}

/** One mechanism's exchange from its first response (already base64-decoded, or IR text). */
async function exchange(session: ImapSession, tag: string, name: string, response: string): Promise<Outcome> {
  const first = response;
  switch (name) {
    case "PLAIN": {
      const plain = parsePlain(first);
      if (!plain) return { tag, status: "BAD", text: "Invalid PLAIN response" };
      return await check(session, tag, name, {
        method: "PLAIN",
        username: plain.authcid,
        authcid: plain.authcid,
        authzid: plain.authzid,
        password: plain.password,
      });
    }
    case "LOGIN": {
      // The username came first; the password follows on its own line.
      askLine(session, tag, btoa("Password:"), async (password) => {
        finishWith(session, await check(session, tag, name, { method: "LOGIN", username: first, password }));
      });
      return "pending";
    }
    case "OAUTHBEARER": {
      const parsed = parseOauthBearer(first);
      if (!parsed) return { tag, status: "BAD", text: "Invalid OAUTHBEARER response" };
      return await check(session, tag, name, {
        method: name,
        username: parsed.user,
        accessToken: parsed.token,
      });
    }
    default: {
      const parsed = parseXoauth2(first);
      if (!parsed) return { tag, status: "BAD", text: "Invalid XOAUTH2 response" };
      return await check(session, tag, name, {
        method: name,
        username: parsed.user,
        accessToken: parsed.token,
      });
    }
  }
}

/** Checks the credentials; on success the session is authenticated. */
async function check(
  session: ImapSession,
  tag: string,
  mechanism: string,
  credentials: SaslCredentials,
): Promise<Outcome> {
  const { deps } = session;
  const checked = await deps.checkLogin(credentials, session.io.client);
  if ("principal" in checked) {
    deps.metrics.login(mechanism, "success");
    session.principal = checked.principal;
    session.authorization = checked.authorization;
    session.mechanism = mechanism;
    session.state = "authenticated";
    session.loggedIn();
    return { tag, status: "OK", code: session.capabilityCode(), text: "Logged in" };
  }
  deps.metrics.login(mechanism, checked.refusal === "rateLimited" ? "rateLimited" : "failure");
  if (checked.refusal === "rateLimited") {
    return {
      tag,
      status: "NO",
      code: { name: "UNAVAILABLE" },
      text: "Too many failed attempts; try again later",
    };
  }
  const failed: Outcome = {
    tag,
    status: "NO",
    code: { name: "AUTHENTICATIONFAILED" },
    text: "Authentication failed",
  };
  if (!isBearerMechanism(credentials.method)) return failed;
  // RFC 7628 §3.2.2: the error as JSON in a challenge; the client's dummy response ends it.
  session.continuation(btoa(JSON.stringify({ status: checked.status, scope: IMAP_SCOPE })));
  session.expectLine(() => Promise.resolve(session.finish("AUTHENTICATE", failed)));
  return "pending";
}

/** Writes the final answer of an exchange that went on over lines. */
function finishWith(session: ImapSession, outcome: Outcome): void {
  if (outcome !== "pending") session.finish("AUTHENTICATE", outcome);
}

function decodeBase64(text: string): string | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  return new TextDecoder().decode(Uint8Array.from(atob(text), (c) => c.charCodeAt(0)));
}
