import assert from "node:assert/strict";
import { pathMatcher, Router } from "./router.ts";

const PATTERNS = [
  "/jmap/upload/:accountId/",
  "/jmap/upload/:accountId",
  "/jmap/download/:accountId/:blobId/:name",
  "/.well-known/acme-challenge/:token",
  "/autodiscover/autodiscover.json/v1.0/:address",
  "/items/:id",
  "/a/:x/b/:y",
  "/:only",
  // Not plain segments: URLPattern itself.
  "/files/*",
  "/v/:id(\\d+)",
  "/opt/:name?",
];

/** Pathnames as requests give them (canonical, as the URL parser leaves them), near and far from the patterns. */
function pathnames(): string[] {
  const pieces = [
    "",
    "jmap",
    "upload",
    "download",
    "A1",
    "G0abc_-",
    "x%2Fy",
    "na%20me.txt",
    "caf%C3%A9",
    ".well-known",
    "acme-challenge",
    "autodiscover",
    "autodiscover.json",
    "v1.0",
    "a@b.example",
    "items",
    "a",
    "b",
    "files",
    "v",
    "12",
    "opt",
    "é",
    " ",
    "~",
  ];
  const found = new Set<string>([
    "/",
    "//",
    "/jmap/upload//",
    "/jmap/upload/A1/",
    "/jmap/upload/A1",
    "/jmap/download/A1/G0/n.eml",
    "/jmap/download/A1//n.eml",
    "/.well-known/acme-challenge/tok",
    "/autodiscover/autodiscover.json/v1.0/a@b.example",
    "/items/1",
    "/a/1/b/2",
    "/files/x/y",
    "/v/12",
    "/opt",
    "/opt/x",
  ]);
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 5000; i++) {
    const count = 1 + Math.floor(next() * 5);
    const path = Array.from({ length: count }, () => pieces[Math.floor(next() * pieces.length)]).join("/");
    found.add(new URL(`http://h/${path}${next() < 0.3 ? "/" : ""}`).pathname);
  }
  return [...found];
}

Deno.test("a pattern's matcher gives what URLPattern gives, for every kind of path", () => {
  const paths = pathnames();
  for (const pattern of PATTERNS) {
    const reference = new URLPattern({ pathname: pattern });
    const match = pathMatcher(pattern);
    let matched = 0;
    for (const pathname of paths) {
      const expected = reference.exec({ pathname })?.pathname.groups;
      const got = match(pathname);
      assert.deepEqual(got && { ...got }, expected && { ...expected }, `${pattern} on ${pathname}`);
      if (expected) matched++;
    }
    // Each pattern is tried on paths it matches, not only on misses.
    assert.ok(matched > 0, `${pattern} matched none`);
  }
});

Deno.test("routes are tried in order and give their parameters", () => {
  const handler = () => new Response();
  const router = new Router<unknown>().add(
    { method: "POST", path: "/jmap/upload/:accountId/", handler },
    { method: "GET", path: "/items/:id", name: "item", handler },
    { method: "GET", path: "/:only", name: "only", handler },
  );
  assert.deepEqual(router.match("POST", "/jmap/upload/A7/"), {
    kind: "found",
    route: { method: "POST", path: "/jmap/upload/:accountId/", handler },
    params: { accountId: "A7" },
  });
  const item = router.match("GET", "/items/3");
  assert.equal(item.kind === "found" && item.route.name, "item");
  assert.deepEqual(router.match("PUT", "/items/3"), { kind: "methodNotAllowed", allowed: ["GET"] });
  assert.deepEqual(router.match("GET", "/items/"), { kind: "notFound" });
});
