/** RFC 9457 problem details. */

/** The JSON body of a problem response. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  411: "Length Required",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  421: "Misdirected Request",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** A problem+json response. */
export function problemResponse(
  status: number,
  detail: string,
  options: { type?: string; headers?: HeadersInit; extensions?: Record<string, unknown> } = {},
): Response {
  const body: Problem = {
    type: options.type ?? "about:blank",
    title: TITLES[status] ?? "Error",
    status,
    detail,
    ...options.extensions,
  };
  const headers = new Headers(options.headers);
  headers.set("content-type", "application/problem+json");
  return new Response(JSON.stringify(body), { status, headers });
}

/** An error a route throws to answer with a given status. */
export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: number,
    message: string,
    readonly options: { type?: string; headers?: HeadersInit; extensions?: Record<string, unknown> } = {},
  ) {
    super(message);
  }
}
