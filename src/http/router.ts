/** A route table: exact paths in a Map (one lookup), URLPattern for the rest, tried in order. */

/** Handles one matched request. */
export type RouteHandler<C> = (ctx: C, params: Record<string, string>) => Promise<Response> | Response;

/** One route as declared in a surface's table. */
export interface Route<C> {
  method: string | string[];
  path: string;
  /** A label for metrics and logs (defaults to the path). */
  name?: string;
  handler: RouteHandler<C>;
}

/** The outcome of a lookup. */
export type RouteMatch<C> =
  | { kind: "found"; route: Route<C>; params: Record<string, string> }
  | { kind: "methodNotAllowed"; allowed: string[] }
  | { kind: "notFound" };

/** Matches requests to routes. */
export class Router<C> {
  readonly #exact = new Map<string, Map<string, Route<C>>>();
  readonly #patterns: { pattern: URLPattern; methods: Map<string, Route<C>> }[] = [];

  /** Adds routes; a path with `:name` or `*` segments becomes a URLPattern. */
  add(...routes: Route<C>[]): this {
    for (const route of routes) {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      let table: Map<string, Route<C>>;
      if (/[:*]/.test(route.path)) {
        let entry = this.#patterns.find((p) => p.pattern.pathname === route.path);
        if (!entry) {
          entry = { pattern: new URLPattern({ pathname: route.path }), methods: new Map() };
          this.#patterns.push(entry);
        }
        table = entry.methods;
      } else {
        table = this.#exact.get(route.path) ?? new Map();
        this.#exact.set(route.path, table);
      }
      for (const method of methods) table.set(method.toUpperCase(), route);
    }
    return this;
  }

  /** Finds the route for a method and path. */
  match(method: string, pathname: string): RouteMatch<C> {
    const exact = this.#exact.get(pathname);
    if (exact) return pick(exact, method, {});
    for (const { pattern, methods } of this.#patterns) {
      const result = pattern.exec({ pathname });
      if (result) return pick(methods, method, result.pathname.groups as Record<string, string>);
    }
    return { kind: "notFound" };
  }
}

function pick<C>(
  methods: Map<string, Route<C>>,
  method: string,
  params: Record<string, string>,
): RouteMatch<C> {
  const route = methods.get(method) ?? (method === "HEAD" ? methods.get("GET") : undefined);
  if (route) return { kind: "found", route, params };
  return { kind: "methodNotAllowed", allowed: [...methods.keys()] };
}
