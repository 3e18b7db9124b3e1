/**
 * Sending one fuzzed request and judging its answer. A failure is what the issue names: any 5xx, a
 * JMAP `serverFail` method error, no answer within the per-request bound (a hang), or no answer at all
 * because the server process is gone. Everything else, 4xx included, is the server doing its job.
 */

/** The longest path (with query) sent; longer ones are counted as unsendable. */
const MAX_PATH_CHARS = 8192;

/** One HTTP request of a surface. */
export interface FuzzRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer>;
}

/** What came back. */
export interface FuzzAnswer {
  status: number;
  contentType: string;
  text: string;
  /** The body parsed as JSON when it is JSON. */
  json?: unknown;
}

/** A request the server failed. */
export class FuzzFailure extends Error {
  constructor(
    readonly kind: "5xx" | "serverFail" | "hang" | "no answer",
    readonly request: FuzzRequest,
    readonly answer?: FuzzAnswer,
  ) {
    super(kind);
  }

  /** What else the report should show (the generated message behind an import). */
  detail?: string;
}

/** How the harness talks to the server, and what it has counted. */
export class FuzzClient {
  /** Answers by status, per surface: `{ jmap: { "200": 31, "400": 9 } }`. */
  readonly counts: Record<string, Record<string, number>> = {};
  /** JMAP method answers by name or error type, per surface: `{ jmap: { "Email/get": 3, "error:forbidden": 2 } }`. */
  readonly methods: Record<string, Record<string, number>> = {};
  /** The slowest answer per surface (for information: only a hang past the bound fails). */
  readonly slowest: Record<string, { ms: number; request: string }> = {};
  surface = "";

  constructor(readonly baseUrl: string, readonly options: { timeoutMs: number; verbose?: boolean }) {}

  /** Sends `request`; throws FuzzFailure on a failure. */
  async send(request: FuzzRequest): Promise<FuzzAnswer> {
    const bySurface = this.counts[this.surface] ??= {};
    let built: Request;
    try {
      // Deno's client refuses URLs much past 16 KB itself; nothing of that reaches the server.
      if (request.path.length > MAX_PATH_CHARS) {
        throw new Error(`a path of ${request.path.length} characters`);
      }
      built = new Request(this.baseUrl + request.path, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: "manual",
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      // Not a request HTTP can carry (a header value outside Latin-1): nothing reached the server.
      bySurface.unsendable = (bySurface.unsendable ?? 0) + 1;
      return { status: 0, contentType: "", text: String(error) };
    }
    let response: Response;
    const started = performance.now();
    try {
      response = await fetch(built);
    } catch (error) {
      const name = (error as Error).name;
      throw new FuzzFailure(name === "TimeoutError" ? "hang" : "no answer", request, {
        status: 0,
        contentType: "",
        text: String(error),
      });
    }
    let text: string;
    try {
      text = await readText(response, this.options.timeoutMs);
    } catch (error) {
      throw new FuzzFailure("hang", request, {
        status: response.status,
        contentType: "",
        text: String(error),
      });
    }
    const ms = performance.now() - started;
    const slowest = this.slowest[this.surface];
    if (!slowest || ms > slowest.ms) {
      this.slowest[this.surface] = { ms, request: `${request.method} ${truncate(request.path, 60)}` };
    }
    const contentType = response.headers.get("content-type") ?? "";
    const answer: FuzzAnswer = { status: response.status, contentType, text };
    if (/json/i.test(contentType)) {
      try {
        answer.json = JSON.parse(text);
      } catch { /* judged by status alone */ }
    }
    bySurface[response.status] = (bySurface[response.status] ?? 0) + 1;
    if (this.options.verbose) {
      console.log(
        `${this.surface} ${request.method} ${truncate(request.path, 80)} → ${response.status} (${
          Math.round(ms)
        } ms) ${truncate(text, 300)}${
          typeof request.body === "string" ? `\n  sent: ${truncate(request.body, 300)}` : ""
        }`,
      );
    }
    if (response.status >= 500) throw new FuzzFailure("5xx", request, answer);
    const byMethod = this.methods[this.surface] ??= {};
    for (const call of methodResponses(answer.json)) {
      const name = call[0] === "error"
        ? `error:${(call[1] as { type?: unknown } | null)?.type}`
        : String(call[0]);
      byMethod[name] = (byMethod[name] ?? 0) + 1;
    }
    if (serverFailIn(answer.json)) throw new FuzzFailure("serverFail", request, answer);
    return answer;
  }
}

async function readText(response: Response, timeoutMs: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`body not finished after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([response.text(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** True when a JMAP response holds a `serverFail` method error (RFC 8620 §3.6.2). */
export function serverFailIn(json: unknown): boolean {
  return methodResponses(json).some((call) =>
    Array.isArray(call) && call[0] === "error" &&
    (call[1] as { type?: unknown } | null)?.type === "serverFail"
  );
}

/** Waits until the server answers /healthz again (after a hang), at most until `deadline`; returns whether it did. */
export async function recovered(baseUrl: string, deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(5000) });
      await response.body?.cancel();
      if (response.ok) return true;
    } catch { /* still busy */ }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

/** A request or answer shown in a report: at most `max` characters. */
export function truncate(text: string, max = 2000): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters in all)`;
}

function methodResponses(json: unknown): unknown[][] {
  const calls = (json as { methodResponses?: unknown } | null | undefined)?.methodResponses;
  return Array.isArray(calls) ? calls.filter(Array.isArray) : [];
}
