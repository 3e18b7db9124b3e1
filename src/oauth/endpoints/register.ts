/**
 * Dynamic client registration (RFC 7591), off unless `OidcProvider.allowDynamicRegistration` is on.
 * Registered clients have no owner, so they cannot use client_credentials; they never get the admin
 * scope, always ask for consent (their page says they are unverified), redirect only to https,
 * loopback http or (native apps) a private-use scheme, and cannot take another client's name.
 */
import type { RequestContext } from "../../http/mod.ts";
import { HttpError, readBody } from "../../http/mod.ts";
import { selfRegisteredRedirectProblem } from "../client_rules.ts";
import { generatedClientId } from "../clients.ts";
import { type GrantType, InvalidInputError, OAUTH_CLIENT, validateObject } from "../deps.ts";
import { OAuthError } from "../errors.ts";
import type { OAuthProvider } from "../provider.ts";
import { oauthEndpoint, oauthJson } from "./responses.ts";

const GRANTS: readonly string[] = [
  "authorization_code",
  "refresh_token",
  "urn:ietf:params:oauth:grant-type:device_code",
];
const metadataError = (description: string) => new OAuthError("invalid_client_metadata", description);
const MAX_BODY_BYTES = 64 * 1024;

/** POST /auth/register. */
export function registrationEndpoint(provider: OAuthProvider) {
  return (ctx: RequestContext) =>
    oauthEndpoint(async () => {
      if (!provider.settings.allowDynamicRegistration) {
        throw new OAuthError("access_denied", "Dynamic client registration is disabled on this server", 403);
      }
      if (!/^application\/json\b/i.test(ctx.request.headers.get("content-type") ?? "")) {
        throw metadataError("The registration request must be application/json");
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(
          new TextDecoder("utf-8", { fatal: true }).decode(await readBody(ctx.request, MAX_BODY_BYTES)),
        );
      } catch (error) {
        if (error instanceof HttpError && error.status === 413) {
          throw metadataError(`The registration request exceeds ${MAX_BODY_BYTES} bytes`);
        }
        throw metadataError("The registration request is not valid JSON");
      }
      if (body === null || typeof body !== "object" || Array.isArray(body)) {
        throw metadataError("The registration request must be a JSON object");
      }
      const method = body.token_endpoint_auth_method ?? "client_secret_basic";
      if (!["none", "client_secret_basic", "client_secret_post"].includes(String(method))) {
        throw metadataError(`Unsupported token_endpoint_auth_method "${method}"`);
      }
      const grantTypes = (body.grant_types ?? ["authorization_code"]) as unknown;
      if (!Array.isArray(grantTypes) || grantTypes.some((g) => !GRANTS.includes(g))) {
        throw metadataError(`grant_types may contain only ${GRANTS.join(", ")}`);
      }
      const responseTypes = body.response_types ?? ["code"];
      if (!Array.isArray(responseTypes) || responseTypes.some((r) => r !== "code")) {
        throw metadataError('Only the response type "code" is supported');
      }
      for (const name of ["client_name", "scope", "token_endpoint_auth_method", "application_type"]) {
        if (body[name] !== undefined && typeof body[name] !== "string") {
          throw metadataError(`${name} must be a string`);
        }
      }
      for (const name of ["redirect_uris", "post_logout_redirect_uris"]) {
        const list = body[name];
        if (list !== undefined && (!Array.isArray(list) || list.some((v) => typeof v !== "string"))) {
          throw new OAuthError(
            name === "redirect_uris" ? "invalid_redirect_uri" : "invalid_client_metadata",
            `${name} must be an array of URIs`,
          );
        }
      }
      const applicationType = body.application_type ?? "web";
      if (applicationType !== "web" && applicationType !== "native") {
        throw metadataError('application_type must be "web" or "native"');
      }
      // OIDC Dynamic Registration §2: pairwise subjects (and their sector_identifier_uri) are not supported.
      if (body.sector_identifier_uri !== undefined) {
        throw metadataError("sector_identifier_uri is not supported: subjects are the same for every client");
      }
      if (body.subject_type !== undefined && body.subject_type !== "public") {
        throw metadataError('Only the subject_type "public" is supported (no pairwise subjects)');
      }
      const clientId = generatedClientId();
      const wire = {
        // Unnamed clients each get their own name: the name is what the consent page shows.
        name: body.client_name ?? `Unnamed application ${clientId}`,
        redirectUris: body.redirect_uris ?? [],
        postLogoutRedirectUris: body.post_logout_redirect_uris ?? [],
        grantTypes,
        scopes: typeof body.scope === "string" ? body.scope.split(" ").filter(Boolean) : ["openid"],
      };
      const checked = validateObject(OAUTH_CLIENT, wire, { mode: "create" });
      if (!checked.ok) {
        const problem = checked.problems[0];
        throw new OAuthError(
          problem.property.includes("edirect") ? "invalid_redirect_uri" : "invalid_client_metadata",
          problem.message,
        );
      }
      const value = checked.value;
      const native = applicationType === "native" || method === "none";
      for (const uri of [...value.redirectUris as string[], ...value.postLogoutRedirectUris as string[]]) {
        const problem = selfRegisteredRedirectProblem(uri, native);
        if (problem) throw new OAuthError("invalid_redirect_uri", problem);
      }
      const { client, secret } = await provider.clients.create({
        clientId,
        name: String(value.name),
        type: method === "none" ? "Public" : "Confidential",
        secretHash: null,
        ownerId: null,
        redirectUris: value.redirectUris as string[],
        postLogoutRedirectUris: value.postLogoutRedirectUris as string[],
        grantTypes: value.grantTypes as GrantType[],
        scopes: value.scopes as string[],
        requireConsent: true,
        dynamic: true,
        resourceServer: false,
        description: "Registered dynamically (RFC 7591)",
      }).catch((error) => {
        if (error instanceof InvalidInputError) throw metadataError(error.message);
        throw error;
      });
      return oauthJson({
        client_id: client.clientId,
        ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
        client_id_issued_at: Math.floor(client.createdAt / 1000),
        client_name: client.name,
        redirect_uris: client.redirectUris,
        post_logout_redirect_uris: client.postLogoutRedirectUris,
        grant_types: client.grantTypes,
        response_types: ["code"],
        token_endpoint_auth_method: method,
        application_type: applicationType,
        subject_type: "public",
        scope: client.scopes.join(" "),
      }, 201);
    });
}
