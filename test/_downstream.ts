/**
 * A simulated downstream service for adaptiveConcurrency's tests, benchmark
 * and plot: each call takes `baseMs` while at most `capacity` calls are in
 * flight, and longer in proportion beyond that, as a service with `capacity`
 * workers and a queue in front of them would on average: a call that starts
 * as the n-th one in flight takes `baseMs * max(1, n / capacity)`. Throughput
 * therefore stops growing at `capacity` calls in flight, and only latency
 * grows after it. With `jitter` (say 0.1), each latency is also multiplied by a
 * deterministic pseudo-random factor between 1 - jitter and 1 + jitter. It runs on whichever clock `setTimeout` and
 * `performance.now()` are (a fake one in tests), and the capacity can change
 * mid-run.
 */
export interface Downstream {
  /** Calls the service with `item`; resolves with the item after the simulated latency. */
  call<T>(item: T): Promise<T>;
  /** Calls in flight now. */
  readonly inFlight: number;
  /** The most calls that were ever in flight at once. */
  readonly peak: number;
  /** Calls completed so far. */
  readonly completed: number;
  /** Each completed call's latency, in ms, in completion order. */
  readonly latencies: number[];
  /** How many calls the service takes before latency grows; may be changed mid-run. */
  capacity: number;
}

export function downstream(options: { baseMs?: number; capacity?: number; jitter?: number } = {}): Downstream {
  const baseMs = options.baseMs ?? 20;
  const jitter = options.jitter ?? 0;
  let seed = 0x9e3779b9;
  /** A deterministic uniform number in [0, 1), so a run is the same every time. */
  const random = () => {
    seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return seed / 2 ** 32;
  };
  let inFlight = 0;
  let peak = 0;
  let completed = 0;
  const latencies: number[] = [];
  const service: Downstream = {
    capacity: options.capacity ?? 16,
    get inFlight() {
      return inFlight;
    },
    get peak() {
      return peak;
    },
    get completed() {
      return completed;
    },
    latencies,
    call<T>(item: T): Promise<T> {
      inFlight++;
      if (inFlight > peak) peak = inFlight;
      const started = performance.now();
      const ms = baseMs * Math.max(1, inFlight / service.capacity) * (1 + jitter * (2 * random() - 1));
      return new Promise<T>((resolve) => {
        setTimeout(() => {
          inFlight--;
          completed++;
          latencies.push(performance.now() - started);
          resolve(item);
        }, ms);
      });
    },
  };
  return service;
}

/** An endless source of 0, 1, 2, ...: the work never runs out. */
export function* endlessItems(): Generator<number> {
  for (let i = 0;; i++) yield i;
}

/** The `p`-quantile (0..1) of `values`, by the nearest-rank method. */
export function quantile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** A stretch of a simulated run: the service's capacity, for `ms` fake milliseconds. */
export interface Phase {
  capacity: number;
  ms: number;
}

/** The fake clock of `test/_helpers.ts`, as far as `drive` needs it. */
interface TickingClock {
  readonly now: number;
  tickAsync(ms: number): Promise<number>;
}

/**
 * Reads `results` (a pipeline calling `service`) on a fake `clock` through
 * `phases`, setting the service's capacity at the start of each, and calls
 * `sample(now, phaseIndex)` every `stepMs`. Ends by returning the iterator and
 * letting the calls in flight finish.
 */
export async function drive(
  clock: TickingClock,
  service: Downstream,
  results: AsyncIterator<unknown>,
  phases: readonly Phase[],
  sample: (now: number, phase: number) => void = () => {},
  stepMs = 20,
): Promise<void> {
  let stopped = false;
  const reading = (async () => {
    while (!stopped) {
      const result = await results.next();
      if (result.done) return;
    }
  })();
  for (const [index, phase] of phases.entries()) {
    service.capacity = phase.capacity;
    for (let t = 0; t < phase.ms; t += stepMs) {
      await clock.tickAsync(stepMs);
      sample(clock.now, index);
    }
  }
  stopped = true;
  const closing = results.return?.();
  await clock.tickAsync(1000);
  await closing;
  await reading;
}
