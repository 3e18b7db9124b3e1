/**
 * Mail-client auto-configuration without credentials: Thunderbird's autoconfig (well-known path and
 * the autoconfig. host) and Microsoft autodiscover (POX and JSON) list the submission servers of the
 * configuration; every address of a local domain gets the same answer (nothing tells whether it
 * exists); another domain is 404; malformed, oversized or DTD-carrying requests and wrong methods
 * are 4xx in each protocol's form.
 */
import assert from "node:assert/strict";
import { XMLParser } from "fast-xml-parser";
import { startTestApp, type TestApp } from "./helpers.ts";
import { createUsers } from "./mail_helpers.ts";

type Obj = Record<string, unknown>;
const parse = (text: string) =>
  new XMLParser({ removeNSPrefix: true, ignoreAttributes: false }).parse(text) as Obj;

async function withMailApp(body: (app: TestApp) => Promise<void>): Promise<void> {
  // The submission listeners are configured (never started in this in-process app): they are what the
  // documents list.
  const app = await startTestApp({
    env: {
      POSTERN_MAIL_HOST: "mail.example.org",
      POSTERN_SUBMISSION_LISTEN: "0.0.0.0:587",
      POSTERN_SUBMISSIONS_LISTEN: "0.0.0.0:465",
      POSTERN_TLS_CERT: "/etc/postern/cert.pem",
      POSTERN_TLS_KEY: "/etc/postern/key.pem",
    },
  });
  try {
    await createUsers(app, ["alice"]);
    await body(app);
  } finally {
    await app.close();
  }
}

/** A POX autodiscover request for `address`. */
function poxRequest(address: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>${address}</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>`;
}

Deno.test("Thunderbird autoconfig lists the submission servers, the same for any address of the domain", async () => {
  await withMailApp(async (app) => {
    const get = (path: string) => app.fetch(path);
    const known = await get("/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice%40example.org");
    assert.equal(known.status, 200);
    assert.match(known.headers.get("content-type") ?? "", /^application\/xml/);
    const text = await known.text();
    const unknown = await get(
      "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=nobody%40EXAMPLE.org",
    );
    assert.equal(await unknown.text(), text, "an unknown address gets the very same document");

    const provider = (parse(text).clientConfig as Obj).emailProvider as Obj;
    assert.equal(provider["@_id"], "example.org");
    assert.equal(provider.incomingServer, undefined, "no IMAP yet");
    const servers = (provider.outgoingServer as Obj[]).map((
      s,
    ) => [s.hostname, s.port, s.socketType, s.username]);
    assert.deepEqual(servers, [
      ["mail.example.org", 465, "SSL", "%EMAILADDRESS%"],
      ["mail.example.org", 587, "STARTTLS", "%EMAILADDRESS%"],
    ]);

    // The autoconfig.DOMAIN host, as Thunderbird asks it, without emailaddress.
    const info = { remoteAddr: { hostname: "127.0.0.1", port: 40000, transport: "tcp" as const } };
    const byHost = await app.app.handler(
      new Request("http://autoconfig.example.org/mail/config-v1.1.xml"),
      info as Deno.ServeHandlerInfo,
    );
    assert.equal(byHost.status, 200);
    assert.equal(await byHost.text(), text);

    // Bad input and other domains.
    assert.equal(
      (await get("/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=a%40elsewhere.test")).status,
      404,
    );
    for (const query of ["?emailaddress=not-an-address", "?emailaddress=%3Cx%3E%40example.org", ""]) {
      const response = await get(`/.well-known/autoconfig/mail/config-v1.1.xml${query}`);
      assert.equal(response.status, 400, query);
      await response.body?.cancel();
    }
    const post = await app.fetch("/.well-known/autoconfig/mail/config-v1.1.xml", {
      method: "POST",
      body: "x",
    });
    assert.equal(post.status, 405);
    await post.body?.cancel();
  });
});

Deno.test("autodiscover (POX) answers the domain's settings to anyone, the same for any address", async () => {
  await withMailApp(async (app) => {
    const pox = (body: string | Uint8Array<ArrayBuffer>, path = "/autodiscover/autodiscover.xml") =>
      app.fetch(path, { method: "POST", headers: { "content-type": "text/xml" }, body });
    const known = await pox(poxRequest("alice@example.org"));
    assert.equal(known.status, 200);
    assert.match(known.headers.get("content-type") ?? "", /^text\/xml/);
    const account = ((parse(await known.text()).Autodiscover as Obj).Response as Obj).Account as Obj;
    assert.equal(account.AccountType, "email");
    assert.deepEqual(
      (account.Protocol as Obj[]).map((p) => [p.Type, p.Server, p.Port, p.LoginName, p.Encryption]),
      [
        ["SMTP", "mail.example.org", 465, "alice@example.org", undefined],
        ["SMTP", "mail.example.org", 587, "alice@example.org", "TLS"],
      ],
    );
    const unknown = await pox(poxRequest("nobody@example.org"), "/Autodiscover/Autodiscover.xml");
    const other = ((parse(await unknown.text()).Autodiscover as Obj).Response as Obj).Account as Obj;
    assert.equal(unknown.status, 200);
    assert.deepEqual(
      (other.Protocol as Obj[]).map((p) => ({ ...p, LoginName: "" })),
      (account.Protocol as Obj[]).map((p) => ({ ...p, LoginName: "" })),
      "the same servers whether or not the address exists",
    );

    const errorOf = async (response: Response) => {
      const error = ((parse(await response.text()).Autodiscover as Obj).Response as Obj).Error as Obj;
      return { status: response.status, code: error.ErrorCode };
    };
    assert.deepEqual(await errorOf(await pox(poxRequest("a@elsewhere.test"))), { status: 404, code: 500 });
    assert.deepEqual(await errorOf(await pox("<Autodiscover><Request>")), { status: 400, code: 600 });
    assert.deepEqual(await errorOf(await pox(poxRequest("not an address"))), { status: 400, code: 600 });
    assert.deepEqual(await errorOf(await pox("<Autodiscover/>")), { status: 400, code: 600 });
    assert.deepEqual(await errorOf(await pox(new Uint8Array([0x3c, 0x61, 0xff, 0x3e]))), {
      status: 400,
      code: 600,
    });
    const dtd = `<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "alice@example.org">]>` +
      poxRequest("&e;").replace(/^<\?xml[^>]*>/, "");
    assert.deepEqual(await errorOf(await pox(dtd)), { status: 400, code: 600 });
    assert.deepEqual(await errorOf(await pox("x".repeat(20_000))), { status: 413, code: 600 });
    const get = await app.fetch("/autodiscover/autodiscover.xml");
    assert.equal(get.headers.get("allow"), "POST");
    assert.deepEqual(await errorOf(get), { status: 405, code: 600 });
  });
});

Deno.test("autodiscover (JSON) points at the POX endpoint; other protocols and domains are refused", async () => {
  await withMailApp(async (app) => {
    const json = async (path: string) => {
      const response = await app.fetch(path);
      return { status: response.status, body: await response.json() };
    };
    const found = await json(
      "/autodiscover/autodiscover.json/v1.0/alice%40example.org?Protocol=AutodiscoverV1",
    );
    assert.deepEqual(found, {
      status: 200,
      body: { Protocol: "AutodiscoverV1", Url: "http://127.0.0.1:8080/autodiscover/autodiscover.xml" },
    });
    assert.deepEqual(
      await json("/autodiscover/autodiscover.json?Email=nobody%40example.org&Protocol=autodiscoverv1"),
      found,
    );
    assert.equal(
      (await json("/autodiscover/autodiscover.json/v1.0/a%40example.org?Protocol=ActiveSync")).status,
      400,
    );
    assert.equal(
      (await json("/autodiscover/autodiscover.json/v1.0/a%40elsewhere.test?Protocol=AutodiscoverV1")).status,
      404,
    );
    assert.equal(
      (await json("/autodiscover/autodiscover.json/v1.0/%E0%A4%A?Protocol=AutodiscoverV1")).status,
      400,
    );
  });
});
