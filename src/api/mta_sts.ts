/**
 * The MTA-STS policy of each local domain (RFC 8461 §3.3), without authentication: `GET
 * /.well-known/mta-sts.txt` on the host `mta-sts.DOMAIN`. Another host, or a domain that is not one
 * of ours, is 404; the policy is text/plain. Its mx is the published MX host (the mail host, or
 * the domain itself), as in `postern dns` (src/model/dns_records.ts).
 */
import { HttpError, type RequestContext, type Route } from "../http/mod.ts";
import { publishedMtaStsPolicy } from "../model/mta_sts.ts";
import type { AutoconfigDeps } from "./mail_client.ts";

const PREFIX = "mta-sts.";

/** The policy route. */
export function mtaStsRoutes(deps: AutoconfigDeps): Route<RequestContext>[] {
  return [{ method: "GET", path: "/.well-known/mta-sts.txt", handler: (ctx) => policy(ctx, deps) }];
}

async function policy(ctx: RequestContext, deps: AutoconfigDeps): Promise<Response> {
  const host = ctx.url.hostname.toLowerCase().replace(/\.$/, "");
  if (!host.startsWith(PREFIX)) {
    throw new HttpError(
      404,
      `The MTA-STS policy is served on the host mta-sts.DOMAIN, not ${host.slice(0, 100)}`,
    );
  }
  const name = host.slice(PREFIX.length);
  const domain = name ? await deps.domains.getByName(name) : undefined;
  if (!domain) throw new HttpError(404, "No mail domain here for that host");
  const { text } = publishedMtaStsPolicy(domain.mtaStsMode, deps.endpoints.mailHost ?? domain.name);
  // Senders cache by max_age and the TXT id; a short HTTP cache keeps proxies from serving an old mode long.
  return new Response(text, {
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "max-age=300" },
  });
}
