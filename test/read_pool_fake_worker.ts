// A read worker for test/read_pool_test.ts that speaks read_worker.ts's messages but misbehaves on
// demand: the operation name is taken as an instruction ("echo", "slow", "hang", "crash", "exit").
const scope = globalThis as unknown as {
  onmessage:
    | ((event: MessageEvent<{ id?: number; operation?: string; args?: unknown; path?: string }>) => void)
    | null;
  postMessage(message: unknown): void;
  close(): void;
};

scope.onmessage = (event) => {
  const { id, operation, args, path } = event.data;
  // The start message (the database path): ready for jobs, unless the path asks for a worker that never is.
  if (id === undefined) return path === "/silent.db" ? undefined : scope.postMessage({ ready: true });
  switch (operation) {
    case "echo":
      return scope.postMessage({ id, result: args });
    case "slow":
      setTimeout(() => scope.postMessage({ id, result: args }), 30);
      return;
    case "hang":
      return;
    case "crash":
      setTimeout(() => {
        throw new Error("fake worker crashed");
      }, 0);
      return;
    case "exit":
      return scope.close();
    case "fail":
      return scope.postMessage({ id, error: "no such table: emails", busy: false });
    case "busy":
      return scope.postMessage({ id, error: "database is locked", busy: true });
  }
};
