/**
 * Fetching a policy file (RFC 8461 §3.3): `https://mta-sts.DOMAIN/.well-known/mta-sts.txt` with the
 * certificate verified against the host name, no redirects, 200 with text/plain only, at most 64 KB,
 * within a time limit. node:https, because it lets the address come from our resolver (`lookup`),
 * which Deno's fetch cannot, and takes extra CA certificates (`ca`, for tests).
 */
import https from "node:https";
import type { LookupAddress } from "node:dns";
import { MtaStsError } from "./mta_sts_policy.ts";
import { joinBytes } from "../model/bytes.ts";

/** Largest policy accepted (§3.3 suggests 64 KB). */
export const MAX_POLICY_BYTES = 64 * 1024;
/** Default time for the whole fetch (§3.3 suggests no more than a minute; senders mostly use far less). */
export const DEFAULT_POLICY_FETCH_TIMEOUT_MS = 20_000;

/** How policies are fetched. */
export interface PolicyFetchOptions {
  /** The addresses of a host name (the server's DnsResolver `addresses`). */
  addresses(name: string): Promise<string[]>;
  /** CA certificates (PEM) to trust instead of the system's; tests give their own CA. */
  ca?: string | string[];
  /** The HTTPS port (443; tests use another). */
  port?: number;
  timeoutMs?: number;
}

/** A function that returns the policy text of a domain or throws MtaStsError (sts-policy-fetch-error). */
export type PolicyFetcher = (domain: string, signal?: AbortSignal) => Promise<string>;

/** A fetcher over node:https with the given options. */
export function httpsPolicyFetcher(options: PolicyFetchOptions): PolicyFetcher {
  return (domain, signal) => fetchPolicyText(domain, options, signal);
}

/** Fetches the policy text of `domain`; throws MtaStsError of type sts-policy-fetch-error. */
export function fetchPolicyText(
  domain: string,
  options: PolicyFetchOptions,
  signal?: AbortSignal,
): Promise<string> {
  const host = `mta-sts.${domain}`;
  const fail = (why: string) =>
    new MtaStsError(`Fetching the MTA-STS policy of ${domain}: ${why}`, "sts-policy-fetch-error");
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_POLICY_FETCH_TIMEOUT_MS);
  const stop = signal ? AbortSignal.any([signal, timeout]) : timeout;
  return new Promise<string>((resolve, reject) => {
    const request = https.request({
      host,
      port: options.port ?? 443,
      path: "/.well-known/mta-sts.txt",
      method: "GET",
      ca: options.ca,
      servername: host,
      headers: { accept: "text/plain", "user-agent": "Postern MTA-STS" },
      signal: stop,
      agent: false,
      lookup: (
        name: string,
        how: { all?: boolean } | undefined,
        done: (e: Error | null, a: LookupAddress[] | string, f?: number) => void,
      ) => {
        const family = (address: string) => address.includes(":") ? 6 : 4;
        options.addresses(name).then(
          (list) => {
            if (list.length === 0) {
              done(Object.assign(new Error(`${name} has no address`), { code: "ENOTFOUND" }), []);
            } else if (how?.all) done(null, list.map((address) => ({ address, family: family(address) })));
            else done(null, list[0], family(list[0]));
          },
          (error) => done(error as Error, []),
        );
      },
    }, (response) => {
      const status = response.statusCode ?? 0;
      const type = String(response.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
      // §3.3: "HTTP 3xx redirects MUST NOT be followed"; only a 200 text/plain answer is a policy.
      if (status !== 200) {
        response.destroy();
        return reject(fail(`HTTP ${status} from ${host}`));
      }
      if (type !== "text/plain") {
        response.destroy();
        return reject(fail(`content type "${type}" from ${host}, not text/plain`));
      }
      const chunks: Uint8Array[] = [];
      let size = 0;
      response.on("data", (chunk: Uint8Array) => {
        size += chunk.length;
        if (size > MAX_POLICY_BYTES) {
          response.destroy();
          reject(fail(`the policy at ${host} is larger than ${MAX_POLICY_BYTES} bytes`));
        } else chunks.push(chunk);
      });
      response.on("end", () => {
        if (size > MAX_POLICY_BYTES) return;
        try {
          resolve(new TextDecoder("utf-8", { fatal: true }).decode(joinBytes(chunks)));
        } catch {
          reject(fail(`the policy at ${host} is not UTF-8`));
        }
      });
      response.on("error", (error: Error) => reject(fail(error.message)));
    });
    request.on("error", (error: Error & { code?: string }) => {
      reject(
        fail(
          timeout.aborted ? `no answer from ${host} in time` : `${error.code ?? ""} ${error.message}`.trim(),
        ),
      );
    });
    request.end();
  });
}
