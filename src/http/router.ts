/**
 * A route table: exact paths in a Map (one lookup), patterns for the rest, tried in order. A pattern
 * of plain segments and whole-segment `:name`s (all of ours) is matched segment by segment, as
 * URLPattern matches it (router_test.ts compares the two); any other pattern is a URLPattern.
 */

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
  readonly #patterns: { path: string; match: PathMatcher; methods: Map<string, Route<C>> }[] = [];

  /** Adds routes; a path with `:name` or `*` segments becomes a URLPattern. */
  add(...routes: Route<C>[]): this {
    for (const route of routes) {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      let table: Map<string, Route<C>>;
      if (/[:*]/.test(route.path)) {
        let entry = this.#patterns.find((p) => p.path === route.path);
        if (!entry) {
          entry = { path: route.path, match: pathMatcher(route.path), methods: new Map() };
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
    for (const { match, methods } of this.#patterns) {
      const params = match(pathname);
      if (params) return pick(methods, method, params);
    }
    return { kind: "notFound" };
  }
}

/** The parameters of a path that matches a pattern, or undefined. */
export type PathMatcher = (pathname: string) => Record<string, string> | undefined;

const NAME = /^:[A-Za-z_$][\w$]*$/;
/** Characters a literal segment may hold for the segment matcher: none is special to URLPattern. */
const LITERAL = /^[A-Za-z0-9._~@-]*$/;

/**
 * The matcher of a route pattern: segment by segment when the pattern is plain segments and
 * whole-segment `:name`s (a name matches one non-empty segment, URLPattern's `[^/]+?`), else URLPattern.
 * URLPattern ran a regular expression per route and request, about 3% of the main thread's time in
 * the import bench (figure 11: an upload's path has a parameter).
 */
export function pathMatcher(path: string): PathMatcher {
  const segments = path.split("/");
  if (!segments.every((s) => NAME.test(s) || (LITERAL.test(s) && s !== "." && s !== ".."))) {
    const pattern = new URLPattern({ pathname: path });
    return (pathname) => pattern.exec({ pathname })?.pathname.groups as Record<string, string> | undefined;
  }
  const names = segments.map((s) => s.startsWith(":") ? s.slice(1) : undefined);
  return (pathname) => {
    const parts = pathname.split("/");
    if (parts.length !== segments.length) return undefined;
    const params: Record<string, string> = {};
    for (let i = 0; i < parts.length; i++) {
      const name = names[i];
      if (name === undefined) {
        if (parts[i] !== segments[i]) return undefined;
      } else {
        if (parts[i] === "") return undefined;
        params[name] = parts[i];
      }
    }
    return params;
  };
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
