/** The standard /get method. */
import type { MethodContext } from "../engine.ts";
import { MethodError } from "../errors.ts";
import { Args } from "./args.ts";
import { resolveCreationIds } from "./creation_ids.ts";
import type { JmapObject } from "./data_type.ts";
import { currentState, type StandardEnvironment } from "./environment.ts";

/** `Foo/get` (RFC 8620 §5.1). */
export async function get(
  raw: Record<string, unknown>,
  ctx: MethodContext,
  env: StandardEnvironment,
): Promise<JmapObject> {
  const { type, limits } = env;
  const args = new Args(raw, ["accountId", "ids", "properties"], `${type.name}/get`);
  const accountId = await type.checkAccount(ctx, args.raw("accountId"));
  ctx.accountId = accountId;
  const ids = args.stringList("ids")?.map((id) => resolveCreationIds(id, ctx) as string) ?? null;
  const properties = args.stringList("properties");
  if (ids && ids.length > limits.maxObjectsInGet) {
    throw new MethodError(
      "requestTooLarge",
      `At most ${limits.maxObjectsInGet} ids per /get (maxObjectsInGet)`,
    );
  }
  const unknown = properties?.find((p) => !type.properties.includes(p));
  if (unknown) throw new MethodError("invalidArguments", `${type.name} has no property "${unknown}"`);
  const state = await currentState(env, accountId);
  const { list, notFound } = await type.get(ctx, ids ? [...new Set(ids)] : null);
  if (!ids && list.length > limits.maxObjectsInGet) {
    throw new MethodError(
      "requestTooLarge",
      `${list.length} objects exceed maxObjectsInGet (${limits.maxObjectsInGet}); ask for ids from /query`,
    );
  }
  const shaped = properties
    ? list.map((o) =>
      Object.fromEntries(["id", ...properties.filter((p) => p !== "id")].map((p) => [p, o[p] ?? null]))
    )
    : list;
  return { accountId, state, list: shaped, notFound };
}
