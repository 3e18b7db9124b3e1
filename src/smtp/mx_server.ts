/**
 * The MX: an SMTP listener (smtp-server) that takes mail for this server's own addresses from
 * anyone and relays nothing. Read in the order of a session:
 *
 * 1. connect: the total (maxClients) and per-address session caps; the certificate files re-read
 *    if they changed, so the next STARTTLS uses them (STARTTLS is offered only with files).
 * 2. MAIL FROM: SIZE over the limit is refused by smtp-server (552 5.3.4).
 * 3. RCPT TO: the recipient cap, then the directory check (mail/inbound.ts); each refusal counts
 *    towards the session's error limit.
 * 4. DATA: collected whole under the size limit and the DATA timeout, refused if it holds bare CR or
 *    LF or a NUL (data_guard.ts), then stored for every recipient in one transaction, and only then
 *    answered 250.
 *
 * No AUTH (submission is another listener), so nothing is ever relayed.
 */
import type { Logger } from "@logtape/logtape";
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import type { SmtpConfig } from "../config/mod.ts";
import { concatBytes } from "../model/bytes.ts";
import { type AcceptedRecipient, type InboundDelivery, InboundRefusalError } from "../mail/mod.ts";
import { dataProblem } from "./data_guard.ts";
import { useOwnEnhancedCodes } from "./enhanced_codes.ts";
import type { SmtpMetrics } from "./metrics.ts";
import { receivedHeader } from "./received.ts";
import { type RefusalReason, REFUSALS, replyError } from "./replies.ts";
import type { ReloadingTlsFiles } from "./tls_files.ts";

/** What the MX needs. */
export interface MxOptions {
  hostname: string;
  port: number;
  /** The name in the greeting and in Received fields. */
  serverName: string;
  inbound: Pick<InboundDelivery, "checkRecipient" | "deliver">;
  limits: Omit<SmtpConfig, "listen" | "tlsCertFile" | "tlsKeyFile">;
  tls?: ReloadingTlsFiles;
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
}

/** Starts the MX listener. */
export async function startMxServer(options: MxOptions): Promise<MxServer> {
  useOwnEnhancedCodes();
  const { limits, metrics, log } = options;
  const sessions = new Map<string, SessionState>();
  const perAddress = new Map<string, number>();
  const files = options.tls ? (await options.tls.current()).files : undefined;
  let closing = false;
  const refuse = (reason: RefusalReason, detail?: string) => {
    metrics.refused(reason);
    return replyError(REFUSALS[reason], detail);
  };
  const connectionOf = (session: SMTPServerSession) =>
    // deno-lint-ignore no-explicit-any
    [...(server.connections as Set<any>)].find((c) => c.id === session.id);

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
        const count = (perAddress.get(session.remoteAddress) ?? 0) + 1;
        perAddress.set(session.remoteAddress, count);
        sessions.set(session.id, { recipients: [], errors: 0, busy: false });
        metrics.connectionsTotal++;
        metrics.connections++;
        if (closing) return callback(replyError({ code: 421, enhanced: "4.3.2", text: "Shutting down" }));
        if (count > limits.maxConnectionsPerAddress) return callback(refuse("tooManyConnections"));
        if (options.tls) {
          try {
            const { files, changed } = await options.tls.current();
            if (changed) server.updateSecureContext({ key: files.key, cert: files.cert });
          } catch (error) {
            // The files that worked at start stay in use; the operator sees why the new ones did not.
            log.warn("Cannot re-read the TLS certificate files: {error}", { error: String(error) });
          }
        }
        callback();
      })();
    },
    onClose(session) {
      if (!sessions.delete(session.id)) return;
      metrics.connections--;
      const count = (perAddress.get(session.remoteAddress) ?? 1) - 1;
      if (count > 0) perAddress.set(session.remoteAddress, count);
      else perAddress.delete(session.remoteAddress);
    },
    onMailFrom(_address, session, callback) {
      const state = sessions.get(session.id)!;
      state.recipients = [];
      callback();
    },
    onRcptTo(address, session, callback) {
      void (async () => {
        const state = sessions.get(session.id)!;
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
    const state = sessions.get(session.id)!;
    state.busy = true;
    const id = `${session.id}.${++transactions}`;
    const started = Date.now();
    let outcome = "accepted";
    let size = 0;
    let messageId: string | undefined;
    const timer = setTimeout(() => {
      outcome = "dataTimeout";
      metrics.refused("dataTimeout");
      const reply = REFUSALS.dataTimeout;
      connectionOf(session)?.send(reply.code, `${reply.enhanced} ${reply.text}`);
      stream.destroy();
    }, limits.dataTimeoutSeconds * 1000);
    try {
      const chunks: Uint8Array[] = [];
      for await (const chunk of stream) {
        size += chunk.length;
        if (!stream.sizeExceeded) chunks.push(chunk);
      }
      if (outcome === "dataTimeout") return refuse("dataTimeout");
      if (stream.sizeExceeded) {
        outcome = "sizeExceeded";
        // smtp-server answers 552 5.3.4 itself (rejectOversized); this reply is never sent.
        return refuse("sizeExceeded");
      }
      const message = concatBytes(...chunks);
      messageId = headerValue(message, "message-id");
      const problem = dataProblem(message);
      if (problem) {
        outcome = problem;
        return refuse(problem);
      }
      try {
        await options.inbound.deliver({
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          recipients: state.recipients,
          message,
          received: (recipient) =>
            receivedHeader({
              helo: session.hostNameAppearsAs ?? "",
              remoteAddress: session.remoteAddress,
              hostname: options.serverName,
              protocol: session.transmissionType,
              tls: session.tlsOptions
                ? { version: session.tlsOptions.version, cipher: session.tlsOptions.name }
                : undefined,
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
      metrics.messagesAccepted++;
      return `Message accepted as ${id}`;
    } catch (error) {
      // After the DATA timeout the connection is gone already; the stream's error is that.
      if (outcome === "dataTimeout") return new Error("DATA timeout");
      // The client hung up in the middle of DATA: nothing to store and nobody to answer.
      if ((error as { code?: string }).code === "ECONNECTION") {
        outcome = "clientClosed";
        return error as Error;
      }
      outcome = "localError";
      throw error;
    } finally {
      clearTimeout(timer);
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
      });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.on("error", reject);
    server.listen(options.port, options.hostname, () => {
      server.removeListener("error", reject);
      resolve();
    });
  });
  server.on("error", (error) => log.warn("SMTP server error: {error}", { error: String(error) }));
  const address = server.server.address();
  const addr = typeof address === "object" && address
    ? { hostname: address.address, port: address.port }
    : { hostname: options.hostname, port: options.port };
  return {
    addr,
    starttls: Boolean(files),
    async close(graceMs) {
      closing = true;
      const closed = new Promise<void>((resolve) => {
        server.options.closeTimeout = Math.max(1, graceMs);
        server.close(() => resolve());
      });
      // deno-lint-ignore no-explicit-any
      for (const connection of server.connections as Set<any>) {
        if (!sessions.get(connection.id)?.busy) connection.send(421, "4.3.2 Shutting down, try again later");
      }
      await closed;
    },
  };
}

/** The SIZE the client declared at MAIL FROM (RFC 1870), if any. */
function declaredSize(session: SMTPServerSession): number | undefined {
  const args = session.envelope.mailFrom ? session.envelope.mailFrom.args : false;
  const size = args ? Number(args.SIZE) : NaN;
  return Number.isSafeInteger(size) && size >= 0 ? size : undefined;
}

/** The first value of a header field (for the log), unfolded, at most 200 characters. */
function headerValue(message: Uint8Array, name: string): string | undefined {
  const head = new TextDecoder("latin1").decode(message.subarray(0, 16384));
  const end = head.indexOf("\r\n\r\n");
  const match = new RegExp(`(?:^|\\r\\n)${name}:([^\\r]*(?:\\r\\n[ \\t][^\\r]*)*)`, "i")
    .exec(end < 0 ? head : head.slice(0, end));
  return match?.[1].replace(/\r\n/g, "").trim().slice(0, 200);
}
