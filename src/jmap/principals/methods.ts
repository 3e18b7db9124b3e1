/** The method table entries of JMAP Sharing (RFC 9670): Principal/* and ShareNotification/*. */
import type { ShareNotificationService } from "../../mail/mod.ts";
import type { MethodContext, MethodDefinition, MethodHandler } from "../engine.ts";
import { type StandardLimits, standardMethods } from "../standard/methods.ts";
import type { ChangeFeed } from "../standard/state.ts";
import { principals, principalType } from "./principal_type.ts";
import type { PrincipalViewDeps } from "./principal_view.ts";
import { shareNotificationType } from "./share_notification_type.ts";

/** What the JMAP Sharing methods use. */
export interface PrincipalsDeps extends PrincipalViewDeps {
  notifications: ShareNotificationService;
  changes: ChangeFeed;
  limits: StandardLimits;
}

/** Principal/get, /changes, /set, /query, /queryChanges and the same five of ShareNotification. */
export function principalsMethods(deps: PrincipalsDeps): [string, MethodDefinition][] {
  const feed = { changes: deps.changes, limits: deps.limits };
  const notifications = shareNotificationType({
    notifications: deps.notifications,
    maxQueryLimit: deps.limits.maxQueryLimit,
  });
  return [
    ...standardMethods(principalType(deps), feed).map(([name, definition]): [string, MethodDefinition] =>
      name === "Principal/changes"
        ? [name, { ...definition, handler: withinView(deps, definition.handler) }]
        : [name, definition]
    ),
    ...standardMethods(notifications, feed),
  ];
}

/**
 * Principal/changes reads the directory-wide Account log, which also names accounts outside the
 * caller's view. An id the caller cannot get now is left out when it was created (they never saw
 * it) and reported as destroyed when it was updated (it may have left their view, e.g. moved to
 * another domain, and clients drop ids they do not hold, RFC 8620 §5.2). Destroyed ids stay.
 */
function withinView(deps: PrincipalViewDeps, handler: MethodHandler): MethodHandler {
  return async (args, ctx: MethodContext) => {
    const result = await handler(args, ctx);
    const visible = new Set((await principals(deps, ctx)).map((p) => p.id));
    const created = result.created as string[];
    const updated = result.updated as string[];
    return {
      ...result,
      created: created.filter((id) => visible.has(id)),
      updated: updated.filter((id) => visible.has(id)),
      destroyed: [...(result.destroyed as string[]), ...updated.filter((id) => !visible.has(id))],
    };
  };
}
