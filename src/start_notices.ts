/** What `postern serve` tells the operator as it starts (besides where it listens). */
import type { Logger } from "@logtape/logtape";
import type { Config } from "./config/mod.ts";
import type { BootstrapResult } from "./directory/mod.ts";
import { isLoopbackAddress } from "./http/mod.ts";

/**
 * A public URL on a loopback listener is the reverse-proxy set-up: without --trusted-proxy every
 * client arrives from the proxy's address (one login-throttle key, one address in the logs), and a
 * proxy that sends no X-Forwarded-For would reach /metrics as a local client.
 */
export function warnIfProxiedWithoutTrust(config: Config, log: Logger): void {
  const loopback = config.hostname === "localhost" || isLoopbackAddress(config.hostname);
  if (!config.publicUrl || config.trustedProxies.length > 0 || !loopback) return;
  log.warn(
    "Listening on {host} with public URL {publicUrl} but no --trusted-proxy: behind a reverse proxy every " +
      "client shares one login-throttle key, and /metrics is open to it unless it sends X-Forwarded-For " +
      "(see deploy/nginx.conf)",
    { host: config.hostname, publicUrl: config.publicUrl },
  );
}

/** The first start's admin and its once-only password, as a log line an operator sees at any level. */
export function printFirstStart(result: BootstrapResult, log: Logger): void {
  const created =
    `Created domain ${result.domain.name} and account ${result.admin.emailAddress} (administrator).`;
  const fields = { domain: result.domain.name, admin: result.admin.emailAddress };
  if (result.generatedPassword) {
    log.info(`${created} Its password, shown only this once: {password}`, {
      ...fields,
      password: result.generatedPassword,
    });
  } else log.info(`${created} Its password is the one given in POSTERN_ADMIN_PASSWORD.`, fields);
}
