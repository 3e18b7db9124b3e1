/** The schema document served at /api/schema: every management type, generated from its declaration. */
import { createHash } from "node:crypto";
import { describeObject, OBJECT_SPECS } from "../model/objects/mod.ts";
import { ACTION_NAMES } from "./management/action_type.ts";
import { CAPABILITY } from "./types.ts";

/** The schema document and its ETag. */
export interface SchemaDocument {
  body: string;
  etag: string;
}

/** Builds the schema document once; it only changes with the program. */
export function schemaDocument(version: string): SchemaDocument {
  const types: Record<string, unknown>[] = Object.values(OBJECT_SPECS).map((spec) => {
    const described = describeObject(spec);
    const methods = ["get", "set", ...(spec.singleton ? [] : ["changes", "query", "queryChanges"])]
      .map((m) => `x:${spec.name}/${m}`);
    return {
      ...described,
      jmapName: `x:${spec.name}`,
      capability: CAPABILITY.management,
      methods,
      listColumns: Object.entries(spec.fields).filter(([, f]) => f.column).map(([name]) => name),
    };
  });
  types.push({
    name: "Action",
    description: "A command, run by creating it (x:Action/set create); nothing is stored",
    variants: ACTION_NAMES,
    fields: [{
      name: "@type",
      type: "String",
      description: "The action to run",
      required: true,
      enum: ACTION_NAMES,
    }],
    jmapName: "x:Action",
    capability: CAPABILITY.management,
    methods: ["x:Action/set"],
    listColumns: [],
  });
  const body = JSON.stringify({ version, capability: CAPABILITY.management, types });
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
  return { body, etag };
}
