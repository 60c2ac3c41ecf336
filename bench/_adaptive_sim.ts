/**
 * The simulation behind `bench/adaptive.bench.ts` and `bench/adaptive_plot.ts`:
 * a pipeline calling the simulated service of `test/_downstream.ts` (20 ms up
 * to its capacity, slower in proportion beyond), run on a fake clock, so a
 * run of many simulated seconds takes a fraction of a real one and gives the
 * same figures every time, on every runtime.
 */
import { adaptiveConcurrency, type AdaptiveConcurrencyOptions, concurrencyLimit } from "../mod.ts";
import { fakeClock } from "../test/_helpers.ts";
import { downstream, drive, endlessItems, type Phase, quantile } from "../test/_downstream.ts";

export type { Phase };

/** What runs against the service: adaptive with these options, or a fixed limit. */
export type Contender =
  | { name: string; adaptive: AdaptiveConcurrencyOptions }
  | { name: string; fixed: number };

export interface Sample {
  /** Simulated ms since the start. */
  t: number;
  /** The limit at that moment (the fixed one for a fixed contender). */
  limit: number;
  capacity: number;
}

export interface Outcome {
  name: string;
  /** Calls completed per simulated second, over the whole run. */
  throughput: number;
  p50: number;
  p99: number;
  /** The mean limit over the last half of each phase. */
  settled: number[];
  samples: Sample[];
}

/** Runs `contender` through `phases` against a fresh service; samples the limit every `stepMs`. */
export async function simulate(contender: Contender, phases: readonly Phase[], stepMs = 20): Promise<Outcome> {
  const clock = fakeClock();
  try {
    const service = downstream({ baseMs: 20, capacity: phases[0].capacity });
    const call = (item: number) => service.call(item);
    const adaptive = "adaptive" in contender
      ? adaptiveConcurrency(endlessItems(), call, { max: 200, ...contender.adaptive })
      : undefined;
    const results = adaptive ??
      concurrencyLimit(endlessItems(), (contender as { fixed: number }).fixed, call, { ordered: false });
    const samples: Sample[] = [];
    const start = clock.now;
    // Calls that complete while the run winds down are not counted.
    let completed = 0;
    await drive(clock, service, results, phases, (now, phase) => {
      completed = service.completed;
      samples.push({
        t: now - start,
        limit: adaptive?.limit ?? (contender as { fixed: number }).fixed,
        capacity: phases[phase].capacity,
      });
    }, stepMs);
    const totalMs = phases.reduce((sum, phase) => sum + phase.ms, 0);
    let phaseStart = 0;
    const settled = phases.map((phase) => {
      const from = phaseStart + phase.ms / 2;
      const to = phaseStart + phase.ms;
      phaseStart = to;
      const inPhase = samples.filter((s) => s.t > from && s.t <= to);
      return inPhase.reduce((sum, s) => sum + s.limit, 0) / inPhase.length;
    });
    return {
      name: contender.name,
      throughput: (completed / totalMs) * 1000,
      p50: quantile(service.latencies.slice(0, completed), 0.5),
      p99: quantile(service.latencies.slice(0, completed), 0.99),
      settled,
      samples,
    };
  } finally {
    clock.uninstall();
  }
}
