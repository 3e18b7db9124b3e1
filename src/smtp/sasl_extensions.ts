/**
 * What smtp-server's SASL lacks for submission, added once to the pinned version (deno.json):
 *
 * - OAUTHBEARER (RFC 7628 §3.1): `n,a=user,^Aauth=Bearer token^A^A` as the initial response or
 *   after an empty 334. A refused token is answered with the RFC's JSON error in a 334 challenge;
 *   the client's `^A` then gets 535 5.7.8 (§3.2.3). smtp-server has XOAUTH2 only.
 * - AUTH before STARTTLS on a listener that offers it is `530 5.7.0 Must issue a STARTTLS command
 *   first` (RFC 3207 §4); smtp-server answers its own 538. Nor is AUTH advertised in EHLO before
 *   TLS (RFC 4954 §4: no plaintext password mechanism without TLS), so a client never tries it.
 *
 * The OAUTHBEARER handler passes `{ method: "OAUTHBEARER", username, accessToken }` to onAuth, as
 * XOAUTH2 does; a failure's `data` is the JSON error object.
 */
import sasl from "smtp-server/lib/sasl.js";
import { parseOauthBearer } from "../auth/mod.ts";
import { SMTPConnection } from "smtp-server/lib/smtp-connection.js";

let applied = false;

// deno-lint-ignore no-explicit-any
type Connection = any;
type Done = (error?: Error | null) => void;

/** Adds OAUTHBEARER and the RFC 3207 reply to smtp-server. */
export function useSubmissionSasl(): void {
  if (applied) return;
  applied = true;
  // deno-lint-ignore no-explicit-any
  const mechanisms = sasl as any;
  mechanisms.SASL_OAUTHBEARER = function (this: Connection, args: string[], callback: Done) {
    if (args.length > 1) {
      this.send(501, "5.5.4 Syntax: AUTH OAUTHBEARER initial-response");
      return callback();
    }
    if (!args.length) {
      this._nextHandler = (line: Buffer | string, done: Done) => oauthBearer.call(this, true, line, done);
      this.send(334);
      return callback();
    }
    oauthBearer.call(this, false, args[0], callback);
  };
  // deno-lint-ignore no-explicit-any
  const proto = SMTPConnection.prototype as any;
  const needsTls = (connection: Connection) => {
    const options = connection._server.options;
    return !connection.secure && connection._isSupported("STARTTLS") && !options.hideSTARTTLS &&
      !options.allowInsecureAuth;
  };
  const handleAuth = proto.handler_AUTH;
  proto.handler_AUTH = function (this: Connection, command: Buffer | string, callback: Done) {
    if (!needsTls(this)) return handleAuth.call(this, command, callback);
    this.send(530, "5.7.0 Must issue a STARTTLS command first");
    return callback();
  };
  const handleEhlo = proto.handler_EHLO;
  proto.handler_EHLO = function (this: Connection, command: Buffer | string, callback: Done) {
    if (!needsTls(this)) return handleEhlo.call(this, command, callback);
    // The reply is built synchronously from the options: AUTH is left out of this one reply.
    const options = this._server.options;
    const methods = options.authMethods;
    options.authMethods = [];
    try {
      return handleEhlo.call(this, command, callback);
    } finally {
      options.authMethods = methods;
    }
  };
}

export { parseOauthBearer };

function oauthBearer(this: Connection, canAbort: boolean, raw: Buffer | string, callback: Done): void {
  const text = String(raw ?? "").trim();
  if (canAbort && text === "*") {
    this.send(501, "5.7.0 Authentication aborted");
    return callback();
  }
  const decoded = /^[A-Za-z0-9+/]*={0,2}$/.test(text) && text.length % 4 === 0
    ? new TextDecoder().decode(Uint8Array.from(atob(text), (c) => c.charCodeAt(0)))
    : "";
  const parsed = parseOauthBearer(decoded);
  // deno-lint-ignore no-control-regex
  if (!parsed || /[\x00-\x1f\x7f]/.test(parsed.user ?? "")) {
    this.send(501, "5.5.2 Invalid OAUTHBEARER initial response");
    return callback();
  }
  this._server.onAuth(
    { method: "OAUTHBEARER", username: parsed.user ?? "", accessToken: parsed.token },
    this.session,
    // deno-lint-ignore no-explicit-any
    (error: (Error & { responseCode?: number }) | null, response?: any) => {
      if (error) {
        this.send(error.responseCode ?? 535, error.message);
        return callback();
      }
      if (!response?.user) {
        // RFC 7628 §3.2.2: the error as JSON in a challenge; the client's dummy reply ends it.
        this._nextHandler = (_line: unknown, done: Done) => {
          this.send(535, "5.7.8 Authentication credentials invalid");
          done();
        };
        this.send(334, btoa(JSON.stringify(response?.data ?? { status: "invalid_token" })));
        return callback();
      }
      this.session.user = response.user;
      this.session.transmissionType = this._transmissionType();
      this.send(235, "2.7.0 Authentication successful");
      callback();
    },
  );
}
