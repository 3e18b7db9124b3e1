/** The rule shared by every management write: a property written back as it was read is no change. */

/**
 * Properties sent back exactly as read are no change: server-set ones (createdAt, emailAddress) and
 * the masked password included, so a client that writes back a whole object changes only what differs.
 */
export function withoutUnchanged(patch: unknown, current: Record<string, unknown>): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  return Object.fromEntries(
    Object.entries(patch).filter(([key, value]) => JSON.stringify(value) !== JSON.stringify(current[key])),
  );
}
