/** A worker thread's scheduling priority, below the main thread's (which answers every request). */
import { setPriority } from "node:os";

/**
 * Lowers the calling thread's scheduling priority to `nice`. Linux names a thread by its own id
 * (/proc/thread-self), and setpriority with it changes that thread alone; elsewhere, or without the
 * permission, the thread keeps the process's priority.
 */
export function giveWayToMainThread(nice: number): void {
  try {
    const tid = Number(Deno.readLinkSync("/proc/thread-self").split("/").pop());
    if (Number.isSafeInteger(tid) && tid > 0 && tid !== Deno.pid) setPriority(tid, nice);
  } catch {
    // No /proc, or not allowed: the same answers, only without the preference.
  }
}
