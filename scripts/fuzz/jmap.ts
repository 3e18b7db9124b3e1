/**
 * The JMAP request surface: random method calls (the server's own and made-up names) with argument
 * objects mutated from valid templates, result references, creation ids and odd `using` lists, as
 * the admin and as the plain user; now and then a whole request of an odd shape (nesting around the
 * 128-level limit, wrong top-level types, prototype names).
 */
import {
  type FuzzContext,
  jmapRequest,
  remember,
  responsesOf,
  someActor,
  someId,
  type Surface,
} from "./context.ts";
import { mutate } from "./mutate.ts";
import { nested, oddString, oddValue, PROTOTYPE_NAMES, type Random } from "./random.ts";

const STANDARD_TYPES = [
  "Mailbox",
  "Email",
  "Thread",
  "Identity",
  "EmailSubmission",
  "Quota",
  "Principal",
  "ShareNotification",
  "PushSubscription",
  "x:Account",
  "x:Domain",
  "x:AppPassword",
  "x:ApiKey",
  "x:OAuthClient",
  "x:OAuthGrant",
  "x:MailboxGrant",
  "x:DkimKey",
  "x:QueuedMessage",
  "x:Action",
];
const SINGLETONS = [
  "VacationResponse",
  "x:Cache",
  "x:Authentication",
  "x:OidcProvider",
  "x:Sharing",
  "x:Smarthost",
  "x:Outbound",
];
const STANDARD_METHODS = ["get", "set", "changes", "query", "queryChanges"];
const OTHER_METHODS = [
  "Core/echo",
  "Email/import",
  "Email/parse",
  "Email/copy",
  "Blob/copy",
  "SearchSnippet/get",
];

/**
 * Every method the harness has seed arguments for: the standard methods of each type, the singletons'
 * get and set, and the others. test/fuzz_smoke_test.ts fails when the server registers a method that is
 * not here, so a new method cannot go unfuzzed.
 */
export const SEEDED_METHODS: readonly string[] = [
  ...new Set([
    ...STANDARD_TYPES.flatMap((type) => STANDARD_METHODS.map((method) => `${type}/${method}`)),
    ...SINGLETONS.flatMap((type) => ["get", "set"].map((method) => `${type}/${method}`)),
    ...OTHER_METHODS,
  ]),
];

/** Rounds at the start of a run that each call four seeded methods in turn, so a short run calls all. */
const SWEEP_CALLS = 4;
let sweep = 0;

/** One JMAP request with one to four method calls. */
export const jmapSurface: Surface = async (rng, ctx) => {
  const actor = someActor(rng, ctx);
  const sweeping = sweep < SEEDED_METHODS.length;
  const body = !sweeping && rng.chance(0.08)
    ? oddRequest(rng, ctx)
    : request(rng, ctx, actor.accountId, sweeping);
  const answer = await ctx.client.send(jmapRequest(ctx, actor, body));
  learn(ctx, answer.json);
};

function request(rng: Random, ctx: FuzzContext, own: string, sweeping: boolean): Record<string, unknown> {
  const count = sweeping ? SWEEP_CALLS : rng.int(1, 4);
  const calls = Array.from(
    { length: count },
    (_, i) => call(rng, ctx, i, own, sweeping ? SEEDED_METHODS[sweep++ % SEEDED_METHODS.length] : undefined),
  );
  const out: Record<string, unknown> = { using: using(rng, ctx), methodCalls: calls };
  if (rng.chance(0.1)) out.createdIds = rng.chance(0.5) ? { c1: someId(rng, ctx, "Email") } : oddValue(rng);
  return out;
}

function using(rng: Random, ctx: FuzzContext): unknown {
  const all = ctx.server.capabilities;
  switch (rng.int(0, 9)) {
    case 0:
      return [];
    case 1:
      return [...all, "urn:example:unknown"];
    case 2:
      return oddValue(rng);
    case 3:
      return [rng.pick(all)];
    default:
      return all;
  }
}

function methodName(rng: Random): string {
  const r = rng.next();
  if (r < 0.6) return `${rng.pick(STANDARD_TYPES)}/${rng.pick(STANDARD_METHODS)}`;
  if (r < 0.75) return `${rng.pick(SINGLETONS)}/${rng.pick(["get", "set"])}`;
  if (r < 0.93) return rng.pick(r < 0.8 ? OTHER_METHODS : SEEDED_METHODS);
  return rng.chance(0.5) ? `${rng.pick(PROTOTYPE_NAMES)}/get` : oddString(rng, 300);
}

function call(rng: Random, ctx: FuzzContext, index: number, own: string, chosen?: string): unknown {
  const name = chosen ?? methodName(rng);
  const template = argsFor(rng, ctx, name, { index, own });
  let args = rng.chance(0.7) ? mutate(rng, template) : template;
  // Mostly keep an arguments object, so the method's own checks (not the request's) get the odd values.
  if ((typeof args !== "object" || args === null || Array.isArray(args)) && rng.chance(0.9)) args = template;
  const callId = rng.chance(0.9) ? String(index) : oddString(rng, 100);
  if (rng.chance(0.03)) return oddValue(rng);
  return [name, args, callId];
}

/** Valid-looking arguments of `name`; the index lets later calls refer back to earlier ones. */
function argsFor(
  rng: Random,
  ctx: FuzzContext,
  name: string,
  { index, own }: { index: number; own: string },
): Record<string, unknown> {
  const [type, method] = name.split("/");
  // The caller's own account mostly; the other fuzz account (shared or not) or a made-up one sometimes.
  const accountId = rng.chance(0.85) ? own : someId(rng, ctx, "account");
  // No ids (all), a few, or every id of the type seen so far.
  const ids = () =>
    rng.chance(0.3)
      ? null
      : rng.chance(0.1)
      ? [...ctx.seen.get(type) ?? []]
      : Array.from({ length: rng.int(0, 4) }, () => someId(rng, ctx, type));
  const reference = index > 0 && rng.chance(0.3)
    ? { resultOf: String(rng.int(0, index - 1)), name: rng.pick(STANDARD_TYPES) + "/query", path: "/ids" }
    : undefined;
  switch (name) {
    case "Core/echo":
      return { hello: oddValue(rng) };
    case "Email/import":
      return {
        accountId,
        emails: {
          k1: { blobId: someId(rng, ctx, "blob"), mailboxIds: { [rng.pick(ctx.server.mailboxIds)]: true } },
        },
      };
    case "Email/parse":
      return { accountId, blobIds: [someId(rng, ctx, "blob")], fetchAllBodyValues: rng.chance(0.5) };
    case "Email/copy":
    case "Blob/copy":
      return {
        fromAccountId: ctx.server.user.accountId,
        accountId,
        ...(name === "Blob/copy" ? { blobIds: [someId(rng, ctx, "blob")] } : {
          create: {
            k1: { id: someId(rng, ctx, "Email"), mailboxIds: { [rng.pick(ctx.server.mailboxIds)]: true } },
          },
        }),
      };
    case "SearchSnippet/get":
      return { accountId, filter: { text: oddString(rng, 200) }, emailIds: ids() ?? [] };
    case "x:Action/set":
      return {
        create: { a1: { "@type": rng.pick(["InvalidateCaches", "InvalidateNegativeCaches", "Nope"]) } },
      };
  }
  if (type === "PushSubscription") {
    // RFC 8620 §7.2: not per account.
    return method === "set" ? { create: { c1: objectFor(rng, ctx, type) } } : { ids: null };
  }
  switch (method) {
    case "get":
      return {
        accountId,
        ids: SINGLETONS.includes(type) ? ["singleton"] : reference ? undefined : ids(),
        ...(reference ? { "#ids": reference } : {}),
        ...(rng.chance(0.3) ? { properties: propertiesFor(rng) } : {}),
      };
    case "set":
      return setArgs(rng, ctx, type, accountId);
    case "query":
      return {
        accountId,
        filter: filterFor(rng, type),
        sort: [{ property: rng.pick(["receivedAt", "name", "sortOrder", "size", "id"]), isAscending: true }],
        position: rng.int(-5, 5),
        limit: rng.pick([0, 1, 10, 50, 1000]),
        calculateTotal: rng.chance(0.5),
      };
    case "changes":
      return { accountId, sinceState: rng.pick(["0", "1", "bogus", ""]), maxChanges: rng.pick([1, 10, 0]) };
    case "queryChanges":
      return { accountId, sinceQueryState: rng.pick(["0", "bogus"]), filter: filterFor(rng, type) };
    default:
      return { accountId };
  }
}

/** The most conditions under one filter operator (the issue's ~1,000 once failed with serverFail). */
const MAX_CONDITIONS = 1500;
/** The most properties asked of a /get (the 20,000 header properties once held the server). */
const MAX_PROPERTIES = 25_000;

/** A few plain properties, or now and then very many header properties (deduplicated or not). */
function propertiesFor(rng: Random): string[] {
  const plain = ["id", "name", "subject", "role", "@type", "blobId", "preview"];
  if (rng.chance(0.8)) return plain;
  const count = rng.size(MAX_PROPERTIES);
  const distinct = rng.chance(0.5);
  return [...plain, ...Array.from({ length: count }, (_, i) => `header:X-Fuzz-${distinct ? i : 0}:asText`)];
}

function filterFor(rng: Random, type: string): unknown {
  if (type === "Email") {
    const condition = () =>
      rng.pick([
        { text: "hello" },
        { from: "x@example.org" },
        { inMailbox: "b" },
        { hasKeyword: "$seen" },
        { before: "2030-01-01T00:00:00Z" },
        { minSize: 10 },
        { header: ["Subject", "x"] },
      ]);
    // A few tens of conditions under one operator; the known ~1,000 case has its own test.
    if (rng.chance(0.3)) {
      return {
        operator: rng.pick(["AND", "OR", "NOT"]),
        conditions: Array.from({ length: rng.size(MAX_CONDITIONS) }, condition),
      };
    }
    return condition();
  }
  if (type === "Mailbox") return rng.pick([{ role: "inbox" }, { parentId: null }, { name: "x" }, {}]);
  if (type === "x:Account") return rng.pick([{ text: "fuzz" }, { name: "admin" }, { "@type": "User" }, {}]);
  return rng.chance(0.5) ? null : {};
}

function setArgs(rng: Random, ctx: FuzzContext, type: string, accountId: string): Record<string, unknown> {
  const args: Record<string, unknown> = { accountId };
  if (rng.chance(0.6)) {
    args.create = {
      c1: objectFor(rng, ctx, type),
      ...(rng.chance(0.3) ? { c2: objectFor(rng, ctx, type) } : {}),
    };
  }
  if (rng.chance(0.4)) {
    const id = SINGLETONS.includes(type) ? "singleton" : rng.chance(0.2) ? "#c1" : someId(rng, ctx, type);
    args.update = { [id]: patchFor(rng, type) };
  }
  if (rng.chance(0.2)) args.destroy = [rng.chance(0.2) ? "#c1" : someId(rng, ctx, type)];
  if (rng.chance(0.1)) args.ifInState = rng.pick(["0", "bogus"]);
  return args;
}

function objectFor(rng: Random, ctx: FuzzContext, type: string): Record<string, unknown> {
  const name = `fuzz${rng.int(0, 1_000_000)}`;
  const mailbox = rng.pick(ctx.server.mailboxIds);
  switch (type) {
    case "Mailbox":
      return { name, parentId: rng.chance(0.5) ? null : "#c1", role: null };
    case "Email":
      return {
        mailboxIds: { [mailbox]: true },
        subject: oddString(rng, 300),
        from: [{ email: "fuzzuser@example.org" }],
        bodyValues: { t: { value: oddString(rng, 5000) } },
        textBody: [{ partId: "t", type: "text/plain" }],
        keywords: { $seen: true },
      };
    case "Identity":
      return { name, email: "fuzzuser@example.org" };
    case "EmailSubmission":
      return { identityId: someId(rng, ctx, "Identity"), emailId: "#c1" };
    case "PushSubscription":
      return { deviceClientId: name, url: "https://127.0.0.1/push", types: null };
    case "x:Account":
      return { "@type": rng.pick(["User", "Group"]), name, domainId: ctx.server.domainId };
    case "x:Domain":
      return { name: `${name}.example` };
    case "x:AppPassword":
    case "x:ApiKey":
      return { description: name };
    case "x:OAuthClient":
      return {
        "@type": rng.pick(["Confidential", "Public"]),
        name,
        redirectUris: ["http://127.0.0.1/cb"],
        grantTypes: ["authorization_code"],
        scopes: ["openid"],
      };
    case "x:MailboxGrant":
      return { mailboxId: mailbox, granteeId: ctx.server.admin.accountId, rights: ["read"] };
    default:
      return { name };
  }
}

function patchFor(rng: Random, type: string): Record<string, unknown> {
  switch (type) {
    case "Email":
      return rng.pick([{ "keywords/$flagged": true }, { keywords: { $seen: true } }, {
        "mailboxIds/b": true,
      }]);
    case "VacationResponse":
      return { isEnabled: rng.chance(0.5), textBody: "away" };
    case "x:Cache":
      return { ttl: "1h" };
    case "x:Authentication":
      return { minPasswordLength: rng.int(8, 20) };
    case "x:OidcProvider":
      return { accessTokenExpiry: "1h" };
    default:
      return rng.pick([{ name: `fuzz${rng.int(0, 1000)}` }, { description: "x" }, {
        "aliases/0": "a@example.org",
      }]);
  }
}

/** A request of an odd overall shape. */
function oddRequest(rng: Random, ctx: FuzzContext): unknown {
  switch (rng.int(0, 5)) {
    case 0:
      return nested(rng, rng.pick([100, 126, 127, 128, 129, 130, 5000]), {
        using: ctx.server.capabilities,
        methodCalls: [],
      });
    case 1:
      return {
        using: ctx.server.capabilities,
        methodCalls: [["Core/echo", nested(rng, rng.pick([120, 125, 126, 127, 128, 129]), "x"), "0"]],
      };
    case 2:
      return oddValue(rng);
    case 3:
      return {
        using: ctx.server.capabilities,
        methodCalls: Array.from(
          { length: rng.pick([16, 17, 64, 500]) },
          (_, i) => ["Core/echo", {}, String(i)],
        ),
      };
    case 4:
      return JSON.stringify({ using: ctx.server.capabilities, methodCalls: [] }).slice(0, rng.int(0, 40));
    default:
      return `{"using":[],"methodCalls":[],"${rng.pick(PROTOTYPE_NAMES)}":${JSON.stringify(oddValue(rng))}}`;
  }
}

/** Remembers the ids an answer names, so later requests aim at real objects. */
function learn(ctx: FuzzContext, json: unknown): void {
  for (const [name, args] of responsesOf(json)) {
    if (typeof args !== "object" || args === null) continue;
    const type = name.split("/")[0];
    const created = args.created as Record<string, { id?: unknown }> | undefined;
    if (created && typeof created === "object") {
      for (const c of Object.values(created)) remember(ctx, type, c?.id);
    }
    if (Array.isArray(args.ids)) { for (const id of args.ids.slice(0, 5)) remember(ctx, type, id); }
    if (Array.isArray(args.list)) {
      for (const item of args.list.slice(0, 5)) {
        remember(ctx, type, (item as { id?: unknown })?.id);
        remember(ctx, "blob", (item as { blobId?: unknown })?.blobId);
      }
    }
  }
}

export { learn as learnIds };
