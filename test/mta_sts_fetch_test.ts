/**
 * MTA-STS policies fetched for real: dnsmasq serves the `_mta-sts` TXT records and the addresses of
 * the `mta-sts.` hosts, a local HTTPS server (node:https) answers with a certificate of a test CA
 * made by openssl in a temp dir, and the server's fetcher must verify it, refuse redirects, other
 * content types, oversized bodies and wrong certificates.
 */
import assert from "node:assert/strict";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { DnsResolver } from "../src/dns/mod.ts";
import { httpsPolicyFetcher, MtaStsCache, MtaStsError } from "../src/outbound/mod.ts";
import { openStore } from "../src/store/mod.ts";
import { HAS_DNSMASQ, startDnsmasq } from "./dnsmasq_helpers.ts";
import { HAS_OPENSSL, testPki } from "./mta_sts_helpers.ts";

const POLICY = "version: STSv1\nmode: enforce\nmx: mx.good.test\nmx: *.backup.good.test\nmax_age: 604800\n";

/** An HTTPS server on 127.0.0.1 answering by Host header; returns its port and a stop function. */
async function policyServer(
  tls: { key: string; cert: string },
  answer: (
    host: string,
    path: string,
  ) => { status: number; type?: string; body: string; location?: string } | "hang",
): Promise<{ port: number; stop(): Promise<void> }> {
  const server = https.createServer({ key: tls.key, cert: tls.cert }, (request, response) => {
    const host = String(request.headers.host ?? "").replace(/:\d+$/, "");
    const a = answer(host, request.url ?? "");
    if (a === "hang") return;
    response.writeHead(a.status, {
      ...(a.type ? { "content-type": a.type } : {}),
      ...(a.location ? { location: a.location } : {}),
    });
    response.end(a.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

Deno.test({
  name:
    "a policy is found by DNS, fetched over verified HTTPS, and refused when the answer is not a plain 200",
  ignore: !HAS_DNSMASQ || !HAS_OPENSSL,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "postern-mta-sts-fetch-" });
    const store = openStore(":memory:");
    const hosts = ["good", "redirect", "html", "big", "missing", "slow", "wrongcert"].map((d) =>
      `mta-sts.${d}.test`
    );
    const dns = await startDnsmasq(
      { "_mta-sts.good.test": "v=STSv1; id=20261206T1", "_mta-sts.nothere.test": "v=STSv1; id=1" },
      hosts.map((h) => `--host-record=${h},127.0.0.1`),
    );
    // The missing and wrongcert hosts are not on the main certificate.
    const served = hosts.filter((h) => !/missing|wrongcert/.test(h));
    const pki = await testPki(dir, { main: served, other: ["mta-sts.other.test"] });
    const answers = (host: string, path: string) => {
      if (path !== "/.well-known/mta-sts.txt") return { status: 404, type: "text/plain", body: "no" };
      if (host === "mta-sts.good.test") {
        return { status: 200, type: "text/plain; charset=utf-8", body: POLICY };
      }
      if (host === "mta-sts.redirect.test") {
        return {
          status: 301,
          type: "text/plain",
          body: POLICY,
          location: "https://mta-sts.good.test/.well-known/mta-sts.txt",
        };
      }
      if (host === "mta-sts.html.test") return { status: 200, type: "text/html", body: POLICY };
      if (host === "mta-sts.big.test") {
        return { status: 200, type: "text/plain", body: POLICY + "x: y\n".repeat(14_000) };
      }
      if (host === "mta-sts.slow.test") return "hang" as const;
      return { status: 404, type: "text/plain", body: "not here" };
    };
    // One server answers every name; another has a certificate for a name that is none of them.
    const server = await policyServer(pki.certs.main, answers);
    const other = await policyServer(pki.certs.other, answers);
    try {
      const resolver = new DnsResolver({ servers: [dns.server], timeoutMs: 1000, tries: 2 });
      const options = {
        addresses: (name: string) => resolver.addresses(name),
        ca: pki.ca,
        port: server.port,
        timeoutMs: 3000,
      };
      const fetcher = httpsPolicyFetcher(options);
      const source = new MtaStsCache({ resolver, fetch: fetcher, store: store.mtaSts });
      assert.deepEqual(await source.policyFor("good.test"), {
        id: "20261206T1",
        mode: "enforce",
        mx: ["mx.good.test", "*.backup.good.test"],
        maxAge: 604800,
      });
      assert.equal(
        await source.policyFor("nothere.test"),
        null,
        "a TXT record without a reachable policy host is no policy",
      );
      assert.equal(await source.policyFor("absent.test"), null, "no TXT record is no policy");

      const refused = async (domain: string, why: RegExp, fetch = fetcher) => {
        await assert.rejects(
          fetch(domain),
          (e) => e instanceof MtaStsError && e.type === "sts-policy-fetch-error" && why.test(e.message),
          domain,
        );
      };
      await refused("redirect.test", /HTTP 301/);
      await refused("html.test", /text\/html/);
      await refused("big.test", /larger than 65536 bytes/);
      await refused("missing.test", /ERR_TLS_CERT_ALTNAME_INVALID/);
      await refused("nowhere.test", /ENOTFOUND|no address/);
      await refused("slow.test", /in time/, httpsPolicyFetcher({ ...options, timeoutMs: 500 }));
      // The certificate names another host; and a CA the fetcher does not trust.
      await refused(
        "wrongcert.test",
        /ERR_TLS_CERT_ALTNAME_INVALID/,
        httpsPolicyFetcher({ ...options, port: other.port }),
      );
      await refused(
        "good.test",
        /unable to verify/i,
        httpsPolicyFetcher({ ...options, ca: undefined }),
      );
    } finally {
      await server.stop();
      await other.stop();
      await dns.stop();
      store.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
