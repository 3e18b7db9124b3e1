/**
 * One ACME order (RFC 8555 §7.4) with the npm client acme-client: the account key (created once per
 * directory and kept sealed in the database, so every process orders as the same account), a new
 * certificate key, HTTP-01 answers published in the database for the HTTP listener's
 * `/.well-known/acme-challenge/` route, and the issued chain.
 *
 * HTTP-01 only. TLS-ALPN-01 (RFC 8737) needs a certificate whose acmeIdentifier extension is
 * critical (§3), and Deno 2.9.6's TLS (rustls/webpki, also under Deno.serve and node:tls) refuses to
 * load one: `Deno.listenTls` with acme-client's createAlpnCertificate output throws "invalid peer
 * certificate: Other(OtherError(UnsupportedCriticalExtension))". Deno.serve also takes a single
 * certificate with no per-ALPN selection; routing by the ClientHello in the front would not help.
 */
import acme from "acme-client";
import type { CertificateRepository } from "../store/mod.ts";
import type { Sealer } from "../oauth/mod.ts";

/** How long a published HTTP-01 answer stays valid (the CA validates within minutes). */
const CHALLENGE_TTL_MS = 60 * 60 * 1000;

/** Where to order and who orders. */
export interface AcmeOrderOptions {
  directoryUrl: string;
  email: string | undefined;
  /** PEM roots trusted for the directory's HTTPS besides the system's (Pebble's test CA). */
  caCerts?: string[];
  /**
   * Retries of a request the CA did not answer or answered 429/5xx: tries after the first, and the
   * wait in seconds (multiplied by the try's number). acme-client's defaults: 5 and 5 s.
   */
  retries?: { attempts: number; delaySeconds: number };
}

/** A certificate as issued: the chain, its key (clear, for the caller to seal) and its expiry. */
export interface OrderedCertificate {
  certPem: string;
  keyPem: string;
  notAfter: number;
}

/** Orders certificates from one ACME directory. */
export class AcmeOrderer {
  readonly #repository: CertificateRepository;
  readonly #sealer: Sealer;
  readonly #options: AcmeOrderOptions;
  readonly #httpClient: Deno.HttpClient | undefined;

  constructor(repository: CertificateRepository, sealer: Sealer, options: AcmeOrderOptions) {
    this.#repository = repository;
    this.#sealer = sealer;
    this.#options = options;
    this.#httpClient = options.caCerts?.length
      ? Deno.createHttpClient({ caCerts: options.caCerts })
      : undefined;
  }

  /** Orders a certificate for `domains` (the first is its subject), answering HTTP-01. */
  async order(domains: string[]): Promise<OrderedCertificate> {
    const client = new acme.Client({
      directoryUrl: this.#options.directoryUrl,
      accountKey: await this.#accountKey(),
    });
    useFetch(this.#httpClient, this.#options.retries);
    const [key, csr] = await acme.crypto.createCsr(
      { commonName: domains[0], altNames: domains },
      await acme.crypto.createPrivateEcdsaKey(),
    );
    const certPem = await client.auto({
      csr,
      email: this.#options.email,
      termsOfServiceAgreed: true,
      challengePriority: ["http-01"],
      // The CA validates from outside; acme-client's own pre-check would fetch port 80 from here.
      skipChallengeVerification: true,
      challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
        await this.#repository.putChallenge(challenge.token, keyAuthorization, Date.now() + CHALLENGE_TTL_MS);
      },
      challengeRemoveFn: async (_authz, challenge) => {
        await this.#repository.deleteChallenge(challenge.token);
      },
    }).catch((error) => {
      throw unanswered(error)
        ? new Error(`no answer from the ACME directory ${this.#options.directoryUrl}`)
        : error;
    });
    const info = acme.crypto.readCertificateInfo(certPem);
    return { certPem, keyPem: key.toString(), notAfter: info.notAfter.getTime() };
  }

  /** The account key of this directory, created and stored on first use. */
  async #accountKey(): Promise<string> {
    const url = this.#options.directoryUrl;
    const stored = await this.#repository.accountKey(url);
    if (stored !== undefined) return this.#sealer.open(stored);
    const fresh = this.#sealer.seal((await acme.crypto.createPrivateEcdsaKey()).toString());
    return this.#sealer.open(await this.#repository.keepAccountKey(url, fresh, Date.now()));
  }
}

/**
 * Points acme-client's HTTP (its own axios instance, read per request) at fetch, with the extra roots
 * when given: the default adapter (node:https) takes no extra roots in Deno, fetch takes a client.
 */
function useFetch(httpClient: Deno.HttpClient | undefined, retries: AcmeOrderOptions["retries"]): void {
  const defaults = acme.axios.defaults as typeof acme.axios.defaults & {
    fetchOptions?: unknown;
    acmeSettings: { retryMaxAttempts: number; retryDefaultDelay: number };
  };
  defaults.adapter = "fetch";
  defaults.fetchOptions = httpClient ? { client: httpClient } : undefined;
  defaults.acmeSettings.retryMaxAttempts = retries?.attempts ?? 5;
  defaults.acmeSettings.retryDefaultDelay = retries?.delaySeconds ?? 5;
}

/**
 * acme-client's retry interceptor (src/axios.js) ends a request that got no response at all (refused,
 * unreachable) by reading the missing response's fields: a TypeError that names nothing useful.
 */
function unanswered(error: unknown): boolean {
  return error instanceof TypeError && /reading '(config|status|headers)'/.test(error.message);
}
