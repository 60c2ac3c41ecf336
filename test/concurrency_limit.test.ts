import { suite } from "uvu";
import * as assert from "uvu/assert";
import { concurrencyLimit, type Settled, TimeoutError } from "../mod.ts";
import type { CallContext } from "../mod.ts";
import {
  at,
  type Clock,
  collect,
  countedController,
  deferred,
  instrumented,
  manualSource,
  rejection,
  settle,
  thrown,
  unhandledDuring,
  withClock,
} from "./_helpers.ts";

const test = suite("concurrencyLimit");

/** An fn whose calls the test settles by hand, counting how many are pending. */
function controlled<T>() {
  const calls: { item: T; index: number; resolve(value: T): void; reject(error: unknown): void }[] = [];
  let active = 0;
  let maxActive = 0;
  const fn = (item: T, index: number) => {
    active++;
    maxActive = Math.max(maxActive, active);
    const call = deferred<T>();
    calls.push({ item, index, resolve: call.resolve, reject: call.reject });
    return call.promise.finally(() => active--);
  };
  return { fn, calls, active: () => active, maxActive: () => maxActive };
}

test("concurrencyLimit() never has more than limit calls pending", async () => {
  let active = 0;
  let maxActive = 0;
  const results = await collect(concurrencyLimit(Array.from({ length: 50 }, (_, i) => i), 4, async (item) => {
    active++;
    maxActive = Math.max(maxActive, active);
    await new Promise((resolve) => setTimeout(resolve, (item * 7) % 5));
    active--;
    return item * 2;
  }));
  assert.is(maxActive, 4);
  assert.equal(results, Array.from({ length: 50 }, (_, i) => i * 2));
});

test("concurrencyLimit() reads no further ahead than the limit", async () => {
  const source = instrumented([], { endless: true });
  const { fn, calls } = controlled<number>();
  const it = concurrencyLimit(source, 3, fn);
  const first = it.next();
  await settle();
  assert.is(source.pulls, 3);
  assert.is(calls.length, 3);
  calls[0].resolve(0);
  assert.equal(await first, { value: 0, done: false });
  await settle();
  assert.is(source.pulls, 4);
  await it.return();
});

test("concurrencyLimit() ordered: results in input order, and results waiting behind a slow call count against the limit", async () => {
  const source = instrumented([], { endless: true });
  const { fn, calls, active } = controlled<number>();
  const it = concurrencyLimit(source, 3, fn);
  const first = it.next();
  await settle();
  calls[2].resolve(20);
  calls[1].resolve(10);
  await settle();
  assert.is(active(), 1, "only the slow first call is pending");
  assert.is(source.pulls, 3, "two finished results still hold their places");
  calls[0].resolve(0);
  assert.equal(await first, { value: 0, done: false });
  assert.equal(await it.next(), { value: 10, done: false });
  assert.equal(await it.next(), { value: 20, done: false });
  await it.return();
});

test("concurrencyLimit() holds at most limit results for a slow consumer", async () => {
  const source = instrumented([], { endless: true });
  const it = concurrencyLimit(source, 2, (item) => item);
  await it.next();
  await settle();
  assert.is(source.pulls, 1 + 2);
  await it.return();
});

test("concurrencyLimit() unordered: results as they settle", async () => {
  const { fn, calls } = controlled<string>();
  const it = concurrencyLimit(["slow", "fast"], 2, fn, { ordered: false });
  const first = it.next();
  await settle();
  calls[1].resolve("fast");
  assert.equal(await first, { value: "fast", done: false });
  calls[0].resolve("slow");
  assert.equal(await it.next(), { value: "slow", done: false });
  assert.equal(await it.next(), { value: undefined, done: true });
});

test("concurrencyLimit() passes each item's index in the source", async () => {
  const seen: [string, number][] = [];
  await collect(concurrencyLimit(["a", "b", "c"], 2, (item, index) => seen.push([item, index])));
  assert.equal(seen, [["a", 0], ["b", 1], ["c", 2]]);
});

test("concurrencyLimit() starts no new call after the first error", async () => {
  const source = instrumented([], { endless: true });
  const error = new Error("boom");
  const { fn, calls } = controlled<number>();
  const it = concurrencyLimit(source, 2, fn);
  const first = it.next();
  await settle();
  calls[0].reject(error);
  assert.is(await rejection(first), error);
  calls[1].resolve(1);
  await settle();
  assert.is(calls.length, 2, "no call after the error");
  assert.is(source.closes, 1);
});

test("concurrencyLimit() unordered: a call that settles after an error is discarded", async () => {
  const error = new Error("boom");
  const { fn, calls } = controlled<number>();
  const it = concurrencyLimit([1, 2, 3], 2, fn, { ordered: false });
  const first = it.next();
  await settle();
  calls[0].resolve(1);
  assert.equal(await first, { value: 1, done: false });
  await settle();
  calls[1].reject(error);
  await settle();
  calls[2].resolve(3);
  await settle();
  assert.is(await rejection(it.next()), error);
  assert.equal(await it.next(), { value: undefined, done: true });
});

test("concurrencyLimit() accepts a synchronous fn and a synchronous throw", async () => {
  assert.equal(await collect(concurrencyLimit([1, 2, 3], 2, (item) => item + 1)), [2, 3, 4]);
  const error = new Error("sync");
  const it = concurrencyLimit([1, 2], 2, () => {
    throw error;
  });
  assert.is(await rejection(it.next()), error);
});

/** An fn whose calls the test settles by hand, keeping each call's context. */
function contexts<T>() {
  const calls: { item: T; context: CallContext; resolve(value: T): void; reject(error: unknown): void }[] = [];
  const fn = (item: T, _index: number, context: CallContext) => {
    const call = deferred<T>();
    calls.push({ item, context, resolve: call.resolve, reject: call.reject });
    return call.promise;
  };
  return { fn, calls };
}

test("concurrencyLimit() gives fn a context: attempt 1 and a signal that stays quiet while the result is wanted", async () => {
  const seen: [number, boolean][] = [];
  const results = await collect(concurrencyLimit([1, 2, 3], 2, async (item, _index, { signal, attempt }) => {
    await settle(2);
    seen.push([attempt, signal.aborted]);
    return item;
  }));
  assert.equal(results, [1, 2, 3]);
  assert.equal(seen, [[1, false], [1, false], [1, false]]);
});

test("concurrencyLimit() break aborts the calls in flight with a reason that says the consumer left", async () => {
  const { fn, calls } = contexts<number>();
  const source = instrumented([1, 2, 3, 4]);
  const it = concurrencyLimit(source, 3, fn, { ordered: false });
  const first = it.next();
  await settle();
  const signals = calls.map((call) => call.context.signal);
  calls[1].resolve(20);
  assert.equal(await first, { value: 20, done: false });
  await it.return();
  assert.equal(signals.map((signal) => signal.aborted), [true, false, true]);
  const reason = signals[0].reason as DOMException;
  assert.is(reason.name, "AbortError");
  assert.match(reason.message, /concurrencyLimit: the consumer stopped reading/);
  assert.is(source.closes, 1);
  // Late results are discarded, late rejections handled.
  const seen = await unhandledDuring(async () => {
    calls[0].reject(new Error("late"));
    calls[3]?.resolve(0);
  });
  assert.equal(seen, []);
  assert.equal(await it.next(), { value: undefined, done: true });
});

test("concurrencyLimit() options.signal aborts each call's signal with its own reason", async () => {
  const { fn, calls } = contexts<number>();
  const { controller, listeners } = countedController();
  const it = concurrencyLimit([1, 2], 2, fn, { signal: controller.signal });
  const pending = it.next();
  await settle();
  const reason = new Error("stop");
  controller.abort(reason);
  assert.is(await rejection(pending), reason);
  assert.is(calls[0].context.signal.reason, reason);
  assert.is(calls[1].context.signal.reason, reason);
  assert.is(listeners(), 0);
});

test("concurrencyLimit() ordered: an error aborts the calls after it at once; those before it finish and come first", async () => {
  const { fn, calls } = contexts<number>();
  const source = instrumented([0, 1, 2, 3]);
  const it = concurrencyLimit(source, 4, fn);
  const first = it.next();
  await settle();
  const signals = calls.map((call) => call.context.signal);
  const error = new Error("item 2 failed");
  calls[2].reject(error);
  await settle();
  assert.equal(signals.map((signal) => signal.aborted), [false, false, false, true]);
  assert.is(signals[3].reason, error);
  calls[1].resolve(1);
  calls[0].resolve(0);
  assert.equal(await first, { value: 0, done: false });
  assert.equal(await it.next(), { value: 1, done: false });
  assert.is(await rejection(it.next()), error);
  assert.equal(await it.next(), { value: undefined, done: true });
  assert.is(calls.length, 4, "no call started after the error");
});

test("concurrencyLimit() unordered: an error aborts every other call at once", async () => {
  const { fn, calls } = contexts<number>();
  const it = concurrencyLimit([0, 1, 2], 3, fn, { ordered: false });
  const first = it.next();
  await settle();
  const error = new Error("item 1 failed");
  calls[1].reject(error);
  assert.is(await rejection(first), error);
  assert.is(calls[0].context.signal.reason, error);
  assert.is(calls[2].context.signal.reason, error);
});

test("concurrencyLimit() a signal first asked for after its call was stopped comes aborted", async () => {
  const { fn, calls } = contexts<number>();
  const it = concurrencyLimit([0, 1], 2, fn);
  const first = it.next();
  await settle();
  await it.return();
  await first;
  assert.is(calls[0].context.signal.aborted, true);
  assert.is((calls[1].context.signal.reason as Error).name, "AbortError");
});

test(
  "concurrencyLimit() timeoutMs: the attempt's signal aborts with TimeoutError at that time, and its timer lives only while it runs",
  withClock(async (clock) => {
    const { fn, calls } = contexts<number>();
    const it = concurrencyLimit([1, 2], 1, fn, { timeoutMs: 50 });
    const first = it.next();
    await settle();
    assert.is(clock.countTimers(), 1, "one timer for the running attempt");
    await at(clock, 30);
    calls[0].resolve(1);
    assert.equal(await first, { value: 1, done: false });
    await settle();
    assert.is(clock.countTimers(), 1, "the first timer went with its attempt; the second attempt has one");
    const second = rejection(it.next());
    await at(clock, 30 + 49);
    assert.is(calls[1].context.signal.aborted, false);
    await at(clock, 30 + 50);
    const error = await second;
    assert.instance(error, TimeoutError);
    assert.is((error as TimeoutError).ms, 50);
    assert.match((error as Error).message, /concurrencyLimit: the call took longer than 'timeoutMs' \(50 ms\)/);
    assert.is(calls[1].context.signal.reason, error);
    assert.is(clock.countTimers(), 0);
  }),
);

/** An fn that fails `failures` times per item, recording when each attempt started. */
function flaky(clock: Clock, failures: number, error = new Error("flaky")) {
  const starts: [number, number, number][] = [];
  const fn = async (item: number, _index: number, { attempt }: CallContext) => {
    starts.push([item, attempt, clock.now]);
    if (attempt <= failures) throw error;
    return item;
  };
  return { fn, starts };
}

test(
  "concurrencyLimit() retry: exact backoff with jitter none, capped at maxDelayMs",
  withClock(async (clock) => {
    const { fn, starts } = flaky(clock, 4);
    const it = concurrencyLimit([7], 1, fn, {
      retry: { attempts: 5, minDelayMs: 100, maxDelayMs: 300, factor: 2, jitter: "none" },
    });
    const first = it.next();
    await clock.tickAsync(2000);
    assert.equal(await first, { value: 7, done: false });
    assert.equal(starts.map(([, attempt, ms]) => [attempt, ms]), [[1, 0], [2, 100], [3, 300], [4, 600], [5, 900]]);
    assert.is(clock.countTimers(), 0);
  }),
);

test(
  "concurrencyLimit() retry: full jitter waits a uniform time below each delay",
  withClock(async (clock) => {
    for (let run = 0; run < 5; run++) {
      const start = clock.now;
      const { fn, starts } = flaky(clock, 3);
      const it = concurrencyLimit([1], 1, fn, { retry: { attempts: 4, minDelayMs: 100 } });
      const first = it.next();
      await clock.tickAsync(2000);
      assert.equal(await first, { value: 1, done: false });
      const times = starts.map(([, , ms]) => ms - start);
      assert.is(times.length, 4);
      [100, 200, 400].forEach((ceiling, i) => {
        const waited = times[i + 1] - times[i];
        assert.ok(waited >= 0 && waited <= ceiling, `retry ${i + 1} waited ${waited} ms, ceiling ${ceiling}`);
      });
    }
  }),
);

test(
  "concurrencyLimit() retry: retryOn says yes, no, or how long to wait; the last error stands after the attempts",
  withClock(async (clock) => {
    class Busy extends Error {}
    const asked: [string, number][] = [];
    const { fn, starts } = flaky(clock, 10, new Busy("429"));
    const it = concurrencyLimit([1], 1, fn, {
      retry: {
        attempts: 3,
        retryOn: (error, attempt) => {
          asked.push([(error as Error).message, attempt]);
          return attempt === 1 ? 250 : true;
        },
        minDelayMs: 10,
        jitter: "none",
      },
    });
    const failed = rejection(it.next());
    await clock.tickAsync(1000);
    assert.instance(await failed, Busy);
    assert.equal(asked, [["429", 1], ["429", 2]], "not asked once no attempt is left");
    assert.equal(starts.map(([, , ms]) => ms), [0, 250, 270]);

    const declined = flaky(clock, 10);
    const none = concurrencyLimit([1], 1, declined.fn, { retry: { attempts: 3, retryOn: () => false } });
    assert.is((await rejection(none.next()) as Error).message, "flaky");
    assert.is(declined.starts.length, 1);
  }),
);

test(
  "concurrencyLimit() retry: a retryOn that throws or answers nonsense fails the iteration",
  withClock(async (clock) => {
    const broken = new Error("retryOn broke");
    const it = concurrencyLimit([1], 1, flaky(clock, 1).fn, {
      retry: {
        attempts: 2,
        retryOn: () => {
          throw broken;
        },
      },
    });
    assert.is(await rejection(it.next()), broken);
    const nonsense = concurrencyLimit([1], 1, flaky(clock, 1).fn, {
      retry: { attempts: 2, retryOn: () => undefined as never },
    });
    const error = await rejection(nonsense.next());
    assert.instance(error, TypeError);
    assert.match((error as Error).message, /concurrencyLimit: 'retry.retryOn' must return true, false or a number/);
    const negative = concurrencyLimit([1], 1, flaky(clock, 1).fn, { retry: { attempts: 2, retryOn: () => -5 } });
    assert.instance(await rejection(negative.next()), RangeError);
    // A wait no timer honours (it would fire after 1 ms) is refused too.
    const tooLong = concurrencyLimit([1], 1, flaky(clock, 1).fn, { retry: { attempts: 2, retryOn: () => 2 ** 31 } });
    const refused = await rejection(tooLong.next());
    assert.instance(refused, RangeError);
    assert.match(
      (refused as Error).message,
      /'retry.retryOn' must return .* at most 2147483647 .* returned 2147483648/,
    );
  }),
);

test(
  "concurrencyLimit() retry: an item waiting to be retried keeps its place in the limit",
  withClock(async (clock) => {
    const source = instrumented([0, 1, 2, 3, 4, 5]);
    let running = 0;
    let most = 0;
    const fn = async (item: number, _index: number, { attempt }: CallContext) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 10));
      running--;
      if (item === 0 && attempt < 3) throw new Error("busy");
      return item;
    };
    const it = concurrencyLimit(source, 2, fn, {
      ordered: false,
      retry: { attempts: 3, minDelayMs: 100, jitter: "none" },
    });
    const results: number[] = [];
    const read = (async () => {
      for await (const value of it) results.push(value);
    })();
    await at(clock, 15);
    // Item 0 failed at 10 ms and waits until 110: one slot is its, item 1 finished, item 2 runs.
    assert.is(source.pulls, 3);
    await clock.tickAsync(1000);
    await read;
    assert.equal(results.sort(), [0, 1, 2, 3, 4, 5]);
    assert.is(most, 2);
  }),
);

test(
  "concurrencyLimit() retry: return() ends the wait at once, with no timer left and no attempt after it",
  withClock(async (clock) => {
    const { fn, starts } = flaky(clock, 10);
    const source = instrumented([1, 2]);
    const it = concurrencyLimit(source, 1, fn, { retry: { attempts: 5, minDelayMs: 1000, jitter: "none" } });
    const pending = it.next();
    await at(clock, 10);
    assert.is(clock.countTimers(), 1, "waiting to retry");
    await it.return();
    assert.equal(await pending, { value: undefined, done: true });
    assert.is(clock.countTimers(), 0);
    assert.is(source.closes, 1);
    await clock.tickAsync(5000);
    assert.is(starts.length, 1);
  }),
);

test(
  "concurrencyLimit() retry: abort ends the wait at once",
  withClock(async (clock) => {
    const { fn, starts } = flaky(clock, 10);
    const controller = new AbortController();
    const it = concurrencyLimit([1], 1, fn, {
      signal: controller.signal,
      retry: { attempts: 5, minDelayMs: 1000, jitter: "none" },
    });
    const pending = it.next();
    await at(clock, 10);
    const reason = new Error("user left");
    controller.abort(reason);
    assert.is(await rejection(pending), reason);
    assert.is(clock.countTimers(), 0);
    await clock.tickAsync(5000);
    assert.is(starts.length, 1);
  }),
);

test(
  "concurrencyLimit() retry budget: past ratio × first attempts + minPerSecond × 10 in ten seconds, errors stand",
  withClock(async (clock) => {
    // Every call fails once. ratio 0.5 of 4 first attempts plus 0.1 × 10 = 3 retries in the window.
    const { fn, starts } = flaky(clock, 1);
    const outcomes = await (async () => {
      const it = concurrencyLimit([0, 1, 2, 3], 4, fn, {
        settle: true,
        retry: { attempts: 2, minDelayMs: 10, jitter: "none", budget: { ratio: 0.5, minPerSecond: 0.1 } },
      });
      const all: Settled<number, number>[] = [];
      const read = (async () => {
        for await (const outcome of it) all.push(outcome);
      })();
      await clock.tickAsync(100);
      await read;
      return all;
    })();
    assert.equal(outcomes.map((outcome) => outcome.ok), [true, true, true, false]);
    assert.is(starts.length, 4 + 3);
    // Ten seconds later the window is empty again: one first attempt allows 0.5 + 1 retries.
    await clock.tickAsync(10_000);
    const later = concurrencyLimit([9], 1, flaky(clock, 1).fn, {
      retry: { attempts: 2, minDelayMs: 10, jitter: "none", budget: { ratio: 0.5, minPerSecond: 0.1 } },
    });
    const next = later.next();
    await clock.tickAsync(100);
    assert.equal(await next, { value: 9, done: false });
  }),
);

test(
  "concurrencyLimit() settle: outcomes in input order, failures included, and an error no longer ends the iteration",
  withClock(async (clock) => {
    const error = new Error("odd");
    const fn = async (item: number, _index: number, { attempt }: CallContext) => {
      await new Promise((resolve) => setTimeout(resolve, 10 * (5 - item)));
      if (item % 2 === 1 && attempt === 1) throw error;
      if (item === 3) throw error;
      return item * 10;
    };
    const it = concurrencyLimit([0, 1, 2, 3, 4], 3, fn, {
      settle: true,
      retry: { attempts: 2, minDelayMs: 5, jitter: "none" },
    });
    const read = collect(it);
    await clock.tickAsync(1000);
    assert.equal(await read, [
      { ok: true, value: 0, item: 0, index: 0 },
      { ok: true, value: 10, item: 1, index: 1 },
      { ok: true, value: 20, item: 2, index: 2 },
      { ok: false, error, item: 3, index: 3 },
      { ok: true, value: 40, item: 4, index: 4 },
    ]);
    const unordered = concurrencyLimit([0, 1, 2, 3, 4], 5, fn, { settle: true, ordered: false });
    const readUnordered = collect(unordered);
    await clock.tickAsync(1000);
    assert.equal((await readUnordered).map((outcome) => [outcome.item, outcome.ok]), [
      [4, true],
      [3, false],
      [2, true],
      [1, false],
      [0, true],
    ]);
  }),
);

test(
  "concurrencyLimit() settle: a timed-out call is an outcome, and a source error still ends the iteration",
  withClock(async (clock) => {
    const never = () => new Promise<number>(() => {});
    const source = manualSource();
    const it = concurrencyLimit(source, 2, never, { settle: true, timeoutMs: 20 });
    const first = it.next();
    source.push(1);
    await at(clock, 20);
    const outcome = (await first).value as Settled<number, number>;
    assert.is(outcome.ok, false);
    assert.instance((outcome as { error: unknown }).error, TimeoutError);
    const error = new Error("source broke");
    source.fail(error);
    assert.is(await rejection(it.next()), error);
  }),
);

test("concurrencyLimit() validates its new options at the call", () => {
  const ok = (x: number) => x;
  const cases: [() => unknown, typeof RangeError | typeof TypeError, string][] = [
    [
      () => concurrencyLimit([], 1, ok, { timeoutMs: 0 }),
      RangeError,
      "'timeoutMs' must be a positive finite number, received 0",
    ],
    [() => concurrencyLimit([], 1, ok, { settle: 1 as never }), TypeError, "'settle' must be a boolean, received 1"],
    [() => concurrencyLimit([], 1, ok, { retry: 3 as never }), TypeError, "'retry' must be an object, received 3"],
    [
      () => concurrencyLimit([], 1, ok, { retry: {} as never }),
      RangeError,
      "'retry.attempts' must be a positive integer, received undefined",
    ],
    [
      () => concurrencyLimit([], 1, ok, { retry: { attempts: 0 } }),
      RangeError,
      "'retry.attempts' must be a positive integer, received 0",
    ],
    [
      () => concurrencyLimit([], 1, ok, { retry: { attempts: 2, minDelayMs: -1 } }),
      RangeError,
      "'retry.minDelayMs' must be a non-negative finite number, received -1",
    ],
    [
      () => concurrencyLimit([], 1, ok, { retry: { attempts: 2, minDelayMs: 500, maxDelayMs: 100 } }),
      RangeError,
      "'retry.maxDelayMs' must be at least 'retry.minDelayMs' (500), received 100",
    ],
    [
      () => concurrencyLimit([], 1, ok, { retry: { attempts: 2, factor: 0.5 } }),
      RangeError,
      "'retry.factor' must be a finite number of at least 1, received 0.5",
    ],
    [
      () => concurrencyLimit([], 1, ok, { retry: { attempts: 2, jitter: "half" as never } }),
      RangeError,
      `'retry.jitter' must be "full" or "none", received "half"`,
    ],
    [
      () => concurrencyLimit([], 1, ok, { retry: { attempts: 2, retryOn: true as never } }),
      TypeError,
      "'retry.retryOn' must be a function, received true",
    ],
    [
      () => concurrencyLimit([], 1, ok, { retry: { attempts: 2, budget: { ratio: -1 } } }),
      RangeError,
      "'retry.budget.ratio' must be a non-negative finite number, received -1",
    ],
    [
      () => concurrencyLimit([], 1, ok, { retry: { attempts: 2, budget: { minPerSecond: NaN } } }),
      RangeError,
      "'retry.budget.minPerSecond' must be a non-negative finite number, received NaN",
    ],
  ];
  for (const [call, type, message] of cases) {
    const error = thrown(call);
    assert.instance(error, type);
    assert.is((error as Error).message, `concurrencyLimit: ${message}`);
  }
});

test.run();
