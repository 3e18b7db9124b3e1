/** The object client over a Postern server: JMAP requests with an API key or a login. */
import { type WireObject } from "../directory/mod.ts";
import { AuthError, DomainError } from "../model/errors.ts";
import { ConnectionError } from "./io.ts";
import { jmapType, type ObjectClient } from "./client.ts";
import {
  checkResponses,
  fromSetError,
  type Invocation,
  jmapCalls,
  type SetError,
  USING,
} from "./jmap_calls.ts";

/** How to reach and authenticate to the server. */
export interface RemoteOptions {
  url: string;
  apiKey?: string;
  user?: string;
  password?: string;
}

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
      throw new ConnectionError(`Cannot reach ${base}: ${(error as Error).message}`);
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
      throw new DomainError(
        `${base}${path} answered ${response.status}: ${body.detail ?? response.statusText}`,
      );
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
    return checkResponses((await response.json() as { methodResponses: Invocation[] }).methodResponses);
  };
  const { get, query, set, action, report } = jmapCalls(request, accountId);
  return {
    local: false,
    get,
    query,
    action,
    report,
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
