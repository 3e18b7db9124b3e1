// Runs Argon2id off the main thread: each derivation holds a core and ~19 MiB for tens of milliseconds,
// which would stall every request sharing the event loop. The worker only derives raw bytes; salts, PHC
// encoding and comparison stay in password_hasher.ts so there is one parser and one comparison.

import { argon2id } from "hash-wasm";

/** A derivation request; the pool sends one at a time per worker, so no correlation id is needed. */
export interface DeriveRequest {
  password: string;
  salt: Uint8Array;
  memoryKiB: number;
  iterations: number;
  parallelism: number;
  hashLength: number;
}

/** The answer: the derived bytes, or the message of the error hash-wasm threw. */
export type DeriveResponse = { hash: Uint8Array } | { error: string };

// Cast instead of `/// <reference lib="deno.worker" />`, which clashes with deno.window when the whole tree
// is type-checked in one program.
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<DeriveRequest>) => void) | null;
  postMessage(message: DeriveResponse, transfer?: Transferable[]): void;
};

scope.onmessage = async (event) => {
  const request = event.data;
  try {
    const hash = await argon2id({
      password: request.password,
      salt: request.salt,
      memorySize: request.memoryKiB,
      iterations: request.iterations,
      parallelism: request.parallelism,
      hashLength: request.hashLength,
      outputType: "binary",
    });
    scope.postMessage({ hash }, [hash.buffer as ArrayBuffer]);
  } catch (error) {
    scope.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
};
