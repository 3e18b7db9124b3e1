/**
 * One ACME order (RFC 8555 §7.4) with the npm client acme-client: the account key (created once per
 * directory and kept sealed in the database, so every process orders as the same account), a new
 * certificate key, the challenge answers published in the database so every process can answer, and
 * the issued chain.
 *
 * Two challenge types, one per configuration (--acme-challenge):
 * - HTTP-01: the key authorization under its token, served by the HTTP listener's
 *   `/.well-known/acme-challenge/` route (api/acme_challenge.ts);
 * - TLS-ALPN-01 (RFC 8737): the key authorization under the name being validated
 *   ({@link alpnChallengeKey}), answered on the HTTPS listener by tls/alpn/alpn_responder.ts in the
 *   connection front. Deno's own TLS cannot answer it: rustls/webpki refuses to load a certificate
 *   with the critical acmeIdentifier extension the RFC requires ("UnsupportedCriticalExtension"),
 *   so the front answers such handshakes itself, before Deno.serve sees the connection.
 */
import acme from "acme-client";
import type { CertificateRepository } from "../store/mod.ts";
import type { Sealer } from "../oauth/mod.ts";

/** How long a published HTTP-01 answer stays valid (the CA validates within minutes). */
const CHALLENGE_TTL_MS = 60 * 60 * 1000;

/**
 * The key under which a TLS-ALPN-01 answer is kept with the HTTP-01 tokens: a ':' never appears in a
 * token (base64url), so neither kind can be read as the other.
 */
export function alpnChallengeKey(name: string): string {
  return `tls-alpn-01:${name.toLowerCase()}`;
}

/** Where to order and who orders. */
export interface AcmeOrderOptions {
  directoryUrl: string;
  email: string | undefined;
  /** The challenge type answered (default http-01). */
  challenge?: "http-01" | "tls-alpn-01";
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

  /** Orders a certificate for `domains` (the first is its subject), answering the configured challenge. */
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
      challengePriority: [this.#options.challenge ?? "http-01"],
      // The CA validates from outside; acme-client's own pre-check would connect to port 80 or 443.
      skipChallengeVerification: true,
      challengeCreateFn: async (authz, challenge, keyAuthorization) => {
        await this.#repository.putChallenge(
          challengeKey(authz, challenge),
          keyAuthorization,
          Date.now() + CHALLENGE_TTL_MS,
        );
      },
      challengeRemoveFn: async (authz, challenge) => {
        await this.#repository.deleteChallenge(challengeKey(authz, challenge));
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

/** Where a challenge's answer is kept: its token (HTTP-01) or its name (TLS-ALPN-01). */
function challengeKey(
  authz: { identifier: { value: string } },
  challenge: { type: string; token: string },
): string {
  return challenge.type === "tls-alpn-01" ? alpnChallengeKey(authz.identifier.value) : challenge.token;
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
