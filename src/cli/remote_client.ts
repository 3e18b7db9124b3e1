/** The object client over a Postern server: JMAP requests with an API key or a login. */
import { type WireObject } from "../directory/mod.ts";
import { AuthError, DomainError, ForbiddenError, InvalidInputError, NotFoundError } from "../model/errors.ts";
import { jmapType, type ObjectClient } from "./client.ts";

/** How to reach and authenticate to the server. */
export interface RemoteOptions {
  url: string;
  apiKey?: string;
  user?: string;
  password?: string;
}

type Invocation = [string, Record<string, unknown>, string];

const USING = ["urn:ietf:params:jmap:core", "urn:postern:jmap"];
const PAGE = 500;

/** Opens a JMAP client: fetches the session to learn the account id and the API URL. */
export async function remoteClient(options: RemoteOptions): Promise<ObjectClient> {
  const base = options.url.replace(/\/+$/, "");
  const authorization = options.apiKey
    ? `Bearer ${options.apiKey}`
    : `Basic ${
      btoa(String.fromCharCode(...new TextEncoder().encode(`${options.user}:${options.password}`)))
    }`;
  const call = async (path: string, init: RequestInit = {}) => {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        ...init,
        headers: { authorization, "content-type": "application/json", ...init.headers },
      });
    } catch (error) {
      throw new Error(`Cannot reach ${base}: ${(error as Error).message}`);
    }
    if (response.status === 401) {
      const detail = (await response.json().catch(() => ({})) as { detail?: string }).detail;
      throw new AuthError(
        `${base} refused the credentials: ${detail ?? "401 Unauthorized"}`,
        "invalid",
        undefined,
      );
    }
    if (!response.ok) {
      const body = await response.json().catch(() => ({})) as { detail?: string; type?: string };
      throw new Error(`${base}${path} answered ${response.status}: ${body.detail ?? response.statusText}`);
    }
    return response;
  };
  const session = await (await call("/jmap/session")).json() as {
    primaryAccounts: Record<string, string>;
    apiUrl: string;
  };
  const accountId = session.primaryAccounts["urn:postern:jmap"];
  const apiPath = new URL(session.apiUrl, base).pathname;
  const request = async (calls: Invocation[]): Promise<Invocation[]> => {
    const response = await call(apiPath, {
      method: "POST",
      body: JSON.stringify({ using: USING, methodCalls: calls }),
    });
    const body = await response.json() as { methodResponses: Invocation[] };
    for (const [name, args] of body.methodResponses) {
      if (name === "error") throw methodError(args);
    }
    return body.methodResponses;
  };
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
  return {
    local: false,
    get,
    async query(type, where, fields) {
      const { name, variant, singleton } = jmapType(type);
      if (singleton) return [await get(type, "singleton")];
      const filter = { ...where, ...(variant ? { "@type": variant } : {}) };
      const out: WireObject[] = [];
      for (let position = 0;; position += PAGE) {
        const [, [, got]] = await request([
          [`${name}/query`, { accountId, filter, position, limit: PAGE, calculateTotal: true }, "q"],
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
    },
    async create(type, fields) {
      const { variant } = jmapType(type);
      const object = variant && fields["@type"] === undefined ? { "@type": variant, ...fields } : fields;
      const result = await set(type, { create: { new: object } });
      const failed = (result.notCreated as Record<string, SetError> | null)?.new;
      if (failed) throw fromSetError(failed, `Cannot create ${jmapType(type).name.slice(2)}`);
      return (result.created as Record<string, WireObject>).new;
    },
    async update(type, id, patch) {
      const result = await set(type, { update: { [id]: patch } });
      const failed = (result.notUpdated as Record<string, SetError> | null)?.[id];
      if (failed) throw fromSetError(failed, `Cannot update ${jmapType(type).name.slice(2)} "${id}"`);
      return await get(type, id);
    },
    async delete(type, id) {
      const before = await get(type, id);
      const result = await set(type, { destroy: [id] });
      const failed = (result.notDestroyed as Record<string, SetError> | null)?.[id];
      if (failed) throw fromSetError(failed, `Cannot delete ${jmapType(type).name.slice(2)} "${id}"`);
      return before;
    },
    async schema() {
      const body = await (await call("/api/schema")).json() as { types: Record<string, unknown>[] };
      return body.types;
    },
  };
}

interface SetError {
  type: string;
  description?: string;
  properties?: string[];
}

function fromSetError(error: SetError, action: string): Error {
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
      return new Error(`${message} (${error.type})`);
  }
}

function methodError(args: Record<string, unknown>): Error {
  const message = `${args.description ?? args.type} (${args.type})`;
  return args.type === "forbidden" ? new ForbiddenError(message) : new Error(message);
}
