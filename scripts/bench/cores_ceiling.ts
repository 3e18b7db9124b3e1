/**
 * The most an all-core server could show against one core on this machine, from the CPU each side
 * spent per request (scripts/bench/cores.ts). The load generator runs on the same cores: at a rate r
 * the server needs r·s cores and the generator r·g, so r ≤ N / (s + g) with N cores, whatever the
 * server does with its threads. The one-core server at best runs at 1 / s₁ (its one core full), so the
 * ratio cannot pass N·s₁ / (s + g). Both are CPU per request, which the load of other work on the
 * machine hardly changes (a req/s ratio on a busy machine can pass it: a one-core server that did not get
 * its core). When the ceiling is under the target, the target cannot be met here by using more cores,
 * only by spending less CPU per request (the server's or the generator's).
 */
import type { Subject } from "./throughput.ts";
import { median } from "./report.ts";

/** CPU seconds per request of the server and of the generator, medians over the subject's rounds. */
function perRequest(subject: Subject): { server: number; generator: number } {
  return {
    server: median(subject.results.map((r) => (r.serverCores ?? NaN) / r.rps)),
    generator: median(subject.results.map((r) => (r.generatorCores ?? NaN) / r.rps)),
  };
}

/**
 * The ceiling of `all`'s rate against `one`'s on `cores` cores, with `all`'s CPU per request (server and
 * generator), and the same with one core's CPU per request (no cost of spreading the work).
 */
export function ratioCeiling(
  one: Subject,
  all: Subject,
  cores = navigator.hardwareConcurrency,
): { measured: number; flat: number } {
  const a = perRequest(all);
  const o = perRequest(one);
  return {
    measured: cores * o.server / (a.server + a.generator),
    flat: cores * o.server / (o.server + o.generator),
  };
}
