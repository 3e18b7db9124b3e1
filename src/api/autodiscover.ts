/**
 * Microsoft autodiscover for IMAP/SMTP clients (Outlook, and the many clients that copy it):
 *
 * 1. `POST /autodiscover/autodiscover.xml` (any case of the path Outlook uses): the POX request
 *    (schema outlook/requestschema/2006) naming EMailAddress, at most 16 KiB, well-formed, no DTD;
 *    answered with the outlook/responseschema/2006a settings of the address's domain.
 * 2. `GET /autodiscover/autodiscover.json/v1.0/ADDRESS?Protocol=AutodiscoverV1` (and `?Email=`):
 *    the JSON pointer to (1).
 *
 * Refusals are in each protocol's own form: the POX Error element (ErrorCode 600 Invalid Request,
 * 500 for an address outside this server's domains) with a 4xx status; JSON ErrorCode/ErrorMessage.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { HttpError, readBody, type RequestContext, type Route } from "../http/mod.ts";
import { type AutoconfigDeps, isLocalDomain, parseAddress } from "./mail_client.ts";
import { type Xml, xml } from "./xml.ts";

/** The largest POX request read; real ones are a few hundred bytes. */
const MAX_REQUEST_BYTES = 16_384;
const RESPONSE_SCHEMA = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
const OUTLOOK_SCHEMA = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

/** The autodiscover routes. */
export function autodiscoverRoutes(deps: AutoconfigDeps): Route<RequestContext>[] {
  const pox = (ctx: RequestContext) => poxAnswer(ctx, deps);
  const json = (ctx: RequestContext, params: Record<string, string>) => jsonAnswer(ctx, deps, params.address);
  // Another method on the POX endpoint is refused in the protocol's form too (not problem+json).
  const wrongMethod = () => {
    const response = poxError(405, 600, "Invalid Request: POST the request document");
    response.headers.set("allow", "POST");
    return response;
  };
  const others = ["GET", "PUT", "DELETE", "PATCH"];
  return [
    { method: "POST", path: "/autodiscover/autodiscover.xml", handler: pox },
    { method: "POST", path: "/Autodiscover/Autodiscover.xml", handler: pox },
    { method: others, path: "/autodiscover/autodiscover.xml", handler: wrongMethod },
    { method: others, path: "/Autodiscover/Autodiscover.xml", handler: wrongMethod },
    { method: "GET", path: "/autodiscover/autodiscover.json", handler: json },
    { method: "GET", path: "/autodiscover/autodiscover.json/v1.0/:address", handler: json },
  ];
}

/** (1) The POX answer. */
async function poxAnswer(ctx: RequestContext, deps: AutoconfigDeps): Promise<Response> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(await readBody(ctx.request, MAX_REQUEST_BYTES));
  } catch (error) {
    if (error instanceof HttpError) return poxError(error.status, 600, "Invalid Request: " + error.message);
    if (error instanceof TypeError) return poxError(400, 600, "Invalid Request: the body is not UTF-8");
    throw error;
  }
  // No DTD: nothing to expand, no entity tricks.
  if (/<!DOCTYPE|<!ENTITY/i.test(text) || XMLValidator.validate(text) !== true) {
    return poxError(400, 600, "Invalid Request: the body is not a well-formed XML document without a DTD");
  }
  const parsed = new XMLParser({ removeNSPrefix: true, processEntities: false, ignoreAttributes: true })
    .parse(text) as { Autodiscover?: { Request?: { EMailAddress?: unknown } } };
  const given = parsed?.Autodiscover?.Request?.EMailAddress;
  const address = parseAddress(given);
  if (!address) {
    return poxError(400, 600, "Invalid Request: Request/EMailAddress is missing or not an address");
  }
  if (!(await isLocalDomain(deps, address.domain))) {
    return poxError(404, 500, "The e-mail address cannot be found.");
  }
  const host = deps.endpoints.mailHost ?? address.domain;
  const protocol = (type: "IMAP" | "SMTP", port: number | undefined, tls: "ssl" | "starttls"): Xml[] =>
    port === undefined ? [] : [
      xml`
        <Protocol>
          <Type>${type}</Type>
          <Server>${host}</Server>
          <Port>${port}</Port>
          <LoginName>${address.address}</LoginName>
          <DomainRequired>off</DomainRequired>
          <SPA>off</SPA>
          ${tls === "ssl" ? xml`<SSL>on</SSL>` : xml`
            <SSL>on</SSL>
            <Encryption>TLS</Encryption>
          `}
          <AuthRequired>on</AuthRequired>
        </Protocol>
      `,
    ];
  const { imapsPort, imapPort, submissionsPort, submissionPort } = deps.endpoints;
  const body = xml`
    <?xml version="1.0" encoding="utf-8"?>
    <Autodiscover xmlns="${RESPONSE_SCHEMA}">
      <Response xmlns="${OUTLOOK_SCHEMA}">
        <Account>
          <AccountType>email</AccountType>
          <Action>settings</Action>${[
            ...protocol("IMAP", imapsPort, "ssl"),
            ...protocol("IMAP", imapPort, "starttls"),
            ...protocol("SMTP", submissionsPort, "ssl"),
            ...protocol("SMTP", submissionPort, "starttls"),
          ]}
        </Account>
      </Response>
    </Autodiscover>
  `;
  return poxResponse(200, body);
}

/** A POX Error answer. */
function poxError(status: number, code: number, message: string): Response {
  const body = xml`
    <?xml version="1.0" encoding="utf-8"?>
    <Autodiscover xmlns="${RESPONSE_SCHEMA}">
      <Response>
        <Error Time="${new Date().toISOString().slice(11, 19)}" Id="0">
          <ErrorCode>${code}</ErrorCode>
          <Message>${message}</Message>
          <DebugData />
        </Error>
      </Response>
    </Autodiscover>
  `;
  return poxResponse(status, body);
}

function poxResponse(status: number, body: Xml): Response {
  return new Response(body.text, {
    status,
    headers: { "content-type": "text/xml; charset=utf-8", "cache-control": "no-store" },
  });
}

/** (2) The JSON pointer to the POX endpoint (the only protocol offered). */
async function jsonAnswer(ctx: RequestContext, deps: AutoconfigDeps, inPath?: string): Promise<Response> {
  const params = ctx.url.searchParams;
  const given = inPath !== undefined ? safeDecode(inPath) : params.get("Email") ?? params.get("email");
  const protocol = params.get("Protocol") ?? params.get("protocol");
  const error = (status: number, code: string, message: string) =>
    ctx.json({ ErrorCode: code, ErrorMessage: message }, { status });
  if (!protocol || protocol.toLowerCase() !== "autodiscoverv1") {
    return error(400, "ProtocolNotSupported", "Only Protocol=AutodiscoverV1 is offered");
  }
  const address = parseAddress(given);
  if (!address) return error(400, "InvalidUser", "The email address is missing or malformed");
  if (!(await isLocalDomain(deps, address.domain))) {
    return error(404, "InvalidUser", "No mail domain here for that address");
  }
  return ctx.json({ Protocol: "AutodiscoverV1", Url: `${ctx.baseUrl}/autodiscover/autodiscover.xml` });
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
