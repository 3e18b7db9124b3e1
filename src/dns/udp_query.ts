/**
 * One DNS question over UDP (RFC 1035 §4.2.1) with the answer's TTLs, which node:dns does not give
 * for TXT or MX and the answer cache (cache.ts) needs. Each try uses a new socket (so a new random
 * source port) and a random id, and only a reply from the server asked, with that id and the same
 * question, is taken (RFC 5452 §9.1); anything else is ignored until the try times out. A reply from
 * the server with the query's id that is no DNS message fails at once (EBADRESP, as c-ares does):
 * waiting would only turn a broken server into a slow one. Servers are asked in turn, `tries` rounds.
 * A truncated reply is returned as such: the caller asks over TCP.
 */
import { Buffer } from "node:buffer";
import dgram from "node:dgram";
// @deno-types="@types/dns-packet"
import * as packet from "dns-packet";

/** The record types asked here; answers in the shape node:dns gives them (see cache.ts). */
export type UdpRecordType = "A" | "AAAA" | "TXT" | "MX";

/** What came back: the response code, the answer and authority records, and the TC bit. */
export interface UdpAnswer {
  rcode: string;
  truncated: boolean;
  answers: packet.Answer[];
  authorities: packet.Answer[];
}

/** A server as node:dns `setServers` takes it ("192.0.2.1", "192.0.2.1:5353", "[::1]:53", "::1"). */
export function parseServer(server: string): { address: string; port: number; family: 4 | 6 } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(server);
  if (bracketed) return { address: bracketed[1], port: Number(bracketed[2] ?? 53), family: 6 };
  if (server.includes(":") && server.indexOf(":") !== server.lastIndexOf(":")) {
    return { address: server, port: 53, family: 6 };
  }
  const [address, port] = server.split(":");
  return { address, port: Number(port ?? 53), family: 4 };
}

/** Node-style DNS error (`code` as node:dns sets it). */
export function dnsError(code: string, syscall: string, hostname: string): Error {
  return Object.assign(new Error(`${syscall} ${code} ${hostname}`), { code, syscall, hostname });
}

/**
 * Asks `servers` for the `type` records of `name`; throws ETIMEOUT when no server answered in
 * `tries` rounds of `timeoutMs` each.
 */
export async function udpQuery(
  servers: readonly string[],
  question: { name: string; type: UdpRecordType },
  options: { timeoutMs: number; tries: number },
): Promise<UdpAnswer> {
  for (let round = 0; round < options.tries; round++) {
    for (const server of servers) {
      const answer = await ask(parseServer(server), question, options.timeoutMs);
      if (answer === "malformed") throw dnsError("EBADRESP", `query${question.type}`, question.name);
      if (answer) return answer;
    }
  }
  throw dnsError("ETIMEOUT", `query${question.type}`, question.name);
}

/**
 * One try at one server: the matching reply, "malformed" for a reply with the query's id that does
 * not decode, or undefined after `timeoutMs` (or a socket error).
 */
function ask(
  server: { address: string; port: number; family: 4 | 6 },
  question: { name: string; type: UdpRecordType },
  timeoutMs: number,
): Promise<UdpAnswer | "malformed" | undefined> {
  const id = crypto.getRandomValues(new Uint16Array(1))[0];
  const query = packet.encode({
    type: "query",
    id,
    flags: packet.RECURSION_DESIRED,
    questions: [{ type: question.type, name: question.name }],
    // EDNS0 (RFC 6891) with the payload size DNS Flag Day 2020 settled on: fewer truncated replies.
    additionals: [{ type: "OPT", name: ".", udpPayloadSize: 1232 } as packet.Answer],
  });
  return new Promise((resolve) => {
    const socket = dgram.createSocket(server.family === 6 ? "udp6" : "udp4");
    let done = false;
    const finish = (answer: UdpAnswer | "malformed" | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      resolve(answer);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.on("error", () => finish(undefined));
    socket.on("message", (data: Buffer, from: { address: string; port: number }) => {
      if (from.port !== server.port || !sameAddress(from.address, server.address)) return;
      let reply: packet.Packet;
      try {
        reply = packet.decode(data);
      } catch {
        // Not a DNS message: from the server and with our id it is its answer; else keep waiting.
        if (data.length >= 2 && data.readUInt16BE(0) === id) finish("malformed");
        return;
      }
      const asked = reply.questions?.[0];
      if (
        reply.id !== id || reply.type !== "response" || !asked || asked.type !== question.type ||
        asked.name.toLowerCase() !== question.name.toLowerCase()
      ) return;
      finish({
        // dns-packet decodes the response code as a name; its types leave it out.
        rcode: (reply as { rcode?: string }).rcode ?? "NOERROR",
        truncated: Boolean((reply.flags ?? 0) & packet.TRUNCATED_RESPONSE),
        answers: reply.answers ?? [],
        authorities: reply.authorities ?? [],
      });
    });
    socket.send(query, server.port, server.address);
  });
}

function sameAddress(a: string, b: string): boolean {
  return a.replace(/^::ffff:/, "").toLowerCase() === b.replace(/^::ffff:/, "").toLowerCase();
}
