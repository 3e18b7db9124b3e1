/**
 * The JMAP calls behind the CLI's object client, over any transport: HTTP to a server, or the
 * management engine in this process (local mode). Errors come back as the model's errors.
 */
import { resolveObjectType, type WireObject } from "../directory/mod.ts";
import { DomainError, ForbiddenError, InvalidInputError, NotFoundError } from "../model/errors.ts";
import { UsageError } from "./io.ts";

/** A JMAP invocation: name, arguments, call id. */
export type Invocation = [string, Record<string, unknown>, string];

/** Sends method calls and returns their responses (method errors already thrown). */
export type Transport = (calls: Invocation[]) => Promise<Invocation[]>;

/** The capabilities every CLI request declares. */
export const USING = ["urn:ietf:params:jmap:core", "urn:postern:jmap"];

const PAGE = 500;

/** Throws the first method error of a response as an error of the model. */
export function checkResponses(responses: Invocation[]): Invocation[] {
  for (const [name, args] of responses) {
    if (name === "error") throw methodError(args);
  }
  return responses;
}

/** get, query, set and actions as JMAP calls in the management account `accountId`. */
export function jmapCalls(request: Transport, accountId: string) {
  const set = async (type: string, args: Record<string, unknown>) => {
    const [[, result]] = await request([[`${jmapType(type).name}/set`, { accountId, ...args }, "s"]]);
    return result;
  };
  const get = async (type: string, id: string): Promise<WireObject> => {
    const [[, result]] = await request([[`${jmapType(type).name}/get`, { accountId, ids: [id] }, "g"]]);
    const list = result.list as WireObject[];
    if (!list.length) throw new NotFoundError(jmapType(type).name.slice(2), id);
    return list[0];
  };
  const query = async (type: string, where: Record<string, unknown>, fields?: string[]) => {
    const { name, variant, singleton } = jmapType(type);
    if (singleton) return [await get(type, "singleton")];
    const filter = { ...where, ...(variant ? { "@type": variant } : {}) };
    const out: WireObject[] = [];
    for (let position = 0;; position += PAGE) {
      const [, [, got]] = await request([
        [`${name}/query`, { accountId, filter, position, limit: PAGE }, "q"],
        [`${name}/get`, {
          accountId,
          "#ids": { resultOf: "q", name: `${name}/query`, path: "/ids" },
          ...(fields ? { properties: fields } : {}),
        }, "g"],
      ]);
      const list = got.list as WireObject[];
      out.push(...list);
      if (list.length < PAGE) break;
    }
    return out;
  };
  /** Runs an action (x:Action/set create) with its arguments; returns the created action object. */
  const report = async (name: string, args: Record<string, unknown> = {}): Promise<WireObject> => {
    const [[, result]] = await request([[
      "x:Action/set",
      { accountId, create: { a: { ...args, "@type": name } } },
      "a",
    ]]);
    const created = (result.created as Record<string, WireObject> | null)?.a;
    if (created) return created;
    const failed = (result.notCreated as Record<string, SetError> | null)?.a;
    throw fromSetError(failed ?? { type: "serverFail" }, `Cannot run ${name}`);
  };
  /** Runs an action; returns the server's description of what it did. */
  const action = async (name: string): Promise<string> =>
    String((await report(name)).description ?? `${name}: done`);
  return { get, query, set, action, report };
}

/** A JMAP SetError (RFC 8620 §5.3). */
export interface SetError {
  type: string;
  description?: string;
  properties?: string[];
}

/** The model error of a SetError. */
export function fromSetError(error: SetError, action: string): Error {
  const message = error.description ?? `${action}: ${error.type}`;
  switch (error.type) {
    case "invalidProperties":
      return new InvalidInputError(
        message,
        (error.properties ?? []).map((property) => ({ property, message })),
      );
    case "notFound":
      return new DomainError(message);
    case "forbidden":
      return new ForbiddenError(message);
    default:
      return new DomainError(`${message} (${error.type})`);
  }
}

function methodError(args: Record<string, unknown>): Error {
  const message = `${args.description ?? args.type} (${args.type})`;
  if (args.type === "forbidden") return new ForbiddenError(message);
  // A filter the type does not have is the caller's mistake, as a misspelled option is.
  if (args.type === "unsupportedFilter" || args.type === "invalidArguments") return new UsageError(message);
  return new DomainError(message);
}

/** The JMAP type name of a CLI type path, and the variant it selects. */
export function jmapType(type: string): { name: string; variant?: string; singleton: boolean } {
  const { spec, variant } = resolveObjectType(type);
  return { name: `x:${spec.name}`, variant, singleton: spec.singleton === true };
}
