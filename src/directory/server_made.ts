/**
 * Management types whose objects the server makes (DKIM keys with a domain, mailbox grants by
 * sharing): administrators read and delete them; create and update are refused with how such an
 * object comes to be. src/mail/dkim_key_handler.ts and src/mail/mailbox_grants.ts are two.
 */
import { ForbiddenError, NotFoundError } from "./deps.ts";
import { type Caller, isAdmin } from "./callers.ts";
import type { ObjectHandler, WireObject } from "./objects.ts";

/** One server-made type, as `serverMadeHandler` serves it. */
export interface ServerMadeType<R, M> {
  /** The type's name, in not-found errors. */
  name: string;
  /** The refusal a caller who is not an administrator gets. */
  adminsOnly: string;
  /** The refusal of create and update: how such objects are made. */
  madeBy: string;
  read(id: number): Promise<R | undefined>;
  all(): Promise<R[]>;
  /** A fresh memo for one answer: what several objects' wire forms look up once (names, trees). */
  memo(): M;
  toWire(record: R, memo: M): Promise<WireObject>;
  remove(record: R, caller: Caller): Promise<void>;
}

/** The ObjectHandler of a server-made type; see the module comment. */
export function serverMadeHandler<R, M>(type: ServerMadeType<R, M>): ObjectHandler {
  const requireAdmin = (caller: Caller) => {
    if (!isAdmin(caller)) throw new ForbiddenError(type.adminsOnly);
  };
  const find = async (id: number, wireId: string, caller: Caller) => {
    requireAdmin(caller);
    const record = await type.read(id);
    if (!record) throw new NotFoundError(type.name, wireId);
    return record;
  };
  const refused = () => Promise.reject(new ForbiddenError(type.madeBy));
  return {
    create: refused,
    update: refused,
    get: async (id, wireId, caller) => await type.toWire(await find(id, wireId, caller), type.memo()),
    list: async (caller) => {
      requireAdmin(caller);
      const memo = type.memo();
      const out: WireObject[] = [];
      for (const record of await type.all()) out.push(await type.toWire(record, memo));
      return out;
    },
    delete: async (id, wireId, caller) => {
      const record = await find(id, wireId, caller);
      const wire = await type.toWire(record, type.memo());
      await type.remove(record, caller);
      return wire;
    },
  };
}
