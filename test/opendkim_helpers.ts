/**
 * Running OpenDKIM's tools (Debian `opendkim-tools`) against records of a test DNS server. They look
 * keys up through the system resolver (port 53, no setting for another), so the DNS server listens
 * on 127.53.x.y:53 and the tools run in a private mount namespace whose /etc/resolv.conf names it
 * (`unshare --mount`, root only); the machine's own resolv.conf is never touched.
 */
import { hasCommand } from "./smtp_helpers.ts";

/** Whether the tools, dnsmasq and a private mount namespace are all available. */
export const HAS_OPENDKIM_TOOLS =
  await Deno.stat("/usr/sbin/opendkim-testmsg").then(() => true, () => false) &&
  await Deno.stat("/usr/sbin/dnsmasq").then(() => true, () => false) && await hasCommand("unshare") &&
  await new Deno.Command("unshare", { args: ["--mount", "true"], stdout: "null", stderr: "null" }).output()
    .then((o) => o.success, () => false);

/** A loopback address of its own for a DNS server on port 53, so the port is free whatever else runs. */
export function privateDnsAddress(): string {
  return `127.53.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
}

/** Runs `command` in a mount namespace whose resolver is `nameserver`; its exit code and output. */
export async function withResolver(dir: string, nameserver: string, command: string, stdin?: string) {
  await Deno.writeTextFile(`${dir}/resolv.conf`, `nameserver ${nameserver}\n`);
  const child = new Deno.Command("unshare", {
    args: ["--mount", "sh", "-c", `mount --bind ${dir}/resolv.conf /etc/resolv.conf && ${command}`],
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text };
}
