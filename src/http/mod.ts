/** HTTP plumbing: router, handler pipeline, problem+json, metrics. Imports no surface. */
export type { RequestContext } from "./context.ts";
export { RESOURCE_METADATA_PATH } from "./errors.ts";
export { DEFAULT_COMPRESSION, negotiate } from "./compression.ts";
export type { CompressionOptions, ContentCoding } from "./compression.ts";
export { createHandler, jsonResponse } from "./handler.ts";
export { readBody } from "./request_body.ts";
export type { HandlerOptions } from "./handler.ts";
export { MAX_JSON_DEPTH, parseJson } from "./json.ts";
export { HttpMetrics } from "./metrics.ts";
export { labelSamples, mergeExpositions } from "./metrics_merge.ts";
export type { MetricSample } from "./metrics.ts";
export { HttpError, problemResponse } from "./problem.ts";
export { Router } from "./router.ts";
export { type ServerLoop, serveWithRecovery } from "./server_loop.ts";
export { type ConnectionFront, serveBehindFront } from "./connection_front.ts";
export {
  addressKey,
  capForDescriptors,
  type ConnectionLimits,
  ConnectionStats,
  overallConnectionCap,
} from "./connection_limits.ts";
export type { Route, RouteHandler } from "./router.ts";
export { isLoopbackAddress } from "./request_origin.ts";
