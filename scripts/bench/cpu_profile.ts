/**
 * A CPU profile of a server started with `--inspect=127.0.0.1:PORT`, taken over the V8 inspector
 * protocol (Profiler domain), and its summary: self time by function and by source (npm package or
 * file of this repository), so a benchmark can say where a server's time went. The raw profile is
 * written as a `.cpuprofile` that Chrome DevTools opens.
 */

/** One node of a V8 CPU profile (Profiler.ProfileNode). */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** A V8 CPU profile (Profiler.Profile). */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A profiling session on one inspector port. */
export class CpuProfiler {
  #socket: WebSocket;
  #next = 1;
  readonly #waiting = new Map<number, (result: unknown) => void>();

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      this.#waiting.get(message.id)?.(message.result ?? message.error);
      this.#waiting.delete(message.id);
    };
  }

  /** Connects to the inspector on `port` and starts sampling every `intervalUs` microseconds. */
  static async start(port: number, intervalUs = 250): Promise<CpuProfiler> {
    const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    const socket = new WebSocket(targets[0].webSocketDebuggerUrl);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = reject;
    });
    const profiler = new CpuProfiler(socket);
    await profiler.#call("Profiler.enable");
    await profiler.#call("Profiler.setSamplingInterval", { interval: intervalUs });
    await profiler.#call("Profiler.start");
    return profiler;
  }

  /** Stops sampling; the profile. */
  async stop(): Promise<CpuProfile> {
    const result = await this.#call("Profiler.stop") as { profile: CpuProfile };
    this.#socket.close();
    return result.profile;
  }

  #call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }
}

/** Where a function comes from: an npm package, a file of this repository, or the runtime. */
function sourceOf(url: string): string {
  const npm = /\/npm\/registry\.npmjs\.org\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (npm) return `npm:${npm[1]}`;
  const own = /\/(src|scripts)\/(.+)$/.exec(url);
  if (own) return `${own[1]}/${own[2]}`;
  if (url.startsWith("ext:") || url.startsWith("node:")) return url.replace(/\/.*$/, "");
  return url || "(native)";
}

/** Self time in ms by function and by source, largest first, and the profile's total. */
export function summarize(profile: CpuProfile, top = 25): string {
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  const byFunction = new Map<string, number>();
  const bySource = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const ms = self.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    total += ms;
    if (functionName === "(idle)") idle += ms;
    const source = sourceOf(url);
    const key = `${functionName || "(anonymous)"} ${source}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
    bySource.set(source, (bySource.get(source) ?? 0) + ms);
  }
  const table = (map: Map<string, number>) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, top)
      .map(([name, ms]) =>
        `  ${ms.toFixed(0).padStart(7)} ms ${(100 * ms / total).toFixed(1).padStart(5)}%  ${name}`
      )
      .join("\n");
  return `profile: ${total.toFixed(0)} ms sampled, ${idle.toFixed(0)} ms idle\n` +
    `by source (self time):\n${table(bySource)}\nby function (self time):\n${table(byFunction)}`;
}

if (import.meta.main) {
  // deno run -A scripts/bench/cpu_profile.ts FILE.cpuprofile [TOP]: the summary of a saved profile.
  const profile = JSON.parse(await Deno.readTextFile(Deno.args[0])) as CpuProfile;
  console.log(summarize(profile, Number(Deno.args[1] ?? 25)));
}
