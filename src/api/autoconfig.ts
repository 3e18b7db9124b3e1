/**
 * Mail-client auto-configuration, without authentication: Thunderbird's autoconfig document
 * (`/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=…`, and `/mail/config-v1.1.xml` on the
 * `autoconfig.DOMAIN` host) and Microsoft's autodiscover (POX `POST /autodiscover/autodiscover.xml`,
 * and the JSON redirect to it). Each lists the submission servers (465 over TLS, 587 with STARTTLS)
 * and, once it exists, IMAP, from the configuration.
 *
 * The answer depends on the domain only: every address of a local domain gets the same document
 * (nothing says whether the address exists); another domain is 404. Autodiscover is in
 * src/api/autodiscover.ts, what both share in src/api/mail_client.ts.
 */
import { HttpError, type RequestContext, type Route } from "../http/mod.ts";
import { type AutoconfigDeps, isLocalDomain, parseAddress } from "./mail_client.ts";
import { type Xml, xml } from "./xml.ts";

/** Thunderbird's routes. */
export function autoconfigRoutes(deps: AutoconfigDeps): Route<RequestContext>[] {
  const thunderbird = (ctx: RequestContext) => thunderbirdConfig(ctx, deps);
  return [
    { method: "GET", path: "/.well-known/autoconfig/mail/config-v1.1.xml", handler: thunderbird },
    { method: "GET", path: "/mail/config-v1.1.xml", handler: thunderbird },
  ];
}

/** Thunderbird's document: the domain from `emailaddress`, or from the `autoconfig.` host name. */
async function thunderbirdConfig(ctx: RequestContext, deps: AutoconfigDeps): Promise<Response> {
  const given = ctx.url.searchParams.get("emailaddress");
  let domain: string;
  if (given !== null) {
    const parsed = parseAddress(given);
    if (!parsed) throw new HttpError(400, `emailaddress "${given.slice(0, 100)}" is not an email address`);
    domain = parsed.domain;
  } else if (ctx.url.hostname.toLowerCase().startsWith("autoconfig.")) {
    domain = ctx.url.hostname.toLowerCase().slice("autoconfig.".length);
  } else {
    throw new HttpError(400, "emailaddress is required, e.g. ?emailaddress=name@example.org");
  }
  if (!(await isLocalDomain(deps, domain))) throw new HttpError(404, "No mail domain here for that address");
  const host = deps.endpoints.mailHost ?? domain;
  const server = (type: "imap" | "smtp", port: number | undefined, socket: "SSL" | "STARTTLS") =>
    port === undefined ? [] : [
      xml`
        <${type === "imap" ? xml`incomingServer` : xml`outgoingServer`} type="${type}">
          <hostname>${host}</hostname>
          <port>${port}</port>
          <socketType>${socket}</socketType>
          <authentication>password-cleartext</authentication>
          <username>%EMAILADDRESS%</username>
          </${type === "imap" ? xml`incomingServer` : xml`outgoingServer`}>
      `,
    ];
  const { imapsPort, imapPort, submissionsPort, submissionPort } = deps.endpoints;
  const servers: Xml[] = [
    ...server("imap", imapsPort, "SSL"),
    ...server("imap", imapPort, "STARTTLS"),
    ...server("smtp", submissionsPort, "SSL"),
    ...server("smtp", submissionPort, "STARTTLS"),
  ];
  const body = xml`
    <?xml version="1.0" encoding="UTF-8"?>
    <clientConfig version="1.1">
      <emailProvider id="${domain}">
        <domain>${domain}</domain>
        <displayName>${domain}</displayName>
        <displayShortName>${domain}</displayShortName>${servers}
      </emailProvider>
    </clientConfig>
  `;
  return new Response(body.text, {
    headers: { "content-type": "application/xml; charset=utf-8", "cache-control": "no-store" },
  });
}
