/**
 * What this server publishes is what a sender accepts: `postern serve` over HTTPS (a certificate of
 * a test CA for mta-sts.example.org) serves the policy, dnsmasq serves the `_mta-sts` TXT record
 * exactly as `postern dns` prints it, and the server's own MTA-STS source (the one its transport
 * uses) finds, fetches, verifies and parses it; a new mode gives a new id and a new policy.
 */
import assert from "node:assert/strict";
import { DnsResolver } from "../src/dns/mod.ts";
import { httpsPolicyFetcher, MtaStsCache } from "../src/outbound/mod.ts";
import { openStore } from "../src/store/mod.ts";
import { HAS_DNSMASQ, startDnsmasq } from "./dnsmasq_helpers.ts";
import { cli, freePort, startServerProcess } from "./helpers.ts";
import { HAS_OPENSSL, testPki } from "./mta_sts_helpers.ts";

const MAIL_HOST = { POSTERN_MAIL_HOST: "mail.example.org" };

/** The `_mta-sts` TXT text `postern dns` prints for example.org (unquoted). */
async function publishedTxt(dataDir: string): Promise<string> {
  const result = await cli(["--data", dataDir, "--json", "dns", "example.org"], MAIL_HOST);
  assert.equal(result.code, 0, result.stderr);
  const records = JSON.parse(result.stdout).records as { name: string; value: string }[];
  return JSON.parse(records.find((r) => r.name === "_mta-sts.example.org.")!.value);
}

Deno.test({
  name: "the policy postern serve publishes is found, verified and parsed by the MTA-STS source",
  ignore: !HAS_DNSMASQ || !HAS_OPENSSL,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "postern-mta-sts-e2e-" });
    const pki = await testPki(dir, { server: ["mail.example.org", "mta-sts.example.org"] });
    await Deno.writeTextFile(`${dir}/cert.pem`, pki.certs.server.cert);
    await Deno.writeTextFile(`${dir}/key.pem`, pki.certs.server.key);
    const httpsPort = freePort();
    const server = await startServerProcess(`${dir}/data`, MAIL_HOST, {
      args: [
        "--https-listen",
        `127.0.0.1:${httpsPort}`,
        "--tls-cert",
        `${dir}/cert.pem`,
        "--tls-key",
        `${dir}/key.pem`,
      ],
    });
    const store = openStore(":memory:");
    const stops: (() => Promise<void>)[] = [];
    try {
      const source = async () => {
        const dns = await startDnsmasq({ "_mta-sts.example.org": await publishedTxt(`${dir}/data`) }, [
          "--host-record=mta-sts.example.org,127.0.0.1",
        ]);
        stops.push(dns.stop);
        const resolver = new DnsResolver({ servers: [dns.server], timeoutMs: 1000, tries: 2 });
        const fetch = httpsPolicyFetcher({
          addresses: (name) => resolver.addresses(name),
          ca: pki.ca,
          port: httpsPort,
        });
        return new MtaStsCache({ resolver, fetch, store: store.mtaSts });
      };
      const first = await (await source()).policyFor("example.org");
      assert.equal(first?.mode, "testing");
      assert.deepEqual(first?.mx, ["mail.example.org"]);
      assert.equal(first?.maxAge, 604800);

      const update = await cli(
        ["--data", `${dir}/data`, "update", "domain", "b", "--field", "mtaStsMode=enforce"],
        MAIL_HOST,
      );
      assert.equal(update.code, 0, update.stdout + update.stderr);
      const second = await (await source()).policyFor("example.org");
      assert.equal(second?.mode, "enforce", "the new TXT id makes the source fetch the new policy");
      assert.notEqual(second?.id, first?.id);
    } finally {
      for (const stop of stops) await stop();
      store.close();
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
