import { suite } from "uvu";
import * as assert from "uvu/assert";
import { adaptiveConcurrency, type AdaptiveConcurrencyOptions, type CallContext, TimeoutError } from "../mod.ts";
import { type Clock, collect, delay, instrumented, manualSource, rejection, settle, withClock } from "./_helpers.ts";
import { downstream, drive, endlessItems, type Phase } from "./_downstream.ts";

const test = suite("adaptiveConcurrency");

/**
 * Runs adaptiveConcurrency against the simulated service (20 ms up to `capacity`
 * calls, slower in proportion beyond) through `phases`, and returns for each
 * phase the limit sampled every 20 ms during its last `settledMs`.
 */
async function settledLimits(
  clock: Clock,
  options: AdaptiveConcurrencyOptions,
  phases: Phase[],
  settledMs = 1000,
): Promise<number[][]> {
  const service = downstream({ baseMs: 20, capacity: phases[0].capacity });
  const results = adaptiveConcurrency(endlessItems(), (item) => service.call(item), { max: 200, ...options });
  const limits: number[][] = phases.map(() => []);
  let started = 0;
  let phaseSeen = -1;
  await drive(clock, service, results, phases, (now, phase) => {
    if (phase !== phaseSeen) {
      phaseSeen = phase;
      started = now - 20;
    }
    if (now - started > phases[phase].ms - settledMs) limits[phase].push(results.limit);
  });
  return limits;
}

/** Every sampled limit within `within` of `capacity` (0.2: 20%), and their mean too. */
function assertSettled(limits: number[], capacity: number, within = 0.2, label = ""): void {
  const low = Math.min(...limits);
  const high = Math.max(...limits);
  const mean = limits.reduce((sum, limit) => sum + limit, 0) / limits.length;
  const summary = `${label} capacity ${capacity}: limits ${low}..${high}, mean ${mean.toFixed(2)}`;
  assert.ok(low >= capacity * (1 - within) && high <= capacity * (1 + within), summary);
}

test(
  "adaptiveConcurrency() gradient settles within 20% of the capacity from below (initial 1)",
  withClock(async (clock) => {
    const [limits] = await settledLimits(clock, { initial: 1 }, [{ capacity: 16, ms: 2000 }]);
    assertSettled(limits, 16);
  }),
);

test(
  "adaptiveConcurrency() gradient settles within 20% of the capacity from above (initial 64)",
  withClock(async (clock) => {
    const [limits] = await settledLimits(clock, { initial: 64 }, [{ capacity: 16, ms: 2000 }]);
    assertSettled(limits, 16);
  }),
);

test(
  "adaptiveConcurrency() gradient recovers after the capacity changes: 16, then 8, then 24",
  withClock(async (clock) => {
    const phases = [{ capacity: 16, ms: 2000 }, { capacity: 8, ms: 2000 }, { capacity: 24, ms: 2000 }];
    const limits = await settledLimits(clock, { initial: 4 }, phases);
    assertSettled(limits[0], 16, 0.2, "first");
    // At 8 one call more is already 12.5%: the sawtooth's peak may reach 10.
    assertSettled(limits[1], 8, 0.25, "shrunk");
    assertSettled(limits[2], 24, 0.2, "grown");
  }),
);

test(
  "adaptiveConcurrency() aimd settles within 20% from below and above, and recovers",
  withClock(async (clock) => {
    // AIMD settles where calls meet the target: 21 ms is the service's 20 ms plus a little queueing.
    const options = { algorithm: "aimd", latencyTarget: 21 } as const;
    const [fromBelow] = await settledLimits(clock, { ...options, initial: 1 }, [{ capacity: 16, ms: 2000 }]);
    assertSettled(fromBelow, 16, 0.2, "from below");
    const [fromAbove] = await settledLimits(clock, { ...options, initial: 64 }, [{ capacity: 16, ms: 2500 }]);
    assertSettled(fromAbove, 16, 0.2, "from above");
    const phases = [{ capacity: 16, ms: 2000 }, { capacity: 8, ms: 2000 }, { capacity: 24, ms: 2000 }];
    const limits = await settledLimits(clock, { ...options, initial: 4 }, phases);
    assertSettled(limits[1], 8, 0.25, "shrunk");
    assertSettled(limits[2], 24, 0.2, "grown");
  }),
);

test(
  "adaptiveConcurrency() never has more calls in flight than the limit when they start",
  withClock(async (clock) => {
    const service = downstream({ baseMs: 20, capacity: 16 });
    let worst = 0;
    const results = adaptiveConcurrency(endlessItems(), (item) => {
      worst = Math.max(worst, service.inFlight + 1 - results.limit);
      return service.call(item);
    }, { initial: 40, max: 64 });
    await drive(clock, service, results, [{ capacity: 16, ms: 500 }, { capacity: 4, ms: 500 }]);
    assert.ok(worst <= 0, `a call started with ${worst} more in flight than the limit`);
  }),
);

test(
  "adaptiveConcurrency() reports each change of the limit to onLimit, and limit reads it",
  withClock(async (clock) => {
    const service = downstream({ baseMs: 20, capacity: 16 });
    const changes: number[] = [];
    const results = adaptiveConcurrency(endlessItems(), (item) => service.call(item), {
      onLimit: (limit) => changes.push(limit),
    });
    assert.is(results.limit, 1, "starts at min");
    await drive(clock, service, results, [{ capacity: 16, ms: 300 }]);
    assert.ok(changes.length >= 4, `${changes}`);
    assert.equal(changes.slice(0, 4), [2, 4, 8, 16], "slow start doubles per round");
    for (let i = 1; i < changes.length; i++) assert.is.not(changes[i], changes[i - 1]);
    assert.is(results.limit, changes.at(-1));
  }),
);

test(
  "adaptiveConcurrency() keeps min and max",
  withClock(async (clock) => {
    const service = downstream({ baseMs: 20, capacity: 16 });
    const seen: number[] = [];
    const capped = adaptiveConcurrency(endlessItems(), (item) => service.call(item), {
      min: 2,
      max: 6,
      onLimit: (l) => seen.push(l),
    });
    await drive(clock, service, capped, [{ capacity: 16, ms: 300 }, { capacity: 1, ms: 1000 }]);
    assert.ok(seen.length > 0 && seen.every((limit) => limit >= 2 && limit <= 6), `${seen}`);
    assert.ok(seen.includes(6) && seen.at(-1) === 2, `${seen}`);
  }),
);

test(
  "adaptiveConcurrency() does not grow a limit it does not use (a slow source)",
  withClock(async (clock) => {
    const service = downstream({ baseMs: 20, capacity: 16 });
    async function* slow() {
      for (let i = 0;; i++) {
        await delay(50);
        yield i;
      }
    }
    const results = adaptiveConcurrency(slow(), (item) => service.call(item));
    await drive(clock, service, results, [{ capacity: 16, ms: 2000 }]);
    assert.ok(results.limit <= 4, `limit ${results.limit} with one call at a time`);
  }),
);

test("adaptiveConcurrency() yields results as they settle by default, in input order with ordered: true", async () => {
  const ms = [30, 5, 15, 1];
  const work = async (i: number) => {
    await delay(ms[i]);
    return i;
  };
  const settled = await collect(adaptiveConcurrency([0, 1, 2, 3], work, { initial: 4, max: 4 }));
  assert.equal(settled, [3, 1, 2, 0]);
  const ordered = await collect(adaptiveConcurrency([0, 1, 2, 3], work, { initial: 4, max: 4, ordered: true }));
  assert.equal(ordered, [0, 1, 2, 3]);
});

test("adaptiveConcurrency() retries an item after an overload error, lowering the limit", async () => {
  class Busy extends Error {}
  const attempts = new Map<number, number>();
  const limits: number[] = [];
  const seen: [unknown, number][] = [];
  const results = adaptiveConcurrency([1, 2, 3, 4, 5, 6, 7, 8], async (item) => {
    const n = (attempts.get(item) ?? 0) + 1;
    attempts.set(item, n);
    await delay(1);
    if (item % 2 === 0 && n < 3) throw new Busy(`busy ${item}`);
    return item * 10;
  }, {
    initial: 8,
    max: 8,
    ordered: true,
    retryOn: (error, attempt) => {
      seen.push([error, attempt]);
      return error instanceof Busy;
    },
    onLimit: (limit) => limits.push(limit),
  });
  assert.equal(await collect(results), [10, 20, 30, 40, 50, 60, 70, 80], "each item once, in order");
  for (const item of [2, 4, 6, 8]) assert.is(attempts.get(item), 3);
  for (const item of [1, 3, 5, 7]) assert.is(attempts.get(item), 1);
  assert.equal(seen.map(([, attempt]) => attempt).sort(), [1, 1, 1, 1, 2, 2, 2, 2]);
  assert.ok(limits.length > 0 && limits[0] < 8, `the limit went down: ${limits}`);
});

test("adaptiveConcurrency() ends with an error retryOn declines (or throws), and closes the source", async () => {
  const error = new Error("bad request");
  const source = instrumented([1, 2, 3, 4, 5], { endless: true });
  let caught: unknown;
  try {
    await collect(adaptiveConcurrency(source, async (item) => {
      if (item === 3) throw error;
      return item;
    }, { retryOn: () => false }));
  } catch (thrown) {
    caught = thrown;
  }
  assert.is(caught, error);
  assert.is(source.closes, 1);

  const thrownByRetryOn = new Error("retryOn failed");
  caught = undefined;
  try {
    await collect(adaptiveConcurrency([1, 2], () => Promise.reject(error), {
      retryOn: () => {
        throw thrownByRetryOn;
      },
    }));
  } catch (thrown) {
    caught = thrown;
  }
  assert.is(caught, thrownByRetryOn);

  // An answer that is neither true, false nor a wait a timer honours fails the iteration, naming retryOn.
  for (const [answer, type, shown] of [["yes", TypeError, '"yes"'], [2 ** 31, RangeError, "2147483648"]] as const) {
    const closing = instrumented([1, 2], { endless: true });
    caught = undefined;
    try {
      await collect(adaptiveConcurrency(closing, () => Promise.reject(error), { retryOn: () => answer as never }));
    } catch (thrown) {
      caught = thrown;
    }
    assert.instance(caught, type, `retryOn answered ${shown}`);
    assert.match((caught as Error).message, new RegExp(`^adaptiveConcurrency: 'retryOn' must return .*${shown}$`));
    assert.is(closing.closes, 1);
  }
});

test(
  "adaptiveConcurrency() fails with the error onLimit throws",
  withClock(async (clock) => {
    const error = new Error("onLimit failed");
    const source = manualSource();
    const results = adaptiveConcurrency(source, async (item) => item, {
      onLimit: () => {
        throw error;
      },
    });
    const first = results.next();
    source.push(1);
    let caught: unknown;
    const second = results.next().catch((thrown) => (caught = thrown));
    await clock.tickAsync(10);
    assert.equal(await first, { value: 1, done: false });
    await second;
    assert.is(caught, error);
    await settle();
    assert.is(source.closes, 1);
  }),
);

test(
  "adaptiveConcurrency() retryOn waits the backoff delay before calling again (not at once), or the time it returns",
  withClock(async (clock) => {
    class Busy extends Error {}
    const starts: [number, number, number][] = [];
    const results = adaptiveConcurrency([1, 2], async (item, _index, { attempt }: CallContext) => {
      starts.push([item, attempt, clock.now]);
      if (attempt < 3) throw new Busy("429");
      return item;
    }, {
      initial: 2,
      max: 2,
      ordered: true,
      retryOn: (error, attempt) => error instanceof Busy && (item2Waits(attempt) ?? true),
      retry: { attempts: 5, minDelayMs: 100, jitter: "none" },
    });
    // The second failure of each item asks for 30 ms instead of the 200 ms backoff.
    function item2Waits(attempt: number): number | undefined {
      return attempt === 2 ? 30 : undefined;
    }
    const read = collect(results);
    await clock.tickAsync(1000);
    assert.equal(await read, [1, 2]);
    assert.equal(starts.filter(([item]) => item === 1).map(([, attempt, ms]) => [attempt, ms]), [
      [1, 0],
      [2, 100],
      [3, 130],
    ]);
  }),
);

test(
  "adaptiveConcurrency() overload errors never take the limit below min",
  withClock(async (clock) => {
    const limits: number[] = [];
    const results = adaptiveConcurrency(Array.from({ length: 40 }, (_, i) => i), async (item, _index, { attempt }) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (attempt < 4) throw new Error("503");
      return item;
    }, {
      algorithm: "aimd",
      min: 3,
      initial: 10,
      max: 10,
      retryOn: () => true,
      retry: { attempts: 4, minDelayMs: 1, jitter: "none", budget: { minPerSecond: 100 } },
      onLimit: (limit) => limits.push(limit),
    });
    const read = collect(results);
    await clock.tickAsync(5000);
    assert.is((await read).length, 40);
    assert.ok(limits.length > 0 && Math.min(...limits) === 3, `limits: ${limits}`);
  }),
);

test(
  "adaptiveConcurrency() a timed-out call counts as congestion: the limit goes down, and the attempt fails with TimeoutError",
  withClock(async (clock) => {
    const limits: number[] = [];
    const signals: AbortSignal[] = [];
    const results = adaptiveConcurrency([1, 2, 3, 4], (_item, _index, { signal }) => {
      signals.push(signal);
      return new Promise<number>(() => {});
    }, {
      algorithm: "aimd",
      initial: 4,
      max: 4,
      timeoutMs: 50,
      onLimit: (limit) => limits.push(limit),
    });
    const failed = rejection(results.next());
    await clock.tickAsync(50);
    const error = await failed;
    assert.instance(error, TimeoutError);
    assert.is(limits[0], 3, "4 × 0.9, once for the round");
    assert.ok(signals.every((signal) => signal.aborted), "the other calls stop with the iteration");
    assert.is(clock.countTimers(), 0);
  }),
);

test(
  "adaptiveConcurrency() settle and retry work as in concurrencyLimit",
  withClock(async (clock) => {
    const error = new Error("bad request");
    const results = adaptiveConcurrency([1, 2, 3], async (item, _index, { attempt }) => {
      if (item === 2) throw error;
      if (item === 3 && attempt === 1) throw new Error("flaky");
      return item;
    }, {
      ordered: true,
      settle: true,
      retry: { attempts: 2, minDelayMs: 10, jitter: "none", retryOn: (e) => e !== error },
    });
    const read = collect(results);
    await clock.tickAsync(100);
    assert.equal(await read, [
      { ok: true, value: 1, item: 1, index: 0 },
      { ok: false, error, item: 2, index: 1 },
      { ok: true, value: 3, item: 3, index: 2 },
    ]);
  }),
);

test("adaptiveConcurrency() validates its arguments at the call", () => {
  const ok = (x: number) => x;
  const cases: [() => unknown, typeof RangeError | typeof TypeError, RegExp][] = [
    [() => adaptiveConcurrency([], ok, { min: 0 }), RangeError, /'min' must be a positive integer, received 0/],
    [
      () => adaptiveConcurrency([], ok, { min: 4, max: 2 }),
      RangeError,
      /'max' must be at least 'min' \(4\), received 2/,
    ],
    [
      () => adaptiveConcurrency([], ok, { max: 8, initial: 9 }),
      RangeError,
      /'initial' must be between 'min' \(1\) and 'max' \(8\), received 9/,
    ],
    [
      () => adaptiveConcurrency([], ok, { algorithm: "vegas" as never }),
      RangeError,
      /'algorithm' must be "gradient" or "aimd", received "vegas"/,
    ],
    [() => adaptiveConcurrency([], ok, { latencyTarget: 0 }), RangeError, /'latencyTarget'.*received 0/],
    [() => adaptiveConcurrency([], ok, { tolerance: 0.9 }), RangeError, /'tolerance'.*received 0.9/],
    [() => adaptiveConcurrency([], ok, { backoff: 1 }), RangeError, /'backoff'.*received 1/],
    [
      () => adaptiveConcurrency([], ok, { retryOn: true as never }),
      TypeError,
      /'retryOn' must be a function, received true/,
    ],
    [() => adaptiveConcurrency([], ok, { onLimit: 5 as never }), TypeError, /'onLimit' must be a function, received 5/],
  ];
  for (const [call, type, message] of cases) {
    assert.throws(
      call,
      (error: Error) =>
        error instanceof type && error.message.startsWith("adaptiveConcurrency: ") && message.test(error.message),
    );
  }
});

test.run();
