/**
 * In-process setup of the mail figures (9 and 10), through the same services the server uses: a user
 * with accounts shared with them (other users each sharing one mailbox through the mailbox service),
 * a user with none, a user with a large mailbox tree, and one mail-scoped access token for each,
 * issued to their own confidential client as the authorization_code grant would.
 */
import { resolveConfig } from "../../src/config/mod.ts";
import { rightBit } from "../../src/model/mail.ts";
import { openData } from "../../src/server.ts";

/** The mail figures' users and their Bearer access tokens. */
export interface MailFixture {
  /** The user `sharers` other users each share one mailbox with. */
  shared: MailUser;
  /** A user with no shared account. */
  alone: MailUser;
  /** The user whose account holds `mailboxes` mailboxes. */
  folders: MailUser & { mailboxes: number };
  sharers: number;
}

/** One user of the mail figures. */
export interface MailUser {
  login: string;
  accessToken: string;
}

/** The scope of the mail figures' tokens. */
const SCOPES = ["urn:ietf:params:jmap:mail"];
/** A grantee who may only read (the session marks such an account read-only) … */
const READ = rightBit("mayReadItems");
/** … and one who also files and flags (not read-only). */
const READ_WRITE = READ | rightBit("mayAddItems") | rightBit("maySetSeen") | rightBit("maySetKeywords");

/** The services the fixture works through (as `openData` opens them). */
type Services = Awaited<ReturnType<typeof openData>>["services"];

/**
 * Creates the users (no password: no Argon2), shares each sharer's Inbox with the shared user (half
 * of them read-only), fills the folders user's account up to `mailboxes`, registers the client and
 * issues the three tokens.
 */
export async function createMailFixture(
  dataDir: string,
  options: { domain: string; clientId: string; sharers: number; mailboxes: number },
): Promise<MailFixture> {
  const { services } = await openData(resolveConfig({ data: dataDir }, Deno.env.toObject()));
  try {
    const domain = await services.domains.getByName(options.domain);
    if (!domain) throw new Error(`Cannot create the mail fixture: no domain "${options.domain}"`);
    const user = async (name: string) =>
      (await services.accounts.create({ type: "User", name, domainId: domain.id })).id;
    const sharedId = await user("sharee");
    const aloneId = await user("loner");
    const foldersId = await user("folders");
    // Inside an outer transaction each service write runs inline (nested-safe): one commit per step.
    await services.store.transaction(async () => {
      for (let i = 1; i <= options.sharers; i++) {
        const ownerId = await user(`sharer${String(i).padStart(3, "0")}`);
        const inbox = (await services.mailboxes.list(ownerId, ownerId)).find((m) => m.role === "inbox")!;
        await services.mailboxes.update(ownerId, ownerId, inbox.id, {
          shareWith: new Map([[sharedId, i % 2 ? READ_WRITE : READ]]),
        });
      }
    });
    await services.store.transaction(() => fillMailboxes(services, foldersId, options.mailboxes));
    const token = await mailTokens(services, options.clientId);
    const login = (name: string) => `${name}@${options.domain}`;
    return {
      shared: { login: login("sharee"), accessToken: await token(sharedId) },
      alone: { login: login("loner"), accessToken: await token(aloneId) },
      folders: {
        login: login("folders"),
        accessToken: await token(foldersId),
        mailboxes: (await services.mailboxes.list(foldersId, foldersId)).length,
      },
      sharers: options.sharers,
    };
  } finally {
    await services.close();
  }
}

/**
 * Creates mailboxes in the account until it holds `total`. Every 8th new one is top-level; the next
 * three nest one below the other, the four after that sit directly under it: "Folder 0",
 * "Folder 0/Folder 1/Folder 2/Folder 3", "Folder 0/Folder 4", ….
 */
async function fillMailboxes(services: Services, accountId: number, total: number): Promise<void> {
  const existing = (await services.mailboxes.list(accountId, accountId)).length;
  const ids: number[] = [];
  for (let i = 0; i < total - existing; i++) {
    const slot = i % 8;
    const parentId = slot === 0 ? null : slot <= 3 ? ids[i - 1] : ids[i - slot];
    ids.push(await services.mailboxes.create(accountId, accountId, { name: `Folder ${i}`, parentId }));
  }
}

/**
 * Registers the confidential mail client (no consent) and returns what issues an access token for
 * an account through the provider's own TokenService, as the authorization_code grant would.
 */
async function mailTokens(
  services: Services,
  clientId: string,
): Promise<(accountId: number) => Promise<string>> {
  await services.objects.create("oauth-client/confidential", {
    clientId,
    name: `Benchmark mail client ${clientId}`,
    redirectUris: ["http://127.0.0.1/callback"],
    grantTypes: ["authorization_code"],
    scopes: SCOPES,
    requireConsent: false,
  }, "system");
  const client = await services.oauth.clients.byClientId(clientId);
  if (!client) throw new Error(`Cannot issue the mail tokens: no client "${clientId}"`);
  return async (accountId) =>
    (await services.oauth.tokens.issue({
      client,
      accountId,
      grantType: "authorization_code",
      scopes: SCOPES,
      authTime: Date.now(),
      issuer: "http://127.0.0.1",
      withRefresh: false,
    })).tokens.access_token;
}
