import assert from "node:assert/strict";
import {
  deriveSecret,
  earlySecret,
  finishedData,
  handshakeKeys,
  handshakeSecret,
  transcriptHash,
} from "./key_schedule.ts";
import { parseClientHello } from "./client_hello.ts";
import { x25519Shared } from "./key_share.ts";

// RFC 8448 §3, "Simple 1-RTT Handshake": the messages and every secret.
const hex = (text: string) => Uint8Array.from(text.match(/../g)!, (byte) => parseInt(byte, 16));
const toHex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const CLIENT_HELLO = hex(
  "010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7000006130113031302010000910000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103010400230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c002b0003020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00020101001c00024001",
);
const SERVER_HELLO = hex(
  "020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100002e00330024001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304",
);
const ENCRYPTED_EXTENSIONS = hex(
  "080000240022000a00140012001d00170018001901000101010201030104001c0002400100000000",
);
const CERTIFICATE = hex(
  "0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a864886f70d01010b0500300e310c300a06035504031303727361301e170d3136303733303031323335395a170d3236303733303031323335395a300e310c300a0603550403130372736130819f300d06092a864886f70d010101050003818d0030818902818100b4bb498f8279303d980836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced43120998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d03e2bd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b0603551d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5b9276b908c65f73a7267170618a54c5f8a7b337d2df7a594365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8f8961229ac9187b42b4de10000",
);
const CERTIFICATE_VERIFY = hex(
  "0f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f824cd484145ab3ff52f1fda8477b0b7abc90db78e2d33a5c141a078653fa6bef780c5ea248eeaaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac027671459e46445c9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda65cdf5aea20d53dfacd42f74f3",
);
const SHARED = "8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d";

Deno.test("the key schedule gives RFC 8448's early, derived and handshake secrets", () => {
  assert.equal(toHex(earlySecret()), "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a");
  assert.equal(
    toHex(deriveSecret(earlySecret(), "derived", transcriptHash())),
    "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba",
  );
  assert.equal(
    toHex(handshakeSecret(hex(SHARED))),
    "1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac",
  );
});

Deno.test("the handshake traffic secrets, keys and server Finished match RFC 8448", () => {
  const keys = handshakeKeys(hex(SHARED), transcriptHash(CLIENT_HELLO, SERVER_HELLO));
  assert.equal(toHex(keys.client.secret), "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21");
  assert.equal(toHex(keys.server.secret), "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38");
  assert.equal(toHex(keys.server.key), "3fce516009c21727d0f2e4e86ee403bc");
  assert.equal(toHex(keys.server.iv), "5d313eb2671276ee13000b30");
  assert.equal(toHex(keys.client.key), "dbfaa693d1762c5b666af5d950258d01");
  assert.equal(toHex(keys.client.iv), "5bd3c71b836e0b76bb73265f");
  const hash = transcriptHash(
    CLIENT_HELLO,
    SERVER_HELLO,
    ENCRYPTED_EXTENSIONS,
    CERTIFICATE,
    CERTIFICATE_VERIFY,
  );
  assert.equal(
    toHex(finishedData(keys.server.secret, hash)),
    "9b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718",
  );
});

Deno.test("RFC 8448's ClientHello parses to its name, suites, key share and versions", async () => {
  const hello = parseClientHello(CLIENT_HELLO);
  assert.equal(hello.serverName, "server");
  assert.deepEqual(hello.cipherSuites, [0x1301, 0x1303, 0x1302]);
  assert.deepEqual(hello.versions, [0x0304]);
  assert.deepEqual(hello.alpn, []);
  assert.ok(hello.signatureSchemes.includes(0x0403));
  assert.equal(hello.sessionId.length, 0);
  // The server's X25519 private key of the trace with the client's share gives the trace's secret.
  const serverPrivate = hex("b1580eeadf6dd589b8ef4f2d5652578cc810e9980191ec8d058308cea216a21e");
  assert.equal(toHex(await x25519Shared(serverPrivate, hello.keyShares.get(0x001d)!)), SHARED);
});
