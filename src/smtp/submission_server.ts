/**
 * Message submission (RFC 6409) for mail clients: port 587 with STARTTLS required before AUTH, or
 * port 465 with implicit TLS (RFC 8314). Read in the order of a session:
 *
 * 1. connect: the session caps and certificate refresh shared with the MX (listener.ts); on 465 the
 *    refresh comes before the handshake, SNI or not (refreshBeforeHandshake).
 * 2. AUTH: PLAIN, LOGIN, XOAUTH2, OAUTHBEARER through the one authenticator (submission_auth.ts);
 *    before TLS it is 530 5.7.0 (sasl_extensions.ts). MAIL before AUTH is 530 5.7.0.
 * 3. MAIL FROM: the session's credential checked again (a credential revoked since AUTH ends the
 *    session's authentication: 535 5.7.8, counted and logged as a failed AUTH would be), then the sender must be an address the account may send
 *    as (its own, or a group's it was let send as: read afresh each time), else 553 5.7.1.
 * 4. RCPT TO: the recipient cap and the address syntax; anyone may be a recipient.
 * 5. DATA: collected as the MX does (receive_data.ts), given a Received field (received.ts: the
 *    client's address and TLS, `with ESMTPSA`, not the account nor a recipient), then stored in Sent and recorded as an
 *    EmailSubmission (mail/message_submission.ts; its From must be the account's too, else 553 5.7.1)
 *    and only then answered 250; the send itself runs after.
 */
import type { Logger } from "@logtape/logtape";
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import type { SmtpConfig } from "../config/mod.ts";
import type { MessageSubmission } from "../mail/mod.ts";
import { concatBytes } from "../model/bytes.ts";
import { AuthError, QuotaError, RuleError } from "../model/errors.ts";
import type { Principal } from "../model/types.ts";
import { useOwnEnhancedCodes } from "./enhanced_codes.ts";
import { closeSmtp, listenSmtp, refreshBeforeHandshake, refreshTls, SmtpSessions } from "./listener.ts";
import type { SmtpMetrics } from "./metrics.ts";
import { headerValue, receiveData } from "./receive_data.ts";
import { sessionReceivedHeader } from "./received.ts";
import { type RefusalReason, REFUSALS, replyError } from "./replies.ts";
import { useSubmissionSasl } from "./sasl_extensions.ts";
import {
  AUTH_FAULT,
  checkSasl,
  logRevoked,
  type SaslAuthDeps,
  type SaslCredentials,
} from "./submission_auth.ts";
import type { TlsSource } from "./tls_files.ts";

/** What a submission listener needs. */
export interface SubmissionOptions {
  hostname: string;
  port: number;
  /** Share the address with other processes (SO_REUSEPORT). */
  reusePort?: boolean;
  /** 465: TLS from the first byte; otherwise 587 with STARTTLS. */
  implicitTls: boolean;
  serverName: string;
  /** AUTH: the authenticator of HTTP. */
  auth: SaslAuthDeps;
  /** MAIL FROM: the credential checked again (without feeding the login throttle). */
  recheck(authorization: string, client: string): Promise<Principal>;
  submission: Pick<MessageSubmission, "maySendAs" | "submit">;
  isRecipientAddress(address: string): boolean;
  limits: Pick<
    SmtpConfig,
    | "maxMessageBytes"
    | "maxRecipients"
    | "maxConnections"
    | "maxConnectionsPerAddress"
    | "maxErrors"
    | "commandTimeoutSeconds"
    | "dataTimeoutSeconds"
  >;
  tls: TlsSource;
  metrics: SmtpMetrics;
  log: Logger;
}

/** A listening submission server. */
export interface SubmissionServer {
  addr: { hostname: string; port: number };
  /**
   * Like the MX's close: idle sessions get 421 4.3.2 at once, a message being received may finish;
   * then waits for the sends of acknowledged messages (the caller bounds the wait).
   */
  close(graceMs: number): Promise<void>;
}

interface SessionState {
  principal?: Principal;
  /** The credential the session authenticated with, as an Authorization value, for the re-check. */
  authorization?: string;
  mechanism?: string;
  /** The login of PLAIN or LOGIN, as typed (for the failed-login line of a revoked credential). */
  login?: string;
  recipients: string[];
  errors: number;
  busy: boolean;
  /**
   * The send of the session's last message, still under way: the next message waits for it before
   * it is accepted, so one client has at most one send running per session (back-pressure).
   */
  sending?: Promise<void>;
}

/** Starts a submission listener (587 or 465). */
export async function startSubmissionServer(options: SubmissionOptions): Promise<SubmissionServer> {
  useOwnEnhancedCodes();
  useSubmissionSasl();
  const { limits, metrics, log } = options;
  const counters = metrics.listener(options.implicitTls ? "submissions" : "submission");
  const sessions = new SmtpSessions<SessionState>(counters, limits.maxConnectionsPerAddress);
  /** Sends acknowledged and still running: a shutdown lets them finish (within its grace). */
  const sends = new Set<Promise<void>>();
  const files = (await options.tls.current()).files;
  const refuse = (reason: RefusalReason, detail?: string) => {
    counters.refused(reason);
    return replyError(REFUSALS[reason], detail);
  };

  const server: SMTPServer = new SMTPServer({
    name: options.serverName,
    banner: "Postern ESMTP submission",
    logger: false,
    disableReverseLookup: true,
    secure: options.implicitTls,
    key: files.key,
    cert: files.cert,
    // 465: each handshake waits for the certificate refresh (refreshBeforeHandshake, below).
    pauseOnConnect: options.implicitTls,
    authOptional: false,
    authRequiredMessage: "5.7.0 Authentication required",
    // deno-lint-ignore no-explicit-any
    authMethods: ["PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER"] as any,
    hideSTARTTLS: options.implicitTls,
    hideENHANCEDSTATUSCODES: false,
    size: limits.maxMessageBytes,
    rejectOversized: true,
    maxClients: limits.maxConnections,
    socketTimeout: limits.commandTimeoutSeconds * 1000,
    onConnect(session, callback) {
      void (async () => {
        const refusal = sessions.open(session, { recipients: [], errors: 0, busy: false });
        if (refusal === "closing") {
          return callback(replyError({ code: 421, enhanced: "4.3.2", text: "Shutting down" }));
        }
        if (refusal) return callback(refuse(refusal));
        await refreshTls(server, options.tls, log);
        callback();
      })();
    },
    onClose(session) {
      sessions.close(session);
    },
    onAuth(auth, session, callback) {
      const state = sessions.get(session)!;
      const credentials = auth as unknown as SaslCredentials;
      void checkSasl(options.auth, credentials, session.remoteAddress).catch((error) => {
        log.error("SMTP AUTH failed: {error}", { error });
        return AUTH_FAULT;
      }).then((outcome) => {
        if ("principal" in outcome) {
          metrics.authenticated(credentials.method, "success");
          Object.assign(state, {
            principal: outcome.principal,
            authorization: outcome.authorization,
            mechanism: credentials.method,
            login: credentials.method === "PLAIN" || credentials.method === "LOGIN"
              ? credentials.username
              : undefined,
          });
          return callback(null, { user: outcome.principal.accountId });
        }
        metrics.authenticated(
          credentials.method,
          outcome.refusal === "invalid" ? "failure" : outcome.refusal,
        );
        if (outcome.refusal !== "invalid") return callback(replyError(outcome.reply));
        const { reply } = outcome;
        // XOAUTH2 and OAUTHBEARER send `data` as the JSON challenge, then 535 (RFC 7628 §3.2.2).
        callback(null, {
          data: outcome.data,
          message: `${reply.enhanced} ${reply.text}`,
          responseCode: outcome.data ? undefined : reply.code,
        } as never);
      });
    },
    onMailFrom(address, session, callback) {
      void (async () => {
        const state = sessions.get(session)!;
        state.recipients = [];
        try {
          state.principal = await options.recheck(state.authorization!, session.remoteAddress);
        } catch (error) {
          if (!(error instanceof AuthError)) {
            log.error("Re-checking an SMTP session's credential failed: {error}", { error });
            return callback(refuse("localError"));
          }
          // Revoked since AUTH: the session is no longer authenticated and may AUTH again.
          metrics.authenticated(state.mechanism ?? "unknown", "revoked");
          logRevoked(log, {
            error,
            login: state.login,
            mechanism: state.mechanism,
            client: session.remoteAddress,
          });
          session.user = undefined;
          Object.assign(state, {
            principal: undefined,
            authorization: undefined,
            mechanism: undefined,
            login: undefined,
          });
          return callback(refuse("credentialsRevoked"));
        }
        if (
          !address.address || !await options.submission.maySendAs(state.principal.accountId, address.address)
        ) {
          return fail(state, callback, "forbiddenSender", address.address || "<>");
        }
        callback();
      })().catch((error) => {
        log.error("MAIL FROM failed: {error}", { error });
        callback(refuse("localError"));
      });
    },
    onRcptTo(address, session, callback) {
      const state = sessions.get(session)!;
      if (state.recipients.length >= limits.maxRecipients) return fail(state, callback, "tooManyRecipients");
      if (!options.isRecipientAddress(address.address)) return fail(state, callback, "badRecipient");
      state.recipients.push(address.address);
      callback();
    },
    onData(stream, session, callback) {
      void receive(stream, session).then(
        (reply) => reply instanceof Error ? callback(reply) : callback(null, reply),
        (error) => {
          log.error("Receiving a submitted message failed: {error}", { error });
          callback(refuse("localError"));
        },
      );
    },
  });

  /** A refused command counts towards the session's error limit. */
  function fail(
    state: SessionState,
    callback: (error?: Error) => void,
    reason: RefusalReason,
    detail?: string,
  ) {
    state.errors++;
    callback(refuse(state.errors >= limits.maxErrors ? "tooManyErrors" : reason, detail));
  }

  let transactions = 0;
  /** DATA: the message collected, submitted, committed; the reply text or refusal. */
  async function receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string | Error> {
    const state = sessions.get(session)!;
    state.busy = true;
    const id = `${session.id}.${++transactions}`;
    const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
    let outcome = "accepted";
    let size = 0;
    let messageId: string | undefined;
    let submissionId: number | undefined;
    try {
      const data = await receiveData(stream, {
        timeoutMs: limits.dataTimeoutSeconds * 1000,
        server,
        session,
      });
      size = data.size;
      if (data.refusal) {
        outcome = data.refusal;
        if (data.refusal !== "dataTimeout") return refuse(data.refusal);
        counters.refused("dataTimeout");
        return new Error("DATA timeout");
      }
      messageId = headerValue(data.message, "message-id");
      const message = concatBytes(new TextEncoder().encode(traceOf(session, id)), data.message);
      await state.sending;
      try {
        const submission = await options.submission.submit(state.principal!.accountId, {
          mailFrom,
          rcptTo: state.recipients,
          message,
        }, (sending) => {
          const settled = sending.catch((error) =>
            // The claim taken at insert expires and the due loop sends it again (mail/submissions.ts).
            log.error("Sending submission {id} failed: {error}", { id: submissionId, error })
          );
          sends.add(settled);
          state.sending = settled.finally(() => sends.delete(settled));
        });
        submissionId = submission.id;
      } catch (error) {
        const reason = refusalOf(error);
        if (!reason) throw error;
        outcome = reason;
        return refuse(reason, (error as Error).message);
      }
      metrics.messagesSubmitted++;
      return `Message accepted for delivery as ${id}`;
    } catch (error) {
      outcome = "localError";
      throw error;
    } finally {
      state.busy = false;
      log.info("SMTP submission {outcome}", {
        event: "smtp.submission",
        id,
        client: session.remoteAddress,
        account: state.principal?.name,
        mechanism: state.mechanism,
        tls: Boolean(session.secure),
        mailFrom,
        recipients: state.recipients.length,
        size,
        outcome,
        messageId,
        submissionId,
      });
    }
  }

  /** The Received field of a submitted message: the client's address, never its account. */
  function traceOf(session: SMTPServerSession, id: string): string {
    return sessionReceivedHeader(session, {
      hostname: options.serverName,
      authenticated: true,
      id,
      date: new Date(),
    });
  }

  if (options.implicitTls) refreshBeforeHandshake(server, options.tls, log);
  const addr = await listenSmtp(server, options, log);
  return {
    addr,
    async close(graceMs) {
      sessions.closing = true;
      await closeSmtp(server, graceMs, (sessionId) => Boolean(sessions.get(sessionId)?.busy));
      await Promise.all(sends);
    },
  };
}

/** The SMTP refusal of a submission the mail service refused (a client's mistake, never a 4xx fault). */
function refusalOf(error: unknown): RefusalReason | undefined {
  if (error instanceof QuotaError) return "mailboxFullSender";
  if (!(error instanceof RuleError)) return undefined;
  switch (error.rule) {
    case "tooManyRecipients":
      return "tooManyRecipients";
    case "invalidRecipients":
    case "noRecipients":
      return "badRecipient";
    default:
      return "forbiddenSender";
  }
}
