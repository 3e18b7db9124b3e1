/** The JMAP request engine (RFC 8620 §3): validation, limits, dispatch, references, errors. */
import type { Logger } from "@logtape/logtape";
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  UnavailableError,
} from "../model/errors.ts";
import { requiredScope } from "../model/oauth.ts";
import type { Principal } from "../model/types.ts";
import { MethodError, RequestError } from "./errors.ts";
import { resolveReferences } from "./references.ts";
import { CAPABILITY, type Invocation, type JmapRequest, type JmapResponse } from "./types.ts";

/** What a method sees of the request it runs in. */
export interface MethodContext {
  principal: Principal;
  /** Capabilities the request declared (plus the management one, always accepted). */
  using: ReadonlySet<string>;
  /** Creation id → server id, for `#creationId` references across the request. */
  createdIds: Map<string, string>;
  baseUrl: string;
  /** The call's accountId, set by the standard methods once checked (per-account types read it). */
  accountId?: string;
  /** Type-specific arguments of a standard method (DataType.setArguments), as sent. */
  arguments?: Record<string, unknown>;
  /** Appends an extra response after this call's own (implicit calls such as onSuccess*). */
  emit(name: string, args: Record<string, unknown>): void;
}

/** A method implementation: returns its response arguments (directly when it needs no I/O). */
export type MethodHandler = (
  args: Record<string, unknown>,
  ctx: MethodContext,
) => Promise<Record<string, unknown>> | Record<string, unknown>;

/** One entry of the method table. */
export interface MethodDefinition {
  capability: string;
  handler: MethodHandler;
}

/** Limits advertised in the core capability and enforced here. */
export interface EngineLimits {
  maxCallsInRequest: number;
}

/** Processes JMAP request objects against an explicit method table. */
export class JmapEngine {
  constructor(
    private readonly methods: ReadonlyMap<string, MethodDefinition>,
    private readonly capabilities: ReadonlySet<string>,
    private readonly limits: EngineLimits,
    private readonly log: Logger,
  ) {}

  /** The names of the registered methods (the fuzz test checks it has a seed call for each). */
  methodNames(): string[] {
    return [...this.methods.keys()];
  }

  /**
   * Runs a parsed request body; request-level problems throw RequestError. A request whose methods
   * all answer synchronously (and whose session state is known) answers without a promise.
   */
  process(
    body: unknown,
    context: { principal: Principal; baseUrl: string; sessionState: () => string | Promise<string> },
  ): JmapResponse | Promise<JmapResponse> {
    const request = validateRequest(body);
    for (const capability of request.using) {
      if (!this.capabilities.has(capability)) {
        throw new RequestError("unknownCapability", `Unknown capability "${capability}" in "using"`, {
          capability,
        });
      }
    }
    if (request.methodCalls.length > this.limits.maxCallsInRequest) {
      throw new RequestError(
        "limit",
        `The request has ${request.methodCalls.length} method calls; the limit is ${this.limits.maxCallsInRequest}`,
        { limit: "maxCallsInRequest" },
      );
    }
    const using = new Set([...request.using, CAPABILITY.management]);
    const createdIds = new Map(Object.entries(request.createdIds ?? {}));
    const responses: Invocation[] = [];
    const finish = (state: string): JmapResponse => {
      const response: JmapResponse = { methodResponses: responses, sessionState: state };
      if (request.createdIds !== undefined) response.createdIds = Object.fromEntries(createdIds);
      return response;
    };
    // Calls run in order; the loop goes on synchronously until a method answers with a promise.
    const runFrom = (first: number): JmapResponse | Promise<JmapResponse> => {
      for (let index = first; index < request.methodCalls.length; index++) {
        const [name, rawArgs, callId] = request.methodCalls[index];
        const extra: Invocation[] = [];
        const ctx: MethodContext = {
          principal: context.principal,
          using,
          createdIds,
          baseUrl: context.baseUrl,
          emit: (extraName, args) => extra.push([extraName, args, callId]),
        };
        const answer = this.call(name, rawArgs, callId, ctx, responses);
        if (answer instanceof Promise) {
          return answer.then((invocation) => {
            responses.push(invocation, ...extra);
            return runFrom(index + 1);
          });
        }
        responses.push(answer, ...extra);
      }
      const state = context.sessionState();
      return typeof state === "string" ? finish(state) : state.then(finish);
    };
    return runFrom(0);
  }

  /** Runs one call; synchronous methods answer without a promise. */
  private call(
    name: string,
    rawArgs: Record<string, unknown>,
    callId: string,
    ctx: MethodContext,
    responses: Invocation[],
  ): Invocation | Promise<Invocation> {
    const fail = (
      error: unknown,
    ): Invocation => ["error", this.toMethodError(error, name).toArguments(), callId];
    try {
      const method = this.methods.get(name);
      if (!method || !ctx.using.has(method.capability)) {
        throw new MethodError(
          "unknownMethod",
          method
            ? `"${name}" needs capability "${method.capability}" in "using"`
            : `Unknown method "${name}"`,
        );
      }
      const scopes = ctx.principal.scopes;
      if (scopes) {
        const needed = requiredScope(method.capability);
        if (needed === undefined || (needed !== null && !scopes.includes(needed))) {
          throw new MethodError(
            "forbidden",
            ctx.principal.method === "appPassword"
              ? `An app password is for mail only: ${name} needs the account's password, an API key or a token with the scope "${needed}"`
              : `The access token's scopes do not allow ${name}${
                needed ? ` (it needs the scope "${needed}")` : ""
              }`,
          );
        }
      }
      const args = resolveReferences(rawArgs, responses);
      const result = method.handler(args, ctx);
      if (result instanceof Promise) return result.then((value): Invocation => [name, value, callId], fail);
      return [name, result, callId];
    } catch (error) {
      return fail(error);
    }
  }

  private toMethodError(error: unknown, name: string): MethodError {
    if (error instanceof MethodError) return error;
    // RFC 8620 §3.6.2: the method may succeed later; the calls before it keep their answers.
    if (error instanceof UnavailableError) return new MethodError("serverUnavailable", error.message);
    if (error instanceof ForbiddenError) return new MethodError("forbidden", error.message);
    if (error instanceof InvalidInputError) return new MethodError("invalidArguments", error.message);
    if (error instanceof NotFoundError || error instanceof ConflictError || error instanceof DomainError) {
      return new MethodError("invalidArguments", error.message);
    }
    this.log.error("Method {name} failed: {error}", { name, error });
    return new MethodError("serverFail", `${name} failed on the server; the error has been logged`);
  }
}

/** Checks the shape of a request object (RFC 8620 §3.3), or throws `notRequest` naming the flaw. */
function validateRequest(body: unknown): JmapRequest {
  const fail = (why: string) => {
    throw new RequestError("notRequest", `The body is not a JMAP request: ${why}`);
  };
  if (body === null || typeof body !== "object" || Array.isArray(body)) fail("it must be a JSON object");
  const request = body as Record<string, unknown>;
  if (!Array.isArray(request.using) || !request.using.every((u) => typeof u === "string")) {
    fail('"using" must be an array of capability strings');
  }
  if (!Array.isArray(request.methodCalls)) fail('"methodCalls" must be an array');
  (request.methodCalls as unknown[]).forEach((call, index) => {
    if (
      !Array.isArray(call) || call.length !== 3 || typeof call[0] !== "string" ||
      typeof call[2] !== "string" ||
      call[1] === null || typeof call[1] !== "object" || Array.isArray(call[1])
    ) {
      fail(`methodCalls[${index}] must be [name, arguments object, call id]`);
    }
  });
  if (request.createdIds !== undefined) {
    const ids = request.createdIds;
    if (
      ids === null || typeof ids !== "object" || Array.isArray(ids) ||
      !Object.values(ids).every((v) => typeof v === "string")
    ) {
      fail('"createdIds" must map creation ids to ids');
    }
  }
  return request as unknown as JmapRequest;
}
