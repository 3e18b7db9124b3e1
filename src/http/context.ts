import type { Principal } from "../model/types.ts";

/** Everything a route handler gets about its request. */
export interface RequestContext {
  readonly request: Request;
  readonly url: URL;
  readonly requestId: string;
  /** The client's address, taken from X-Forwarded-For only behind a trusted proxy. */
  readonly clientAddress: string;
  /**
   * The client is on this machine: a loopback address, reached directly. A request that an untrusted
   * proxy on loopback forwarded (it carries X-Forwarded-For, Forwarded or X-Real-IP) is not local.
   */
  readonly local: boolean;
  /** Scheme, host and port as the client used them (trusted proxies and publicUrl honoured). */
  readonly baseUrl: string;
  /**
   * Authenticates the request once; throws (or rejects with) AuthError on missing or invalid
   * credentials. Known credentials answer without a promise; `await` works either way.
   */
  principal(): Principal | Promise<Principal>;
  /** Reads the body as JSON within the body limit; throws HttpError 400/413/415. */
  readJson(): Promise<unknown>;
  /** A JSON response carrying this request's id (built once, not patched afterwards). */
  json(body: unknown, init?: { status?: number; headers?: Record<string, string> }): Response;
}
