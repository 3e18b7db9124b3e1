/**
 * SQLite's WAL-index change counter (`iChange`, bytes 8–11 of the `-shm` file; documented in
 * https://www.sqlite.org/walformat.html): every commit of any connection bumps it. Reading it tells
 * whether anything may have been committed since the last look, without taking SQLite's locks.
 *
 * Two readers. The fast one maps the header page into memory through libc (Deno's FFI), so a look is
 * one memory read; it needs --allow-ffi and a known libc. Otherwise a 4-byte pread (a system call).
 * The mapping is safe while this process holds a connection: SQLite only truncates the file when the
 * first connection of all opens it.
 *
 * Both readers keep their file descriptor open until close(), which must come after the database
 * connection is closed: closing any descriptor of a file drops every POSIX lock this process holds
 * on it, SQLite's own locks on the -shm file included.
 */
import { closeSync, openSync, readSync } from "node:fs";

/** Reads the counter; `read()` is undefined when neither reader could be set up. */
export interface WalSignal {
  read(): number | undefined;
  close(): void;
  /** Which reader is in use, for tests and diagnostics. */
  readonly kind: "mapped" | "pread" | "none";
}

const LIBC: Partial<Record<typeof Deno.build.os, string>> = {
  linux: "libc.so.6",
  darwin: "libSystem.B.dylib",
};

/** Opens the fastest available reader for `databasePath`'s shared-memory file. */
export function openWalSignal(databasePath: string, options: { allowMapping?: boolean } = {}): WalSignal {
  const shmPath = `${databasePath}-shm`;
  if (options.allowMapping !== false) {
    const mapped = mapHeader(shmPath);
    if (mapped) return mapped;
  }
  try {
    const fd = openSync(shmPath, "r");
    const buffer = new Uint8Array(4);
    const view = new DataView(buffer.buffer);
    return {
      kind: "pread",
      read: () => readSync(fd, buffer, 0, 4, 8) === 4 ? view.getUint32(0, true) : undefined,
      close: () => closeSync(fd),
    };
  } catch {
    return { kind: "none", read: () => undefined, close: () => {} };
  }
}

function mapHeader(shmPath: string): WalSignal | undefined {
  const name = LIBC[Deno.build.os];
  if (!name || typeof Deno.dlopen !== "function") return undefined;
  try {
    const libc = Deno.dlopen(name, {
      open: { parameters: ["buffer", "i32"], result: "i32" },
      close: { parameters: ["i32"], result: "i32" },
      mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
      munmap: { parameters: ["pointer", "usize"], result: "i32" },
    });
    const fd = libc.symbols.open(new TextEncoder().encode(shmPath + "\0"), 0 /* O_RDONLY */);
    if (fd < 0) {
      libc.close();
      return undefined;
    }
    const PROT_READ = 1, MAP_SHARED = 1, LENGTH = 4096n;
    const pointer = libc.symbols.mmap(null, LENGTH, PROT_READ, MAP_SHARED, fd, 0n);
    // MAP_FAILED is (void *) -1. The descriptor stays open even then: closing it now would drop
    // SQLite's locks (see above); it is closed with the store.
    if (!pointer || Deno.UnsafePointer.value(pointer) === 0xffffffffffffffffn) {
      return { kind: "none", read: () => undefined, close: () => void libc.symbols.close(fd) };
    }
    const view = new Deno.UnsafePointerView(pointer);
    let open = true;
    return {
      kind: "mapped",
      read: () => open ? view.getUint32(8) : undefined,
      close() {
        if (!open) return;
        open = false;
        libc.symbols.munmap(pointer, LENGTH);
        libc.symbols.close(fd);
        libc.close();
      },
    };
  } catch {
    // No FFI permission, no such library, or an unusual platform: the pread reader will do.
    return undefined;
  }
}
