/** The standard /get method. */
import type { MethodContext } from "../engine.ts";
import { MethodError } from "../errors.ts";
import { Args } from "./args.ts";
import { resolveCreationIds } from "./creation_ids.ts";
import type { DataType, JmapObject } from "./data_type.ts";
import type { StandardLimits } from "./methods.ts";

/** `Foo/get` (RFC 8620 §5.1). */
export async function get(
  type: DataType,
  state: () => Promise<string>,
  limits: StandardLimits,
  raw: Record<string, unknown>,
  ctx: MethodContext,
): Promise<JmapObject> {
  const args = new Args(raw, ["accountId", "ids", "properties"], `${type.name}/get`);
  const accountId = await type.checkAccount(ctx, args.raw("accountId"));
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
  const currentState = await state();
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
  return { accountId, state: currentState, list: shaped, notFound };
}
