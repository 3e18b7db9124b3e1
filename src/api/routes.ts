/** Routes of the management HTTP surface: health, metrics and the caller's account. */
import type { Authenticator } from "../auth/mod.ts";
import type { DirectoryCaches } from "../cache/mod.ts";
import type { AccountService } from "../directory/mod.ts";
import {
  type HttpMetrics,
  jsonResponse,
  labelSamples,
  mergeExpositions,
  type MetricSample,
  type RequestContext,
  type Route,
} from "../http/mod.ts";
import { encodeId } from "../model/ids.ts";
import { ForbiddenError } from "../model/errors.ts";
import { ADMIN_SCOPE } from "../model/oauth.ts";

/** What these routes use. */
export interface ApiDeps {
  accounts: AccountService;
  caches: DirectoryCaches;
  authenticator: Authenticator;
  metrics: HttpMetrics;
  /** Gauges from elsewhere (database size, limiter). */
  extraMetrics(): Promise<MetricSample[]>;
  version: string;
  /** The listeners that are up, by protocol (host:port). */
  listeners?: () => Record<string, string>;
  /** Which of the serving processes answers (index 0 … count−1), shown on /healthz. */
  process?: { index: number; count: number };
  /**
   * Several processes: the other processes' own series (each `/metrics?scope=process` over loopback)
   * and the families read from the database, which every process would report alike.
   */
  siblings?: { metrics(): Promise<string[]>; shared: ReadonlySet<string> };
}

/** Permissions implied by each role, as /api/account reports them. */
const PERMISSIONS: Record<string, string[]> = {
  admin: ["manage-directory", "manage-settings", "read-metrics", "manage-own-account"],
  user: ["manage-own-account"],
};

/** The route table of this surface. */
export function apiRoutes(deps: ApiDeps): Route<RequestContext>[] {
  return [
    {
      method: "GET",
      path: "/healthz",
      handler: () =>
        jsonResponse(
          {
            status: "ok",
            version: deps.version,
            listeners: deps.listeners?.() ?? {},
            process: deps.process?.index ?? 0,
            processes: deps.process?.count ?? 1,
          },
          { headers: { "cache-control": "no-store" } },
        ),
    },
    {
      method: "GET",
      path: "/metrics",
      handler: async (ctx) => {
        if (!ctx.local) {
          const principal = await ctx.principal();
          if (!principal.roles.includes("admin")) throw new ForbiddenError("Metrics are for administrators");
          // A scoped credential (an OAuth token, an app password: mail only) needs the administration scope.
          if (principal.scopes && !principal.scopes.includes(ADMIN_SCOPE)) {
            throw new ForbiddenError(`Metrics need the password, an API key or the ${ADMIN_SCOPE} scope`);
          }
        }
        let text = deps.metrics.render([...cacheSamples(deps), ...await deps.extraMetrics()]);
        const { process, siblings } = deps;
        if (process && process.count > 1 && siblings) {
          // Several processes: this one's series labelled with its number, then the others' (see
          // http/metrics_merge.ts); a sibling asking for this process's own gets only those.
          text = labelSamples(text, "process", String(process.index), siblings.shared);
          if (ctx.url.searchParams.get("scope") !== "process") {
            text = mergeExpositions(text, await siblings.metrics(), siblings.shared);
          }
        }
        return new Response(text, {
          headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
        });
      },
    },
    {
      method: "GET",
      path: "/api/account",
      handler: async (ctx) => {
        const principal = await ctx.principal();
        const account = await deps.accounts.require(principal.accountId);
        return ctx.json({
          id: encodeId(account.id),
          name: account.name,
          description: account.description,
          emailAddress: account.primaryAddress,
          addresses: [account.primaryAddress, ...account.aliases],
          roles: account.roles,
          permissions: [...new Set(account.roles.flatMap((r) => PERMISSIONS[r] ?? []))],
          locale: account.locale ?? "en",
          authenticatedBy: principal.method,
        });
      },
    },
  ];
}

function cacheSamples(deps: ApiDeps): MetricSample[] {
  const out: MetricSample[] = [];
  const { namespaces, remoteInvalidations } = deps.caches.stats();
  for (const s of namespaces) {
    const labels = { cache: s.name };
    out.push(
      { name: "postern_cache_hits_total", help: "Cache hits", type: "counter", labels, value: s.hits },
      { name: "postern_cache_misses_total", help: "Cache misses", type: "counter", labels, value: s.misses },
      {
        name: "postern_cache_negative_hits_total",
        help: "Hits on negative (not found) entries",
        type: "counter",
        labels,
        value: s.negativeHits,
      },
      {
        name: "postern_cache_evictions_total",
        help: "Entries evicted by size",
        type: "counter",
        labels,
        value: s.evictions,
      },
      {
        name: "postern_cache_invalidations_total",
        help: "Entries removed by invalidation",
        type: "counter",
        labels,
        value: s.invalidations,
      },
      { name: "postern_cache_entries", help: "Entries held", type: "gauge", labels, value: s.size },
    );
  }
  out.push({
    name: "postern_cache_remote_invalidations_total",
    help: "Invalidation events applied from other processes",
    type: "counter",
    value: remoteInvalidations,
  });
  const c = deps.authenticator.counters;
  for (const [result, value] of Object.entries(c)) {
    out.push({
      name: "postern_auth_results_total",
      help: "Authentication outcomes",
      type: "counter",
      labels: { result },
      value,
    });
  }
  return out;
}
