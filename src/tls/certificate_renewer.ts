/**
 * Keeps the ACME certificate of the database current: ordered when missing, when the configured
 * names change, and 30 days before it expires. The work is a claimed row (see
 * store/certificates.ts): of two processes or two timers only the one whose claim succeeded orders,
 * a worker that dies mid-order leaves a claim that runs out (then another orders), and a failure
 * sets a backoff before the next try while the current certificate stays in use.
 *
 * Read in order: {@link CertificateRenewer.renewDue} (is it due, claim, order, save or fail), then
 * the metrics.
 */
import type { CertificateRepository } from "../store/mod.ts";
import type { Sealer } from "../oauth/mod.ts";
import type { MetricSample } from "../http/mod.ts";
import type { OrderedCertificate } from "./acme_orderer.ts";

/** Renewal starts this long before expiry (Let's Encrypt's certificates last 90 days). */
export const RENEW_BEFORE_MS = 30 * 24 * 3600_000;
/** How long a worker holds the claim for one order (the order polls the CA within it). */
export const ORDER_CLAIM_MS = 10 * 60_000;
/** Wait after the first failure; it doubles with each further failure up to {@link RETRY_MAX_MS}. */
export const RETRY_FIRST_MS = 5 * 60_000;
/** Longest wait between two failed tries. */
export const RETRY_MAX_MS = 6 * 3600_000;

/** The name of the row holding the server's certificate. */
export const SERVER_CERTIFICATE = "server";

/** Where renewal logs (logtape's Logger fits). */
export interface RenewalLog {
  info(message: string, properties: Record<string, unknown>): void;
  warn(message: string, properties: Record<string, unknown>): void;
}

/** What the renewer needs. */
export interface RenewerOptions {
  repository: CertificateRepository;
  sealer: Sealer;
  /** Orders a certificate for the names (an AcmeOrderer's order). */
  order: (domains: string[]) => Promise<OrderedCertificate>;
  domains: string[];
  /**
   * Names added to `domains` at each check (the mta-sts.DOMAIN names that point here, see
   * mta_sts_names.ts): a new one makes the certificate due, so it is ordered with it.
   */
  extraNames?: () => Promise<string[]>;
  log: RenewalLog;
  /** The clock (ms since the epoch); injectable for tests. */
  now?: () => number;
  name?: string;
}

/** What one call of {@link CertificateRenewer.renewDue} did. */
export type RenewalOutcome =
  | "notDue"
  | "backingOff"
  | "claimedElsewhere"
  | "renewed"
  | "failed"
  | "lostClaim";

/** Orders and renews the certificate of one row. */
export class CertificateRenewer {
  readonly #options: RenewerOptions;
  readonly #now: () => number;
  readonly #name: string;
  #domains: string;
  #failures = 0;
  #renewals = 0;
  #notAfter: number | undefined;

  constructor(options: RenewerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#name = options.name ?? SERVER_CERTIFICATE;
    this.#domains = options.domains.join(",");
  }

  /** Orders a certificate if one is due and this worker wins the claim; what happened. */
  async renewDue(): Promise<RenewalOutcome> {
    const { repository, log } = this.#options;
    const now = this.#now();
    // 1. Due? (no certificate, other names, or within 30 days of expiry; and past any backoff)
    const names = await this.#names((await repository.get(this.#name))?.domains);
    this.#domains = names.join(",");
    await repository.ensure(this.#name, this.#domains);
    const row = await repository.get(this.#name);
    if (row === undefined) return "notDue";
    if (row.certPem) this.#notAfter = row.notAfter;
    const due = !row.certPem || row.domains !== this.#domains || now >= row.notAfter - RENEW_BEFORE_MS;
    if (!due) return "notDue";
    if (row.nextAttemptAt > now) return "backingOff";
    // 2. Claim: one statement, so two renewers never order twice.
    const until = now + ORDER_CLAIM_MS;
    const claimed = await repository.claim(this.#name, now, until);
    if (claimed === undefined) return "claimedElsewhere";
    // 3. Order, then save under the claim (a worker whose claim was taken over saves nothing).
    try {
      const issued = await this.#options.order(names);
      const saved = await repository.save(this.#name, until, {
        domains: this.#domains,
        certPem: issued.certPem,
        keySealed: this.#options.sealer.seal(issued.keyPem),
        notAfter: issued.notAfter,
        now: Math.max(this.#now(), row.updatedAt + 1),
      });
      if (!saved) return "lostClaim";
      this.#renewals++;
      this.#notAfter = issued.notAfter;
      log.info("TLS certificate for {domains} obtained, valid until {notAfter}", {
        domains: this.#domains,
        notAfter: new Date(issued.notAfter).toISOString(),
      });
      return "renewed";
    } catch (error) {
      // 4. Failed: back off, keep the current certificate, warn.
      this.#failures++;
      const wait = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(claimed.failures, 16));
      const message = (error as Error)?.message ?? String(error);
      await repository.fail(this.#name, until, { error: message, nextAttemptAt: this.#now() + wait });
      log.warn(
        "Renewing the TLS certificate for {domains} failed ({error}); retrying in {minutes} min, {current}",
        {
          domains: this.#domains,
          error: message,
          minutes: Math.round(wait / 60_000),
          current: row.certPem
            ? `the current certificate (valid until ${new Date(row.notAfter).toISOString()}) stays in use`
            : "no certificate yet",
        },
      );
      return "failed";
    }
  }

  /**
   * The configured names, then the extra ones. When the extra ones cannot be told now (DNS down), the
   * stored certificate's names stand, so a passing failure neither drops a name nor orders anew.
   */
  async #names(stored: string | undefined): Promise<string[]> {
    try {
      return [...new Set([...this.#options.domains, ...(await this.#options.extraNames?.() ?? [])])];
    } catch (error) {
      this.#options.log.warn("Extra certificate names unavailable ({error}); keeping {names}", {
        error: (error as Error)?.message ?? String(error),
        names: stored || this.#options.domains.join(","),
      });
      return stored ? stored.split(",") : [...this.#options.domains];
    }
  }

  /** Expiry and renewal figures for /metrics. */
  samples(): MetricSample[] {
    const samples: MetricSample[] = [
      {
        name: "postern_tls_certificate_renewal_failures_total",
        help: "Failed ACME orders of this process (each is retried with backoff)",
        type: "counter",
        value: this.#failures,
      },
      {
        name: "postern_tls_certificate_renewals_total",
        help: "Certificates this process obtained with ACME",
        type: "counter",
        value: this.#renewals,
      },
    ];
    if (this.#notAfter !== undefined) {
      samples.push({
        name: "postern_tls_certificate_expiry_seconds",
        help: "Seconds until the ACME certificate expires (renewed 30 days before)",
        type: "gauge",
        value: Math.round((this.#notAfter - this.#now()) / 1000),
      });
    }
    return samples;
  }
}
