/**
 * CPU time used so far by a process (all its threads), from /proc on Linux. Used to show which
 * process, server or load generator, was the one using its core up. Undefined where /proc is absent.
 */

// USER_HZ is 100 on every mainstream Linux build (it is fixed by the kernel ABI, not by HZ).
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds of process `pid` (or this process), or undefined if unreadable. */
export function cpuSeconds(pid: number | "self"): number | undefined {
  return statSeconds(`/proc/${pid}/stat`);
}

/**
 * CPU seconds of process `pid` and of its child processes (the serving processes that
 * `postern serve --processes N` starts), or undefined if `pid` is unreadable. A child that exited
 * between two samples takes its seconds with it: the figure is for processes that keep running.
 */
export function processTreeCpuSeconds(pid: number): number | undefined {
  const own = cpuSeconds(pid);
  if (own === undefined) return undefined;
  let total = own;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) {
        total += cpuSeconds(Number(entry.name)) ?? 0;
      }
    } catch { /* exited meanwhile */ }
  }
  return total;
}

/**
 * CPU seconds of the main thread of process `pid` (its event loop; workers are other threads), or
 * undefined if unreadable.
 */
export function mainThreadCpuSeconds(pid: number): number | undefined {
  return statSeconds(`/proc/${pid}/task/${pid}/stat`);
}

function statSeconds(path: string): number | undefined {
  try {
    const stat = Deno.readTextFileSync(path);
    // The command name (field 2) may contain spaces; fields after it are fixed.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of each thread of process `pid`, by thread name (threads of one name summed: Deno's
 * workers, tokio's blocking pool, V8's GC helpers), or an empty map if unreadable. Threads that ended
 * are not counted, so compare two readings of long-lived threads only.
 */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  try {
    for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
      const path = `/proc/${pid}/task/${entry.name}/stat`;
      let stat: string;
      try {
        stat = Deno.readTextFileSync(path);
      } catch {
        continue;
      }
      const name = entry.name === String(pid)
        ? "main"
        : stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      byName.set(name, (byName.get(name) ?? 0) + (statSeconds(path) ?? 0));
    }
  } catch {
    // No /proc: nothing to say.
  }
  return byName;
}

/**
 * Cores used between `from` and `to` (performance.now() times) by the server's processes (several with
 * --processes), its main threads, and the load generator (`generatorCpu`: its CPU seconds so far).
 */
export async function cpuWindow(
  serverPid: number | undefined,
  generatorCpu: () => number | undefined,
  from: number,
  to: number,
) {
  const sample = () => ({
    server: serverPid ? processTreeCpuSeconds(serverPid) : undefined,
    main: serverPid ? mainThreadCpuSeconds(serverPid) : undefined,
    generator: generatorCpu(),
  });
  await new Promise((r) => setTimeout(r, Math.max(0, from - performance.now())));
  const start = sample();
  const startedAt = performance.now();
  await new Promise((r) => setTimeout(r, Math.max(0, to - performance.now())));
  const end = sample();
  const seconds = (performance.now() - startedAt) / 1000;
  const cores = (a?: number, b?: number) =>
    a === undefined || b === undefined ? undefined : (b - a) / seconds;
  return {
    serverCores: cores(start.server, end.server),
    generatorCores: cores(start.generator, end.generator),
    serverMainCores: cores(start.main, end.main),
  };
}
