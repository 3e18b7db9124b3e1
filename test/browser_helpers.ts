/**
 * Helpers for tests that drive the provider's pages in a real headless Chromium through playwright-core:
 * the browser Debian installs (never a downloaded one), a loopback listener standing in for a client's
 * redirect URI, a watch on the console for Content Security Policy reports, and tests that share one
 * browser and one server.
 */
import { type Browser, chromium, type Page } from "playwright-core";

/** Where the tests expect Debian's chromium; `.ci/run` installs it there when it can. */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether the browser the tests need is installed. */
export function hasChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

/** Launches the installed chromium headless (in a container, so without its sandbox). */
export async function launchChromium(): Promise<Browser> {
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
    ],
  });
}

/** A loopback HTTP server standing in for a client's redirect URI. */
export interface CallbackListener {
  /** e.g. http://127.0.0.1:41234 */
  origin: string;
  /** The query of the last request to `path`, or undefined when none came. */
  lastQuery(path: string): URLSearchParams | undefined;
  close(): Promise<void>;
}

/** Starts a listener on a free loopback port that records each request's query and answers "done". */
export function startCallbackListener(): CallbackListener {
  const received = new Map<string, URLSearchParams>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const url = new URL(request.url);
    received.set(url.pathname, url.searchParams);
    return new Response("done", { headers: { "content-type": "text/plain; charset=utf-8" } });
  });
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    lastQuery: (path) => received.get(path),
    async close() {
      await server.shutdown();
    },
  };
}

/** Collects what the page's console says about Content Security Policy (violations, bad directives). */
export function watchCsp(page: Page): string[] {
  const reports: string[] = [];
  page.on("console", (message) => {
    if (/content security policy/i.test(message.text())) reports.push(message.text());
  });
  return reports;
}

/** What the shared tests need: opened once, and ended both properly and in a hurry. */
export interface SharedFixture {
  /** Closes everything and waits for it. */
  close(): Promise<void>;
  /** Stops what would outlive this process, synchronously: for when `close` never got to run. */
  abandon(): void;
}

/**
 * Returns a `Deno.test` for tests that share one fixture (one browser, one server): the first test
 * to run opens it and the last registered one closes it. Without chromium every test is registered
 * as ignored, its name saying why. A filtered run may never reach the last test, so the fixture is
 * also abandoned when the process unloads.
 */
export function browserTest<F extends SharedFixture>(
  open: () => Promise<F>,
): (name: string, fn: (fixture: F) => Promise<void>) => void {
  let opened: Promise<F> | undefined;
  let remaining = 0;
  let closed = false;
  // An unload handler cannot await a promise, so it needs the fixture itself.
  let ready: F | undefined;
  globalThis.addEventListener("unload", () => {
    if (ready && !closed) ready.abandon();
  });
  return (name, fn) => {
    if (!hasChromium()) {
      Deno.test({ name: `${name} (skipped: chromium is missing at ${CHROMIUM})`, ignore: true, fn() {} });
      return;
    }
    remaining++;
    Deno.test({
      name,
      // playwright keeps its pipe to the browser and its timers open across tests.
      sanitizeResources: false,
      sanitizeOps: false,
      async fn() {
        try {
          opened ??= open().then((fixture) => (ready = fixture));
          await fn(await opened);
        } finally {
          remaining--;
          if (remaining === 0 && opened) {
            closed = true;
            const fixture = await opened.catch(() => undefined);
            await fixture?.close();
          }
        }
      },
    });
  };
}
