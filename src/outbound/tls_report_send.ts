/**
 * Mailing the daily TLS reports (RFC 8460 §5.3) as claimed work, read in order:
 *
 * 1. {@link TlsReportSender.sendDue} lists the (domain, day) pairs of finished UTC days whose report
 *    is not sent, and claims each (store/mta_sts.ts): of two workers or processes, one mails it; a
 *    worker that dies leaves a claim that runs out, and another picks it up.
 * 2. The domain's `_smtp._tls` TXT record gives the mailto: addresses and https: URLs; none:
 *    nothing to send (done).
 * 3. The report JSON (tls_report_json.ts), gzipped, is POSTed to each https: URL as
 *    `application/tlsrpt+gzip` (§5.3.2; any 2xx is success), then goes in a multipart/report message
 *    with report-type "tlsrpt" (§5.3.1) to the mailto: addresses, handed to `send` (the outbound
 *    queue, which DKIM-signs it). The POSTs go first: one that fails leaves nothing queued, and the
 *    whole report is tried again (with the same report-id, so a receiver can drop a repeat).
 * 4. Sent: marked so. Failed (DNS cannot tell, a POST failed, the queue refused): the claim runs out
 *    and a later call tries again. Counts older than {@link KEEP_DAYS} days are dropped, sent or not.
 */
import { Buffer } from "node:buffer";
import { getLogger } from "@logtape/logtape";
import MimeNode from "nodemailer/lib/mime-node/index.js";
import type { MtaStsRepository } from "../store/mod.ts";
import { dayRange, reportAddresses, type ReportSubmitter, reportUrls, tlsReport } from "./tls_report_json.ts";
import { utcDay } from "./tls_report.ts";

const log = getLogger(["postern", "outbound", "tls-report"]);

/** How long one worker holds a report's claim. */
export const REPORT_CLAIM_MS = 10 * 60_000;
/** How long one POST of a report may take. */
export const REPORT_POST_TIMEOUT_MS = 60_000;
/** Days of counts kept: a report that could not be sent in that time is given up. */
export const KEEP_DAYS = 7;

/** A report message to send. */
export interface ReportMessage {
  mailFrom: string;
  recipients: string[];
  /** The message, not yet DKIM-signed. */
  message: Uint8Array;
}

/** What the sender uses. */
export interface TlsReportSenderDeps {
  store: Pick<
    MtaStsRepository,
    "policy" | "tlsCounts" | "unsentTlsReports" | "claimTlsReport" | "tlsReportSent" | "deleteTlsCountsBefore"
  >;
  resolver: { resolveTxt(name: string): Promise<string[]> };
  /** Queues the message for delivery (and DKIM-signs it); throws when it cannot now. */
  send(message: ReportMessage): Promise<void>;
  submitter: ReportSubmitter;
  /** POSTs a report (the global fetch unless a test gives its own, e.g. trusting a test CA). */
  fetch?: typeof fetch;
  /** The From address: of a local domain, so the message is DKIM-signed (§5.3 requires it). */
  from: string;
  /** The clock, in milliseconds (tests move it). */
  now?: () => number;
}

/** Mails the reports of finished days. */
export class TlsReportSender {
  readonly #deps: TlsReportSenderDeps;

  constructor(deps: TlsReportSenderDeps) {
    this.#deps = deps;
  }

  /** Sends every due report this worker can claim; how many were queued. */
  async sendDue(): Promise<number> {
    const { store } = this.#deps;
    const now = (this.#deps.now ?? Date.now)();
    const today = utcDay(now);
    await store.deleteTlsCountsBefore(utcDay(now - KEEP_DAYS * 86_400_000));
    let sent = 0;
    for (const { domain, day } of await store.unsentTlsReports(today)) {
      if (!await store.claimTlsReport(domain, day, { now, until: now + REPORT_CLAIM_MS })) continue;
      try {
        if (await this.#send(domain, day)) sent++;
        await store.tlsReportSent(domain, day, (this.#deps.now ?? Date.now)());
      } catch (error) {
        log.warn("TLS report for {domain} of {day} not sent, tried again later: {reason}", {
          domain,
          day,
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    }
    return sent;
  }

  /** Builds and queues one report; false when the domain asks for none. */
  async #send(domain: string, day: string): Promise<boolean> {
    const { store, submitter } = this.#deps;
    let records: string[];
    try {
      records = await this.#deps.resolver.resolveTxt(`_smtp._tls.${domain}`);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "ENOTFOUND" || code === "ENODATA") return false;
      throw error;
    }
    const recipients = reportAddresses(records);
    const urls = reportUrls(records);
    if (recipients.length === 0 && urls.length === 0) return false;
    const counts = (await store.tlsCounts(day)).filter((c) => c.domain === domain);
    const report = tlsReport(domain, day, { counts, policy: await store.policy(domain), submitter });
    const json = new TextEncoder().encode(JSON.stringify(report));
    const gzipped = new Uint8Array(
      await new Response(new Blob([json]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer(),
    );
    for (const url of urls) await this.#post(url, gzipped, submitter.host);
    if (urls.length) log.info("TLS report for {domain} of {day} posted to {urls}", { domain, day, urls });
    if (recipients.length === 0) return true;
    const { start, end } = dayRange(day);
    const id = String(report["report-id"]);
    const root = new MimeNode('multipart/report; report-type="tlsrpt"');
    root.setHeader({
      From: this.#deps.from,
      To: recipients.join(", "),
      Subject: `Report Domain: ${domain} Submitter: ${submitter.host} Report-ID: <${id}>`,
      "TLS-Report-Domain": domain,
      "TLS-Report-Submitter": submitter.host,
      "Auto-Submitted": "auto-generated",
    });
    root.createChild("text/plain; charset=utf-8").setContent(
      `This is an aggregate TLS report (RFC 8460) from ${submitter.host} for ${domain}, ${day} (UTC).\n`,
    );
    root.createChild("application/tlsrpt+gzip", {
      filename: `${submitter.host}!${domain}!${start / 1000}!${end / 1000}.json.gz`,
    }).setContent(Buffer.from(gzipped));
    const message = new Uint8Array(await root.build());
    await this.#deps.send({ mailFrom: this.#deps.from, recipients, message });
    log.info("TLS report for {domain} of {day} queued to {recipients}", { domain, day, recipients });
    return true;
  }

  /** POSTs the gzipped report to `url`; throws unless the answer is 2xx. */
  async #post(url: string, gzipped: Uint8Array<ArrayBuffer>, host: string): Promise<void> {
    const response = await (this.#deps.fetch ?? fetch)(url, {
      method: "POST",
      headers: { "content-type": "application/tlsrpt+gzip", "user-agent": `Postern TLS-RPT (${host})` },
      body: gzipped,
      redirect: "error",
      signal: AbortSignal.timeout(REPORT_POST_TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`POST ${url} answered ${response.status}`);
  }
}
