/**
 * Where the server may send web pushes. A push subscription's URL is chosen by a user, and the
 * server then POSTs to it: without a check, any user could make it reach addresses only it can reach
 * (loopback, the private network, a cloud's metadata service). So a push goes only to public unicast
 * addresses, checked for an address in the URL and for every address its host name resolves to,
 * unless the operator allows private targets (POSTERN_PUSH_PRIVATE_TARGETS=allow, for a push service
 * on the same machine or network, and for tests).
 */

/** IPv4 ranges that are not public unicast (RFC 6890 and friends), as [first octets, prefix length]. */
const PRIVATE_V4: [number[], number][] = [
  [[0], 8], // "this network"
  [[10], 8],
  [[100, 64], 10], // carrier-grade NAT
  [[127], 8],
  [[169, 254], 16], // link-local, cloud metadata
  [[172, 16], 12],
  [[192, 0, 0], 24],
  [[192, 0, 2], 24], // documentation
  [[192, 168], 16],
  [[198, 18], 15], // benchmarking
  [[198, 51, 100], 24],
  [[203, 0, 113], 24],
  [[224], 4], // multicast
  [[240], 4], // reserved, broadcast
];

/** Whether an IP address (v4 or v6 text) is a public unicast address. */
export function isPublicAddress(address: string): boolean {
  const v4 = parseV4(address);
  if (v4) return !PRIVATE_V4.some(([prefix, bits]) => matches(v4, prefix, bits));
  const v6 = parseV6(address);
  if (!v6) return false;
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses are the IPv4 address's.
  const mapped = v6.slice(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  const nat64 = v6[0] === 0 && v6[1] === 0x64 && v6[2] === 0xff && v6[3] === 0x9b &&
    v6.slice(4, 12).every((b) => b === 0);
  if (mapped || nat64) return isPublicAddress(v6.slice(12).join("."));
  if (v6.every((b, i) => i === 15 ? b <= 1 : b === 0)) return false; // :: and ::1
  if ((v6[0] & 0xfe) === 0xfc) return false; // unique local fc00::/7
  if (v6[0] === 0xfe && (v6[1] & 0xc0) === 0x80) return false; // link-local fe80::/10
  if (v6[0] === 0xff) return false; // multicast
  if (v6[0] === 0x20 && v6[1] === 0x01 && v6[2] === 0x0d && v6[3] === 0xb8) return false; // documentation
  return true;
}

/**
 * Why a push to `url` is refused (its host is, or resolves to, an address that is not public), or
 * undefined when it may go. A name that does not resolve is left to the request itself to fail.
 */
export async function refusedTarget(
  url: string,
  resolve: (host: string, type: "A" | "AAAA") => Promise<string[]> = (host, type) =>
    Deno.resolveDns(host, type),
): Promise<string | undefined> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  if (parseV4(host) || parseV6(host)) {
    return isPublicAddress(host) ? undefined : `${host} is not a public address`;
  }
  if (host === "localhost" || host.endsWith(".localhost")) return `${host} is this machine`;
  const found = (await Promise.all(
    (["A", "AAAA"] as const).map((type) => resolve(host, type).catch(() => [] as string[])),
  )).flat();
  const private_ = found.find((address) => !isPublicAddress(address));
  return private_ === undefined
    ? undefined
    : `${host} resolves to ${private_}, which is not a public address`;
}

function matches(address: number[], prefix: number[], bits: number): boolean {
  for (let i = 0; i < prefix.length; i++) {
    const take = Math.min(8, bits - i * 8);
    if (take <= 0) break;
    const mask = (0xff << (8 - take)) & 0xff;
    if ((address[i] & mask) !== (prefix[i] & mask)) return false;
  }
  return true;
}

function parseV4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.map(Number);
}

/** The 16 bytes of an IPv6 address (with :: and a trailing dotted IPv4), or undefined. */
function parseV6(text: string): number[] | undefined {
  if (!text.includes(":") || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  let tail: number[] = [];
  let body = text;
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    const v4 = parseV4(text.slice(lastColon + 1));
    if (!v4) return undefined;
    tail = v4;
    body = text.slice(0, lastColon + 1) + "0:0";
  }
  const halves = body.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string) => part === "" ? [] : part.split(":");
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - rest.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return undefined;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const bytes = all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}
