/**
 * limiter() is a drop-in for p-limit's pLimit: every scenario here runs against
 * both and expects the same log, line for line. A line says what happened, the
 * counts at that moment, and when: on which microtask (scenarios without
 * timers) or at which fake millisecond (scenarios with timers). So the order
 * of starts and ends, the counts over time and the settling of promises match
 * down to the microtask.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import pLimit, { type LimitFunction as PLimitFunction, limitFunction as pLimitFunction } from "p-limit";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { limiter, type LimitFunction, limitFunction } from "../mod.ts";
import { fakeClock } from "./_helpers.ts";

const test = suite("limiter interop with p-limit");

type Make = (concurrency: number | { concurrency: number; rejectOnClear?: boolean }) => PLimitFunction;

const implementations: [string, Make][] = [
  ["p-limit", pLimit],
  ["limiter", limiter],
];

// A drop-in both ways, as types.
const asPLimit: PLimitFunction = limiter(1);
const asSluice: LimitFunction = pLimit(1);
void asPLimit;
void asSluice;
// Code written for p-limit's limitFunction compiles with sluice's (which also takes a fn returning a plain value).
const asPLimitFunction: typeof pLimitFunction = limitFunction;
void asPLimitFunction;

interface Log {
  (event: string): void;
  lines: string[];
}

function makeLog(limit: PLimitFunction, now: () => number | string): Log {
  const lines: string[] = [];
  const log = ((event: string) => {
    lines.push(`${now()} ${event} active=${limit.activeCount} pending=${limit.pendingCount}`);
  }) as Log;
  log.lines = lines;
  return log;
}

/** Runs a scenario on a microtask clock: a loop that counts microtasks while the scenario runs. */
async function onMicrotasks(
  make: Make,
  concurrency: number | { concurrency: number; rejectOnClear?: boolean },
  scenario: (limit: PLimitFunction, log: Log) => Promise<void>,
): Promise<string[]> {
  const limit = make(concurrency);
  let tick = 0;
  let running = true;
  const counter = (async () => {
    while (running && tick < 100_000) {
      tick++;
      await null;
    }
  })();
  const log = makeLog(limit, () => `tick ${tick}`);
  await scenario(limit, log);
  running = false;
  await counter;
  return log.lines;
}

/** Runs a scenario on a fake clock; `until` is how far to advance it. */
async function onFakeTime(
  make: Make,
  concurrency: number | { concurrency: number; rejectOnClear?: boolean },
  until: number,
  scenario: (limit: PLimitFunction, log: Log, sleep: (ms: number) => Promise<void>) => void,
): Promise<string[]> {
  const clock = fakeClock();
  try {
    const limit = make(concurrency);
    const log = makeLog(limit, () => `${clock.now}ms`);
    const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
    scenario(limit, log, sleep);
    await clock.tickAsync(until);
    log("end");
    assert.is(clock.countTimers(), 0, "the scenario ran to its end");
    return log.lines;
  } finally {
    clock.uninstall();
  }
}

async function same(run: (make: Make) => Promise<string[]>): Promise<void> {
  const [expected, actual] = [await run(implementations[0][1]), await run(implementations[1][1])];
  assert.ok(expected.length >= 3, "the scenario logged something");
  assert.equal(actual, expected);
}

test("same microtask-level order and counts: sync values, async functions, throws, rejections, thenables", () =>
  same((make) =>
    onMicrotasks(make, 2, async (limit, log) => {
      const thenable = { then: (resolve: (value: string) => void) => resolve("thenable") };
      const fns: (() => unknown)[] = [
        () => (log("start sync value"), "value"),
        async () => (log("start async"), "async"),
        () => {
          log("start sync throw");
          throw new Error("thrown");
        },
        async () => {
          log("start awaiting");
          await null;
          await null;
          log("end awaiting");
          return "awaited";
        },
        () => (log("start resolved promise"), Promise.resolve("resolved")),
        () => (log("start rejected promise"), Promise.reject(new Error("rejected"))),
        () => (log("start thenable"), thenable),
        async () => (log("start last"), "last"),
      ];
      const calls = fns.map((fn, i) =>
        limit(fn).then(
          (value) => log(`call ${i} resolved ${String(value)}`),
          (error: Error) => log(`call ${i} rejected ${error.message}`),
        )
      );
      log("after the calls");
      await Promise.all(calls);
      log("all settled");
    })
  ));

test("same order when concurrency is raised and lowered while calls run", () =>
  same((make) =>
    onMicrotasks(make, 1, async (limit, log) => {
      const task = (id: number, ticks: number) => async () => {
        log(`start ${id}`);
        for (let i = 0; i < ticks; i++) await null;
        log(`end ${id}`);
        return id;
      };
      const calls = [5, 1, 3, 8, 2, 2, 6, 1].map((ticks, id) =>
        limit(task(id, ticks)).then((v) => log(`resolved ${v}`))
      );
      limit.concurrency = 3;
      log(`raised to ${limit.concurrency}`);
      await null;
      log("a microtask later");
      await calls[1];
      limit.concurrency = 1;
      log("lowered to 1");
      await calls[4];
      limit.concurrency = Infinity;
      log("raised to Infinity");
      await Promise.all(calls);
    })
  ));

test("same starts, ends and counts over fake time, with concurrency changes", () =>
  same((make) =>
    onFakeTime(make, 3, 200, (limit, log, sleep) => {
      const durations = [30, 10, 20, 5, 5, 40, 1, 15, 25, 10];
      durations.forEach((ms, id) => {
        void limit(async (tag: string) => {
          log(`start ${tag}`);
          await sleep(ms);
          log(`end ${tag}`);
          return tag;
        }, `#${id}`).then((tag) => log(`resolved ${tag}`));
      });
      for (let at = 0; at <= 120; at += 5) setTimeout(() => log("sample"), at);
      setTimeout(() => (limit.concurrency = 5), 22);
      setTimeout(() => (limit.concurrency = 2), 41);
    })
  ));

test("same clearQueue(): waiting calls never run and never settle, running ones finish, new ones run", () =>
  same((make) =>
    onFakeTime(make, 2, 100, (limit, log, sleep) => {
      for (let id = 0; id < 6; id++) {
        void limit(async () => {
          log(`start ${id}`);
          await sleep(10);
          log(`end ${id}`);
        }).then(() => log(`settled ${id}`), () => log(`rejected ${id}`));
      }
      setTimeout(() => {
        limit.clearQueue();
        log("cleared");
        void limit(() => log("start after clear")).then(() => log("settled after clear"));
      }, 15);
    })
  ));

test("same clearQueue() with rejectOnClear: one AbortError for every waiting call", () =>
  same((make) =>
    onFakeTime(make, { concurrency: 1, rejectOnClear: true }, 50, (limit, log, sleep) => {
      const errors: unknown[] = [];
      for (let id = 0; id < 4; id++) {
        void limit(async () => {
          log(`start ${id}`);
          await sleep(10);
        }).then(() => log(`settled ${id}`), (error: Error) => {
          errors.push(error);
          log(`rejected ${id} ${error.name} ${error instanceof DOMException} same=${errors[0] === error}`);
        });
      }
      setTimeout(() => {
        limit.clearQueue();
        log("cleared");
      }, 5);
    })
  ));

test("same map(): results in order, indexes, a failing item, an iterable that throws, an empty input", () =>
  same((make) =>
    onFakeTime(make, 2, 200, (limit, log, sleep) => {
      const mapped = limit.map(["a", "b", "c", "d"], async (item, index) => {
        log(`start ${item}${index}`);
        await sleep(10 * (4 - index));
        return `${item}${index}`;
      });
      log("map called");
      void mapped.then((results) => log(`mapped ${results.join(",")}`));
      void limit.map("xyz", (letter) => letter.toUpperCase()).then((results) => log(`string ${results.join("")}`));
      void limit.map([], () => 1).then((results) => log(`empty ${results.length}`));
      void limit.map([1, 2, 3], async (n) => {
        await sleep(n);
        if (n === 2) throw new Error(`item ${n}`);
        return n;
      }).then(() => log("no failure?"), (error: Error) => log(`map rejected ${error.message}`));
      function* broken() {
        yield 1;
        throw new Error("iterable broke");
      }
      void limit.map(broken(), (n) => (log(`ran ${n}`), n)).then(
        () => log("no throw?"),
        (error: Error) => log(`map rejected ${error.message}`),
      );
    })
  ));

test("same arguments passed through, and a non-function rejects with a TypeError in its turn", () =>
  same((make) =>
    onMicrotasks(make, 1, async (limit, log) => {
      const sum = limit((a: number, b: number, c: number) => a + b + c, 1, 2, 3).then((v) => log(`sum ${v}`));
      const notFn = limit(42 as never).then(
        () => log("called?"),
        (error: unknown) => log(`not a function: ${error instanceof TypeError}`),
      );
      const after = limit(() => log("runs after"));
      await Promise.all([sum, notFn, after]);
    })
  ));

test("same async context: fn runs in the caller's AsyncLocalStorage store, queued or not", () =>
  same((make) =>
    onMicrotasks(make, 1, async (limit, log) => {
      const store = new AsyncLocalStorage<string>();
      const calls: Promise<void>[] = [];
      for (const name of ["first", "second", "third"]) {
        store.run(name, () => {
          calls.push(limit(async () => {
            log(`${name} sees ${store.getStore()}`);
            await null;
            log(`${name} still sees ${store.getStore()}`);
          }));
        });
      }
      await Promise.all(calls);
    })
  ));

test("same validation: the same values throw, at the call and in the setter", () => {
  const bad: unknown[] = [0, -1, 1.5, NaN, "2", undefined, null, {}, { concurrency: 0 }, {
    concurrency: 1,
    rejectOnClear: 1,
  }, true];
  const good: unknown[] = [1, 7, Infinity, { concurrency: 2 }, { concurrency: Infinity, rejectOnClear: false }];
  for (const [name, make] of implementations) {
    for (const value of bad) assert.throws(() => make(value as never), `${name} rejects ${JSON.stringify(value)}`);
    for (const value of good) make(value as never);
    const limit = make(2);
    for (const value of [0, 2.5, "3", -Infinity]) {
      assert.throws(() => (limit.concurrency = value as never), `${name} setter rejects ${String(value)}`);
    }
    assert.is(limit.concurrency, 2);
    limit.concurrency = Infinity;
    assert.is(limit.concurrency, Infinity);
  }
});

type MakeFunction = typeof pLimitFunction;
const functionImplementations: MakeFunction[] = [pLimitFunction, limitFunction];

/** Runs a limitFunction scenario on the microtask clock of `onMicrotasks`, logging without counts. */
async function functionOnMicrotasks(
  make: MakeFunction,
  scenario: (make: MakeFunction, log: (event: string) => void) => Promise<void>,
): Promise<string[]> {
  const lines: string[] = [];
  let tick = 0;
  let running = true;
  const counter = (async () => {
    while (running && tick < 100_000) {
      tick++;
      await null;
    }
  })();
  await scenario(make, (event) => lines.push(`tick ${tick} ${event}`));
  running = false;
  await counter;
  return lines;
}

async function sameFunction(run: (make: MakeFunction) => Promise<string[]>): Promise<void> {
  const [expected, actual] = [await run(functionImplementations[0]), await run(functionImplementations[1])];
  assert.ok(expected.length >= 3, "the scenario logged something");
  assert.equal(actual, expected);
}

test("limitFunction: same microtask-level order of starts, ends and settling, with arguments, throws and rejections", () =>
  sameFunction((make) =>
    functionOnMicrotasks(make, async (make, log) => {
      const limited = make(async (id: number, ticks: number) => {
        log(`start ${id}`);
        for (let i = 0; i < ticks; i++) await null;
        if (id === 2) throw new Error(`failed ${id}`);
        log(`end ${id}`);
        return id * 10;
      }, { concurrency: 2 });
      const syncThrow = make(
        (() => {
          log("start sync throw");
          throw new Error("sync");
        }) as never,
        { concurrency: 1 },
      );
      const calls = [3, 0, 2, 5, 1, 4].map((ticks, id) =>
        limited(id, ticks).then((v) => log(`resolved ${v}`), (e: Error) => log(`rejected ${e.message}`))
      );
      calls.push(
        (syncThrow() as Promise<unknown>).then(() => log("no throw?"), (e: Error) => log(`rejected ${e.message}`)),
      );
      log("after the calls");
      await Promise.all(calls);
      log("all settled");
    })
  ));

test("limitFunction: same clearQueue() with rejectOnClear over fake time, and a call after it runs", () =>
  sameFunction(async (make) => {
    const clock = fakeClock();
    try {
      const lines: string[] = [];
      const log = (event: string) => lines.push(`${clock.now}ms ${event}`);
      const sleepy = make(async (id: number) => {
        log(`start ${id}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
        log(`end ${id}`);
        return id;
      }, { concurrency: 2, rejectOnClear: true });
      for (let id = 0; id < 5; id++) {
        void sleepy(id).then((v) => log(`resolved ${v}`), (e: Error) => log(`rejected ${id} ${e.name}`));
      }
      setTimeout(() => {
        sleepy.clearQueue();
        log("cleared");
        void sleepy(9).then((v) => log(`resolved ${v}`));
      }, 5);
      await clock.tickAsync(50);
      assert.is(clock.countTimers(), 0, "the scenario ran to its end");
      return lines;
    } finally {
      clock.uninstall();
    }
  }));

test("limitFunction: same async context, fn runs in the caller's AsyncLocalStorage store", () =>
  sameFunction((make) =>
    functionOnMicrotasks(make, async (make, log) => {
      const store = new AsyncLocalStorage<string>();
      const limited = make(async (name: string) => {
        log(`${name} sees ${store.getStore()}`);
        await null;
        log(`${name} still sees ${store.getStore()}`);
      }, { concurrency: 1 });
      const calls: Promise<void>[] = [];
      for (const name of ["first", "second"]) store.run(name, () => calls.push(limited(name)));
      await Promise.all(calls);
    })
  ));

test("the AsyncLocalStorage scenario really sees the caller's store (on this runtime, with p-limit too)", async () => {
  const lines = await onMicrotasks(pLimit, 1, async (limit, log) => {
    const store = new AsyncLocalStorage<string>();
    const calls: Promise<void>[] = [];
    for (const name of ["a", "b"]) {
      store.run(name, () => calls.push(limit(async () => log(`${name}=${store.getStore()}`))));
    }
    await Promise.all(calls);
  });
  const mine = await onMicrotasks(limiter, 1, async (limit, log) => {
    const store = new AsyncLocalStorage<string>();
    const calls: Promise<void>[] = [];
    for (const name of ["a", "b"]) {
      store.run(name, () => calls.push(limit(async () => log(`${name}=${store.getStore()}`))));
    }
    await Promise.all(calls);
  });
  assert.equal(mine, lines);
  assert.ok(mine.every((line) => /\b(a=a|b=b)\b/.test(line)), mine.join("\n"));
});

test.run();
