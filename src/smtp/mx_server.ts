/**
 * The MX: an SMTP listener (smtp-server) that takes mail for this server's own addresses from
 * anyone and relays nothing. Read in the order of a session:
 *
 * 1. connect: the total (maxClients) and per-address session caps (an IPv6 client counted with its
 *    /64, as the HTTP listener counts: addressKey in http/connection_limits.ts); the cap on commands
 *    before the first MAIL FROM (command_cap.ts); the certificate files re-read if they changed, so
 *    the next STARTTLS uses them (STARTTLS is offered only with files).
 * 2. MAIL FROM: SIZE over the limit is refused by smtp-server (552 5.3.4).
 * 3. RCPT TO: the recipient cap, then the directory check (mail/inbound.ts); each refusal counts
 *    towards the session's error limit.
 * 4. DATA: collected whole under the size limit and the DATA timeout, refused if it holds bare CR or
 *    LF or a NUL (receive_data.ts), authenticated (SPF, DKIM, DMARC, ARC: authentication.ts; a DMARC
 *    p=reject failure refused 550 5.7.1), then stored for every recipient in one transaction with its
 *    Authentication-Results above the Received field, and only then answered 250.
 *
 * No AUTH (submission is another listener), so nothing is ever relayed.
 */
import type { Logger } from "@logtape/logtape";
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import type { SmtpConfig } from "../config/mod.ts";
import {
  type AcceptedRecipient,
  type InboundDelivery,
  InboundRefusalError,
  type MailAuthenticator,
} from "../mail/mod.ts";
import { authenticateMessage } from "./authentication.ts";
import { capCommandsBeforeMail } from "./command_cap.ts";
import { useOwnEnhancedCodes } from "./enhanced_codes.ts";
import { closeSmtp, connectionOf, listenSmtp, refreshTls, SmtpSessions } from "./listener.ts";
import type { SmtpMetrics } from "./metrics.ts";
import { declaredSize, headerValue, receiveData } from "./receive_data.ts";
import { sessionReceivedHeader } from "./received.ts";
import { type RefusalReason, REFUSALS, replyError } from "./replies.ts";
import type { TlsSource } from "./tls_files.ts";

/** What the MX needs. */
export interface MxOptions {
  hostname: string;
  port: number;
  /** Share the address with other processes (SO_REUSEPORT). */
  reusePort?: boolean;
  /** The name in the greeting and in Received fields. */
  serverName: string;
  inbound: Pick<InboundDelivery, "checkRecipient" | "deliver"> & Partial<Pick<InboundDelivery, "announce">>;
  limits: Omit<
    SmtpConfig,
    "listen" | "submissionListen" | "submissionsListen" | "tlsCertFile" | "tlsKeyFile"
  >;
  tls?: TlsSource;
  /** Checks SPF, DKIM, DMARC and ARC of each message; none: messages are stored unchecked. */
  authenticator?: Pick<MailAuthenticator, "check">;
  metrics: SmtpMetrics;
  log: Logger;
}

/** A listening MX. */
export interface MxServer {
  addr: { hostname: string; port: number };
  /** Whether STARTTLS is offered. */
  starttls: boolean;
  /**
   * Stops accepting, ends idle sessions at once (421 4.3.2) and lets a message being received
   * finish within `graceMs`; then ends the rest.
   */
  close(graceMs: number): Promise<void>;
}

/** What the MX keeps of a session between commands. */
interface SessionState {
  recipients: AcceptedRecipient[];
  errors: number;
  /** Whether a message of this session is being received or stored. */
  busy: boolean;
  /** Whether a MAIL FROM was accepted (the end of the command cap). */
  mailSeen: boolean;
}

/** Starts the MX listener. */
export async function startMxServer(options: MxOptions): Promise<MxServer> {
  useOwnEnhancedCodes();
  const { limits, metrics, log } = options;
  const counters = metrics.listener("mx");
  const sessions = new SmtpSessions<SessionState>(counters, limits.maxConnectionsPerAddress);
  const files = options.tls ? (await options.tls.current()).files : undefined;
  const refuse = (reason: RefusalReason, detail?: string) => {
    counters.refused(reason);
    return replyError(REFUSALS[reason], detail);
  };

  const server: SMTPServer = new SMTPServer({
    name: options.serverName,
    banner: "Postern ESMTP",
    logger: false,
    disableReverseLookup: true,
    authOptional: true,
    disabledCommands: files ? ["AUTH"] : ["AUTH", "STARTTLS"],
    hideSTARTTLS: !files,
    hideENHANCEDSTATUSCODES: false,
    size: limits.maxMessageBytes,
    // Over-size data is answered 552 5.3.4 by smtp-server itself, whatever onData says.
    rejectOversized: true,
    maxClients: limits.maxConnections,
    socketTimeout: limits.commandTimeoutSeconds * 1000,
    ...(files ? { key: files.key, cert: files.cert } : {}),
    onConnect(session, callback) {
      void (async () => {
        const state: SessionState = { recipients: [], errors: 0, busy: false, mailSeen: false };
        const refusal = sessions.open(session, state);
        if (refusal === "closing") {
          return callback(replyError({ code: 421, enhanced: "4.3.2", text: "Shutting down" }));
        }
        if (refusal) return callback(refuse(refusal));
        capCommandsBeforeMail(connectionOf(server, session), limits.maxCommandsBeforeMail, {
          started: () => state.mailSeen,
          reply: REFUSALS.tooManyCommands,
          exceeded: () => counters.refused("tooManyCommands"),
        });
        if (options.tls) await refreshTls(server, options.tls, log);
        callback();
      })();
    },
    onClose(session) {
      sessions.close(session);
    },
    onMailFrom(_address, session, callback) {
      const state = sessions.get(session)!;
      state.recipients = [];
      state.mailSeen = true;
      callback();
    },
    onRcptTo(address, session, callback) {
      void (async () => {
        const state = sessions.get(session)!;
        const fail = (reason: RefusalReason, detail?: string) => {
          state.errors++;
          if (state.errors >= limits.maxErrors) return callback(refuse("tooManyErrors"));
          callback(refuse(reason, detail));
        };
        if (state.recipients.length >= limits.maxRecipients) return fail("tooManyRecipients");
        const size = declaredSize(session);
        try {
          const check = await options.inbound.checkRecipient(address.address, size);
          if (!check.accepted) return fail(check.reason, check.detail);
          state.recipients.push(check.recipient);
          callback();
        } catch (error) {
          log.error("Checking recipient {address} failed: {error}", { address: address.address, error });
          callback(refuse("localError"));
        }
      })();
    },
    onData(stream, session, callback) {
      void receive(stream, session).then(
        (reply) => reply instanceof Error ? callback(reply) : callback(null, reply),
        (error) => {
          log.error("Receiving a message failed: {error}", { error });
          callback(refuse("localError"));
        },
      );
    },
  });

  let transactions = 0;
  /** DATA: the message collected, checked, stored; the reply text or refusal. */
  async function receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string | Error> {
    const state = sessions.get(session)!;
    state.busy = true;
    const id = `${session.id}.${++transactions}`;
    const started = Date.now();
    const stages = { receive: 0, authenticate: 0, store: 0 };
    let mark = performance.now();
    const lap = () => {
      const now = performance.now();
      const ms = now - mark;
      mark = now;
      return ms;
    };
    let outcome = "accepted";
    let size = 0;
    let messageId: string | undefined;
    let authentication: Record<string, string> | undefined;
    let arrived: (() => void) | undefined;
    try {
      const data = await receiveData(stream, {
        timeoutMs: limits.dataTimeoutSeconds * 1000,
        server,
        session,
      });
      size = data.size;
      stages.receive = lap();
      if (data.refusal) {
        outcome = data.refusal;
        // After the DATA timeout the connection is gone already: nothing more is answered.
        if (data.refusal === "dataTimeout") {
          counters.refused("dataTimeout");
          return new Error("DATA timeout");
        }
        return refuse(data.refusal);
      }
      const message = data.message;
      // The commit under way as this message is checked waits for it (mail/group_commit.ts).
      arrived = options.inbound.announce?.();
      messageId = headerValue(message, "message-id");
      const auth = await authenticateMessage(options.authenticator, {
        session,
        message,
        recipients: state.recipients,
        metrics,
      });
      stages.authenticate = lap();
      authentication = auth && { ...auth.results, ...(auth.junk.size ? { action: "junk" } : {}) };
      if (auth?.refusal) {
        outcome = "dmarcReject";
        return refuse("dmarcReject", auth.refusal);
      }
      try {
        await options.inbound.deliver({
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          recipients: state.recipients,
          message: auth?.message ?? message,
          junk: auth?.junk,
          facts: auth?.facts,
          // receiveData refused any bare CR or LF (data_guard.ts).
          crlf: true,
          arrived,
          received: (recipient) =>
            (auth?.header ?? "") + sessionReceivedHeader(session, {
              hostname: options.serverName,
              authenticated: false,
              id,
              recipient,
              date: new Date(started),
            }),
        });
      } catch (error) {
        if (!(error instanceof InboundRefusalError)) throw error;
        outcome = error.reason;
        return refuse(error.reason, error.message);
      }
      stages.store = lap();
      metrics.accepted(stages);
      return `Message accepted as ${id}`;
    } catch (error) {
      // The client hung up in the middle of DATA: nothing to store and nobody to answer.
      if ((error as { code?: string }).code === "ECONNECTION") {
        outcome = "clientClosed";
        return error as Error;
      }
      outcome = "localError";
      throw error;
    } finally {
      arrived?.();
      state.busy = false;
      log.info("SMTP transaction {outcome}", {
        event: "smtp.transaction",
        id,
        client: session.remoteAddress,
        helo: session.hostNameAppearsAs,
        tls: Boolean(session.secure),
        mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
        recipients: state.recipients.length,
        size,
        outcome,
        messageId,
        authentication,
      });
    }
  }

  const addr = await listenSmtp(server, options, log);
  return {
    addr,
    starttls: Boolean(files),
    async close(graceMs) {
      sessions.closing = true;
      await closeSmtp(server, graceMs, (id) => Boolean(sessions.get(id)?.busy));
    },
  };
}
