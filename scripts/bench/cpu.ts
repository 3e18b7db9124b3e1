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
