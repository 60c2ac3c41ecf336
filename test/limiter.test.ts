import { suite } from "uvu";
import * as assert from "uvu/assert";
import { limiter, limitFunction, OverflowError } from "../mod.ts";
import { deferred, rejection, settle, unhandledDuring } from "./_helpers.ts";

const test = suite("limiter");

/** Calls the test settles by hand. */
function gates() {
  const opened: { id: number; resolve(): void; reject(error: unknown): void }[] = [];
  const task = (id: number) => () => {
    const gate = deferred<void>();
    opened.push({ id, resolve: () => gate.resolve(), reject: gate.reject });
    return gate.promise.then(() => id);
  };
  return { opened, task };
}

test("limiter() validates concurrency at the call, as p-limit does, with sluice messages", () => {
  const cases: [unknown, typeof TypeError | typeof RangeError, string][] = [
    [0, RangeError, "limiter: 'concurrency' must be a positive integer or Infinity, received 0"],
    [-1, RangeError, "received -1"],
    [1.5, RangeError, "received 1.5"],
    [NaN, RangeError, "received NaN"],
    [-Infinity, RangeError, "received -Infinity"],
    ["2", TypeError, "limiter: 'concurrency' must be a positive integer or Infinity, received \"2\""],
    [undefined, TypeError, "received undefined"],
    [null, TypeError, "limiter: 'concurrency' must be a number or an options object with 'concurrency', received null"],
    [{}, TypeError, "'concurrency' must be a number or an options object with 'concurrency', received an object"],
    [[], TypeError, "'concurrency' must be a number or an options object with 'concurrency', received an array"],
    [{ concurrency: 0 }, RangeError, "'concurrency' must be a positive integer or Infinity, received 0"],
    [
      { concurrency: 1, rejectOnClear: "yes" },
      TypeError,
      "limiter: 'rejectOnClear' must be a boolean, received \"yes\"",
    ],
    [
      { concurrency: 1, maxPending: 0 },
      RangeError,
      "limiter: 'maxPending' must be a positive integer or Infinity, received 0",
    ],
    [
      { concurrency: 1, maxPending: "8" },
      TypeError,
      "'maxPending' must be a positive integer or Infinity, received \"8\"",
    ],
  ];
  for (const [value, type, message] of cases) {
    let thrown: unknown;
    try {
      limiter(value as never);
    } catch (error) {
      thrown = error;
    }
    assert.instance(thrown, type, `${String(value)} throws ${type.name}`);
    assert.ok((thrown as Error).message.includes(message), (thrown as Error).message);
  }
  assert.is(limiter(Infinity).concurrency, Infinity);
  assert.is(limiter({ concurrency: 3 }).concurrency, 3);
});

test("limiter() concurrency setter validates too", () => {
  const limit = limiter(2);
  assert.throws(
    () => (limit.concurrency = 0),
    (error: unknown) =>
      error instanceof RangeError &&
      error.message === "limiter: 'concurrency' must be a positive integer or Infinity, received 0",
  );
  assert.throws(() => (limit.concurrency = "3" as never), TypeError);
  assert.is(limit.concurrency, 2);
});

test("limit() runs at most concurrency calls at once, first in first out", async () => {
  const limit = limiter(2);
  const { opened, task } = gates();
  const results = [1, 2, 3, 4, 5].map((id) => limit(task(id)));
  assert.is(limit.activeCount, 2);
  assert.is(limit.pendingCount, 3);
  await settle();
  assert.equal(opened.map((call) => call.id), [1, 2]);
  opened[1].resolve();
  await settle();
  assert.equal(opened.map((call) => call.id), [1, 2, 3]);
  assert.is(limit.activeCount, 2);
  assert.is(limit.pendingCount, 2);
  opened[0].resolve();
  opened[2].resolve();
  await settle();
  assert.equal(opened.map((call) => call.id), [1, 2, 3, 4, 5]);
  assert.is(limit.pendingCount, 0);
  opened[3].resolve();
  opened[4].resolve();
  assert.equal(await Promise.all(results), [1, 2, 3, 4, 5]);
  assert.is(limit.activeCount, 0);
});

test("limit() calls fn in a later microtask with the given arguments, never synchronously", async () => {
  const limit = limiter(1);
  const calls: unknown[][] = [];
  const promise = limit(
    (a: number, b: string) => {
      calls.push([a, b]);
      return a + b;
    },
    1,
    "x",
  );
  assert.equal(calls, [], "not called synchronously");
  assert.is(await promise, "1x");
  assert.equal(calls, [[1, "x"]]);
});

test("limit() passes on a throw or a rejection, and frees the slot", async () => {
  const limit = limiter(1);
  const error = new Error("nope");
  const thrown = limit(() => {
    throw error;
  });
  const rejected = limit(() => Promise.reject(error));
  const fine = limit(async () => "ok");
  assert.is(await rejection(thrown), error);
  assert.is(await rejection(rejected), error);
  assert.is(await fine, "ok");
  assert.is(limit.activeCount, 0);
});

test("limit() with something that is not a function rejects with a TypeError in its turn", async () => {
  const limit = limiter(1);
  const error = await rejection(limit(42 as never));
  assert.instance(error, TypeError);
  assert.is((error as Error).message, "limit: 'fn' must be a function, received 42");
  assert.is(await limit(() => 1), 1);
});

test("limit.concurrency raised starts waiting calls in a microtask; lowered lets running calls finish", async () => {
  const limit = limiter(1);
  const { opened, task } = gates();
  const results = [1, 2, 3, 4].map((id) => limit(task(id)));
  await settle();
  limit.concurrency = 3;
  assert.is(limit.activeCount, 1, "not synchronously");
  await settle();
  assert.is(limit.activeCount, 3);
  assert.equal(opened.map((call) => call.id), [1, 2, 3]);
  limit.concurrency = 1;
  opened[0].resolve();
  await settle();
  assert.is(limit.activeCount, 2, "nothing new starts above the new limit");
  assert.is(limit.pendingCount, 1);
  opened[1].resolve();
  opened[2].resolve();
  await settle();
  assert.equal(opened.map((call) => call.id), [1, 2, 3, 4]);
  opened[3].resolve();
  assert.equal(await Promise.all(results), [1, 2, 3, 4]);
});

test("limit.clearQueue() discards waiting calls, which then never run; running calls go on", async () => {
  const limit = limiter(1);
  const { opened, task } = gates();
  const running = limit(task(1));
  let settledWaiting = false;
  limit(task(2)).finally(() => (settledWaiting = true));
  await settle();
  limit.clearQueue();
  assert.is(limit.pendingCount, 0);
  assert.is(limit.activeCount, 1);
  opened[0].resolve();
  assert.is(await running, 1);
  await settle();
  assert.equal(opened.map((call) => call.id), [1], "the discarded call never ran");
  assert.is(settledWaiting, false, "without rejectOnClear it stays pending, as in p-limit");
  assert.is(await limit(() => "after"), "after");
});

test("limit.clearQueue() with rejectOnClear rejects waiting calls with one AbortError", async () => {
  const limit = limiter({ concurrency: 1, rejectOnClear: true });
  const { opened, task } = gates();
  const running = limit(task(1));
  const waiting = [limit(task(2)), limit(task(3))];
  limit.clearQueue();
  const errors = await Promise.all(waiting.map(rejection));
  assert.is((errors[0] as Error).name, "AbortError");
  assert.is(errors[0], errors[1]);
  await settle();
  opened[0].resolve();
  assert.is(await running, 1);
  assert.equal(opened.map((call) => call.id), [1]);
});

test("limiter() maxPending bounds the waiting calls: more reject at once with OverflowError and never run", async () => {
  const limit = limiter({ concurrency: 1, maxPending: 2 });
  const { opened, task } = gates();
  const accepted = [limit(task(1)), limit(task(2)), limit(task(3))];
  const refused = limit(task(4));
  assert.is(limit.pendingCount, 2);
  const error = await rejection(refused);
  assert.instance(error, OverflowError);
  assert.is((error as OverflowError).capacity, 2);
  opened[0].resolve();
  await settle();
  const later = limit(task(5)); // room again
  assert.is(limit.pendingCount, 2);
  for (let i = 1; i < 4; i++) {
    await settle();
    opened[i].resolve();
  }
  assert.equal(await Promise.all([...accepted, later]), [1, 2, 3, 5]);
  assert.equal(opened.map((call) => call.id), [1, 2, 3, 5]);
});

test("limit.map() resolves with results in input order, with indexes, through the limit", async () => {
  const limit = limiter(2);
  let active = 0;
  let most = 0;
  const results = await limit.map(["a", "b", "c", "d", "e"], async (item, index) => {
    most = Math.max(most, ++active);
    await settle(5 - index);
    active--;
    return `${item}${index}`;
  });
  assert.equal(results, ["a0", "b1", "c2", "d3", "e4"]);
  assert.is(most, 2);
  assert.equal(await limit.map([], () => 1), []);
  // Not an iterable, or no function: a TypeError naming limit.map (Array.from would make 42 an empty list).
  for (
    const [iterable, fn, message] of [
      [42, () => 1, "limit.map: 'iterable' must be an Iterable, received 42"],
      [null, () => 1, "limit.map: 'iterable' must be an Iterable, received null"],
      [[1], 42, "limit.map: 'fn' must be a function, received 42"],
    ] as const
  ) {
    const error = await rejection(limit.map(iterable as never, fn as never));
    assert.instance(error, TypeError);
    assert.is((error as Error).message, message);
  }
  assert.equal(await limit.map(new Set([1, 2]), (n) => n * 2), [2, 4]);
});

test("limit.map() rejects with the first error, and with an iterable's throw, leaving nothing unhandled", async () => {
  const seen = await unhandledDuring(async () => {
    const limit = limiter(2);
    const error = new Error("bad item");
    const failed = limit.map([1, 2, 3], async (n) => {
      if (n !== 1) throw error;
      return n;
    });
    assert.is(await rejection(failed), error);
    const broken = new Error("iterable broke");
    function* items() {
      yield 1;
      yield 2;
      throw broken;
    }
    const ran: number[] = [];
    assert.is(
      await rejection(limit.map(items(), async (n) => {
        ran.push(n);
        throw error;
      })),
      broken,
    );
    await settle();
    assert.equal(ran, [1, 2], "calls already queued still run");
  });
  assert.equal(seen, []);
});

test("limit.map() rejects an async iterable with a TypeError instead of mapping it as empty", async () => {
  const limit = limiter(2);
  async function* items() {
    yield 1;
  }
  const error = await rejection(limit.map(items() as never, (n: number) => n));
  assert.instance(error, TypeError);
  assert.ok((error as Error).message.startsWith("limit.map: 'iterable' must be an Iterable"));
});

test("limiter() is typed like p-limit's LimitFunction", async () => {
  const limit = limiter(2);
  const n: Promise<number> = limit((a: number, b: number) => a + b, 1, 2);
  // @ts-expect-error: the arguments must match fn's parameters
  const bad = limit((a: number) => a, "x");
  const all: Promise<string[]> = limit.map([1, 2], async (item, index) => `${item}:${index}`);
  assert.throws(() => {
    // @ts-expect-error: activeCount is read-only
    limit.activeCount = 3;
  }, TypeError);
  assert.is(await n, 3);
  assert.equal(await all, ["1:0", "2:1"]);
  await bad;
});

test("limitFunction() runs at most concurrency calls of fn at once, first in first out, with fn's arguments", async () => {
  const started: string[] = [];
  const gates = new Map<string, () => void>();
  const fetchPage = limitFunction((url: string, attempt: number) => {
    started.push(`${url}#${attempt}`);
    return new Promise<string>((resolve) => gates.set(url, () => resolve(`page ${url}`)));
  }, { concurrency: 2 });
  const pages = ["/a", "/b", "/c", "/d"].map((url) => fetchPage(url, 1));
  await settle();
  assert.equal(started, ["/a#1", "/b#1"]);
  gates.get("/b")!();
  await settle();
  assert.equal(started, ["/a#1", "/b#1", "/c#1"]);
  gates.get("/a")!();
  gates.get("/c")!();
  await settle();
  gates.get("/d")!();
  assert.equal(await Promise.all(pages), ["page /a", "page /b", "page /c", "page /d"]);
});

test("limitFunction() passes on a throw or a rejection, frees the slot, and calls fn without a this", async () => {
  const error = new Error("down");
  const thisSeen: unknown[] = [];
  const call = limitFunction(function (this: unknown, n: number) {
    thisSeen.push(this);
    if (n === 1) throw error;
    if (n === 2) return Promise.reject(error);
    return n;
  }, { concurrency: 1 });
  assert.is(await rejection(call(1)), error);
  assert.is(await rejection(call(2)), error);
  assert.is(await call(3), 3);
  assert.equal(thisSeen, [undefined, undefined, undefined]);
});

test("limitFunction() clearQueue() discards the waiting calls; with rejectOnClear they reject with an AbortError", async () => {
  for (const rejectOnClear of [false, true]) {
    const ran: number[] = [];
    const gate = deferred<void>();
    const call = limitFunction(async (n: number) => {
      ran.push(n);
      await gate.promise;
      return n;
    }, { concurrency: 1, rejectOnClear });
    const first = call(1);
    const waiting = [call(2), call(3)];
    const outcomes: string[] = [];
    for (const promise of waiting) promise.then(() => outcomes.push("resolved"), (e: Error) => outcomes.push(e.name));
    await settle();
    call.clearQueue();
    gate.resolve();
    assert.is(await first, 1);
    assert.is(await call(4), 4);
    await settle();
    assert.equal(ran, [1, 4]);
    assert.equal(outcomes, rejectOnClear ? ["AbortError", "AbortError"] : []);
  }
});

test("limitFunction() bounds the waiting calls with maxPending", async () => {
  const gate = deferred<void>();
  const call = limitFunction(() => gate.promise, { concurrency: 1, maxPending: 1 });
  const accepted = [call(), call()];
  const error = await rejection(call());
  assert.instance(error, OverflowError);
  assert.is((error as Error).message, "limitFunction: more than 1 calls waiting ('maxPending')");
  gate.resolve();
  await Promise.all(accepted);
});

test("limitFunction() validates at the call: fn and the options, with messages naming limitFunction", () => {
  const cases: [() => unknown, typeof TypeError | typeof RangeError, string][] = [
    [
      () => limitFunction(42 as never, { concurrency: 1 }),
      TypeError,
      "limitFunction: 'fn' must be a function, received 42",
    ],
    [
      () => limitFunction(() => 1, { concurrency: 0 }),
      RangeError,
      "limitFunction: 'concurrency' must be a positive integer or Infinity, received 0",
    ],
    [
      () => limitFunction(() => 1, null as never),
      TypeError,
      "limitFunction: 'options' must be a number or an options object with 'concurrency', received null",
    ],
    [
      () => limitFunction(() => 1, { concurrency: 1, rejectOnClear: "yes" as never }),
      TypeError,
      "limitFunction: 'rejectOnClear' must be a boolean",
    ],
  ];
  for (const [call, type, message] of cases) {
    assert.throws(call, (error: unknown) => error instanceof type && (error as Error).message.startsWith(message));
  }
  assert.is(typeof limitFunction(() => 1, 3), "function");
});

test("limitFunction() is typed like p-limit's: fn's parameters, a promise of its result, clearQueue()", async () => {
  const double = limitFunction(async (n: number) => n * 2, { concurrency: 1 });
  const result: Promise<number> = double(2);
  // @ts-expect-error: the arguments must match fn's parameters
  const bad = double("x");
  // @ts-expect-error: no activeCount on a limited function (p-limit has none either)
  void double.activeCount;
  assert.is(await result, 4);
  await bad;
  double.clearQueue();
});

test.run();
