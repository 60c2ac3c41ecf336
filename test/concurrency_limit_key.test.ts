import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { type CallContext, concurrencyLimit, type Settled, TimeoutError } from "../mod.ts";
import {
  at,
  collect,
  countedController,
  deferred,
  instrumented,
  rejection,
  settle,
  thrown,
  unhandledDuring,
  withClock,
} from "./_helpers.ts";

const test = suite("concurrencyLimit key");

/** Items are strings like "a1": the key is the letter. */
const letter = (item: string) => item[0];

/** An fn whose calls the test settles by hand; it records the order calls started and their signals. */
function controlled() {
  const calls = new Map<
    string,
    { context: CallContext; resolve(value: string): void; reject(error: unknown): void }
  >();
  const started: string[] = [];
  const running = new Set<string>();
  let overlaps = 0;
  const fn = (item: string, _index: number, context: CallContext) => {
    if (running.has(letter(item))) overlaps++;
    running.add(letter(item));
    started.push(item);
    const call = deferred<string>();
    calls.set(item, { context, resolve: call.resolve, reject: call.reject });
    return call.promise.finally(() => running.delete(letter(item)));
  };
  return { fn, calls, started, overlaps: () => overlaps };
}

test("key: one call per key at a time, each key's calls in source order, keys in parallel up to the limit", async () => {
  const source = instrumented(["a1", "b1", "a2", "c1", "a3", "b2"]);
  const { fn, calls, started, overlaps } = controlled();
  const it = concurrencyLimit(source, 4, fn, { key: letter });
  const first = it.next();
  await settle();
  // a2 waits for a1 and takes the fourth place: four items read, three calls.
  assert.equal(started, ["a1", "b1", "c1"]);
  assert.is(source.pulls, 4);
  assert.is(it.keys, 3);
  calls.get("a1")!.resolve("A1");
  assert.equal(await first, { value: "A1", done: false });
  await settle();
  assert.equal(started, ["a1", "b1", "c1", "a2"], "a2 starts once a1 is over");
  assert.is(source.pulls, 5, "a3 is read and waits");
  calls.get("b1")!.resolve("B1");
  calls.get("c1")!.resolve("C1");
  assert.equal(await it.next(), { value: "B1", done: false });
  await settle();
  assert.is(it.keys, 2, "c is forgotten, b has b2 running");
  calls.get("a2")!.resolve("A2");
  await settle();
  assert.equal(started, ["a1", "b1", "c1", "a2", "b2", "a3"]);
  calls.get("a3")!.resolve("A3");
  calls.get("b2")!.resolve("B2");
  assert.equal(await collect(it), ["A2", "C1", "A3", "B2"], "in source order");
  assert.is(it.keys, 0);
  assert.is(overlaps(), 0);
});

test("key: items waiting for their key count against the limit, so the source is not read past it", async () => {
  const source = instrumented([], { endless: true });
  let calls = 0;
  const pending: ((value: number) => void)[] = [];
  const it = concurrencyLimit(source, 3, (item: number) => {
    calls++;
    return new Promise<number>((resolve) => pending.push(() => resolve(item)));
  }, { key: () => "one" });
  const first = it.next();
  await settle();
  assert.is(source.pulls, 3);
  assert.is(calls, 1);
  assert.is(it.keys, 1);
  pending.shift()!(0);
  assert.equal(await first, { value: 0, done: false });
  await settle();
  assert.is(source.pulls, 4);
  assert.is(calls, 2);
  await it.return();
  assert.is(source.closes, 1);
  assert.is(it.keys, 0);
});

test("key: ordered, results come in source order, whichever key settles first", async () => {
  const { fn, calls } = controlled();
  const it = concurrencyLimit(["a1", "b1", "a2"], 3, fn, { key: letter });
  const first = it.next();
  await settle();
  calls.get("b1")!.resolve("B1");
  assert.is(await isPending(first), true, "b1 waits behind a1");
  calls.get("a1")!.resolve("A1");
  assert.equal(await first, { value: "A1", done: false });
  assert.equal(await it.next(), { value: "B1", done: false });
  await settle();
  calls.get("a2")!.resolve("A2");
  assert.equal(await collect(it), ["A2"]);
});

test("key: unordered, results come as they settle", async () => {
  const { fn, calls, started } = controlled();
  const it = concurrencyLimit(["a1", "b1", "a2"], 3, fn, { key: letter, ordered: false });
  const first = it.next();
  await settle();
  calls.get("b1")!.resolve("B1");
  assert.equal(await first, { value: "B1", done: false });
  assert.equal(started, ["a1", "b1"]);
  calls.get("a1")!.resolve("A1");
  assert.equal(await it.next(), { value: "A1", done: false });
  await settle();
  assert.equal(started, ["a1", "b1", "a2"]);
  calls.get("a2")!.resolve("A2");
  assert.equal(await collect(it), ["A2"]);
  assert.is(it.keys, 0);
});

test("key: a synchronous fn, and one key throughout: every call in turn, results in order", async () => {
  const seen: number[] = [];
  const it = concurrencyLimit([1, 2, 3, 4, 5, 6, 7], 3, (item) => {
    seen.push(item);
    return item * 10;
  }, { key: () => "same" });
  assert.equal(await collect(it), [10, 20, 30, 40, 50, 60, 70]);
  assert.equal(seen, [1, 2, 3, 4, 5, 6, 7]);
  assert.is(it.keys, 0);
});

test("key: a long line of one key's items that answer synchronously, behind a slow first call, does not grow the stack", async () => {
  const count = 50_000;
  const gate = deferred<void>();
  let keyCalls = 0;
  const it = concurrencyLimit(Array.from({ length: count }, (_, i) => i), count, (i: number) => {
    return i === 0 ? gate.promise.then(() => i) : i;
  }, {
    key: () => {
      keyCalls++;
      return "one";
    },
  });
  const first = it.next();
  await settle();
  assert.is(it.keys, 1);
  gate.resolve();
  assert.equal(await first, { value: 0, done: false });
  let next = 1;
  for await (const value of it) assert.is(value, next++);
  assert.is(next, count);
  assert.is(keyCalls, count, "key is called once per item");
});

test("key: a key's state lives only while it has a call running or an item waiting", async () => {
  const source = instrumented(Array.from({ length: 1000 }, (_, i) => `k${i}`));
  let most = 0;
  const it = concurrencyLimit(source, 4, async (item: string) => {
    await settle(1 + (item.length % 3));
    return item;
  }, { key: (item) => item, ordered: false });
  let count = 0;
  for await (const _ of it) {
    count++;
    most = Math.max(most, it.keys);
  }
  assert.is(count, 1000);
  assert.ok(most >= 1 && most <= 4, `at most the limit of keys alive, saw ${most}`);
  assert.is(it.keys, 0);
});

test(
  "key: timeoutMs bounds each attempt; the next call of the key starts when the timed-out one is over",
  withClock(async (clock) => {
    const starts: string[] = [];
    const fn = (item: string, _index: number, { signal }: CallContext) => {
      starts.push(`${item}@${clock.now}`);
      if (item === "a1") {
        return new Promise<string>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
      }
      return new Promise<string>((resolve) => setTimeout(() => resolve(item), 10));
    };
    const it = concurrencyLimit(["a1", "b1", "a2"], 3, fn, { key: letter, timeoutMs: 50, settle: true });
    const outcomes: Settled<string, string>[] = [];
    const read = (async () => {
      for await (const outcome of it) outcomes.push(outcome);
    })();
    await at(clock, 49);
    assert.equal(starts, ["a1@0", "b1@0"]);
    await at(clock, 50);
    assert.equal(starts, ["a1@0", "b1@0", "a2@50"]);
    await at(clock, 60);
    await read;
    assert.equal(outcomes.map((outcome) => [outcome.item, outcome.ok]), [["a1", false], ["b1", true], ["a2", true]]);
    assert.instance((outcomes[0] as { error: unknown }).error, TimeoutError);
    assert.is(clock.countTimers(), 0);
  }),
);

test(
  "key: a call waiting to be retried keeps its key; the next call of the key starts after the retry succeeds",
  withClock(async (clock) => {
    const starts: string[] = [];
    const fn = async (item: string, _index: number, { attempt }: CallContext) => {
      starts.push(`${item}#${attempt}@${clock.now}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (item === "a1" && attempt === 1) throw new Error("busy");
      return item;
    };
    const it = concurrencyLimit(["a1", "b1", "a2", "b2"], 4, fn, {
      key: letter,
      retry: { attempts: 2, minDelayMs: 100, jitter: "none" },
    });
    const read = collect(it);
    await clock.tickAsync(1000);
    assert.equal(await read, ["a1", "b1", "a2", "b2"]);
    // a1 fails at 10, waits until 110, succeeds at 120: only then a2. b's calls run meanwhile.
    assert.equal(starts, ["a1#1@0", "b1#1@0", "b2#1@10", "a1#2@110", "a2#1@120"]);
    assert.is(clock.countTimers(), 0);
  }),
);

test("key: settle, a failed call frees its key and the next call of the key runs", async () => {
  const error = new Error("a1 failed");
  const { fn, calls, started } = controlled();
  const it = concurrencyLimit(["a1", "a2"], 2, fn, { key: letter, settle: true });
  const first = it.next();
  await settle();
  calls.get("a1")!.reject(error);
  assert.equal(await first, { value: { ok: false, error, item: "a1", index: 0 }, done: false });
  await settle();
  assert.equal(started, ["a1", "a2"]);
  calls.get("a2")!.resolve("A2");
  assert.equal(await collect(it), [{ ok: true, value: "A2", item: "a2", index: 1 }]);
});

test("key: return() with items waiting for their key: no call for them, running calls aborted, nothing left", async () => {
  const source = instrumented(["a1", "a2", "a3", "b1"]);
  const { fn, calls, started } = controlled();
  const it = concurrencyLimit(source, 4, fn, { key: letter });
  const first = it.next();
  await settle();
  const signal = calls.get("a1")!.context.signal;
  const seen = await unhandledDuring(async () => {
    await it.return();
    assert.equal(await first, { value: undefined, done: true });
    calls.get("a1")!.reject(new Error("late"));
    calls.get("b1")!.resolve("late");
    await settle();
  });
  assert.equal(seen, []);
  assert.equal(started, ["a1", "b1"], "a2 and a3 never start");
  assert.is(signal.aborted, true);
  assert.is(source.closes, 1);
  assert.is(it.keys, 0);
  assert.equal(await it.next(), { value: undefined, done: true });
});

test(
  "key: abort with items waiting for their key and a call waiting to be retried: no timer, no listener, no call after",
  withClock(async (clock) => {
    const starts: string[] = [];
    const fn = async (item: string) => {
      starts.push(item);
      await new Promise((resolve) => setTimeout(resolve, 10));
      throw new Error("busy");
    };
    const { controller, listeners } = countedController();
    const it = concurrencyLimit(["a1", "a2", "b1", "b2"], 4, fn, {
      key: letter,
      signal: controller.signal,
      retry: { attempts: 3, minDelayMs: 1000, jitter: "none" },
    });
    const pending = it.next();
    await at(clock, 20);
    assert.equal(starts, ["a1", "b1"]);
    assert.is(clock.countTimers(), 2, "a1 and b1 wait to be retried");
    const reason = new Error("user left");
    controller.abort(reason);
    assert.is(await rejection(pending), reason);
    assert.is(clock.countTimers(), 0);
    assert.is(listeners(), 0);
    await clock.tickAsync(5000);
    assert.equal(starts, ["a1", "b1"]);
    assert.is(it.keys, 0);
  }),
);

test("key: ordered, an error lets the calls before it finish (one waiting for its key included) and stops those after it", async () => {
  const error = new Error("b1 failed");
  const source = instrumented(["a1", "a2", "c1", "b1", "a3"]);
  const { fn, calls, started } = controlled();
  const it = concurrencyLimit(source, 5, fn, { key: letter });
  const first = it.next();
  await settle();
  assert.equal(started, ["a1", "c1", "b1"]);
  calls.get("b1")!.reject(error);
  await settle();
  calls.get("a1")!.resolve("A1");
  assert.equal(await first, { value: "A1", done: false });
  await settle();
  assert.equal(started, ["a1", "c1", "b1", "a2"], "a2 comes before the error: it runs");
  calls.get("a2")!.resolve("A2");
  assert.equal(await it.next(), { value: "A2", done: false });
  await settle();
  assert.equal(started, ["a1", "c1", "b1", "a2"], "a3 comes after the error: it never runs, though c1 still does");
  calls.get("c1")!.resolve("C1");
  assert.equal(await it.next(), { value: "C1", done: false });
  assert.is(await rejection(it.next()), error);
  assert.equal(await it.next(), { value: undefined, done: true });
  assert.equal(started, ["a1", "c1", "b1", "a2"]);
  assert.is(source.closes, 1);
  assert.is(it.keys, 0);
});

test("key: unordered, an error aborts the calls running and no item waiting for its key starts", async () => {
  const error = new Error("b1 failed");
  const { fn, calls, started } = controlled();
  const it = concurrencyLimit(["a1", "a2", "b1", "b2"], 4, fn, { key: letter, ordered: false });
  const first = it.next();
  await settle();
  const signal = calls.get("a1")!.context.signal;
  calls.get("b1")!.reject(error);
  assert.is(await rejection(first), error);
  assert.is(signal.reason, error);
  const seen = await unhandledDuring(async () => {
    calls.get("a1")!.resolve("late");
    await settle();
  });
  assert.equal(seen, []);
  assert.equal(started, ["a1", "b1"]);
  assert.is(it.keys, 0);
});

test("key: a key function that throws fails the iteration with its error, after the results before it", async () => {
  const broken = new Error("no key");
  const source = instrumented([1, 2, 3]);
  const it = concurrencyLimit(source, 1, (item: number) => item, {
    key: (item) => {
      if (item === 2) throw broken;
      return item;
    },
  });
  assert.equal(await it.next(), { value: 1, done: false });
  assert.is(await rejection(it.next()), broken);
  assert.equal(await it.next(), { value: undefined, done: true });
  assert.is(source.closes, 1);
});

test("key: must be a function, checked at the call", () => {
  const error = thrown(() => concurrencyLimit([], 2, (x) => x, { key: "user" as never }));
  assert.instance(error, TypeError);
  assert.is((error as Error).message, "concurrencyLimit: 'key' must be a function, received \"user\"");
  const other = thrown(() => concurrencyLimit([], 2, (x) => x, { key: null as never }));
  assert.is((other as Error).message, "concurrencyLimit: 'key' must be a function, received null");
});

test("key property: random keys, durations, limits and failures, ordered and not: one call per key, in source order, within the limit, each result once", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          key: fc.integer({ min: 0, max: 5 }),
          turns: fc.integer({ min: 0, max: 6 }),
          failures: fc.integer({ min: 0, max: 2 }),
        }),
        { maxLength: 60 },
      ),
      fc.integer({ min: 1, max: 6 }),
      fc.boolean(),
      fc.boolean(),
      fc.boolean(),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 8 }),
      async (items, limit, ordered, settled, asyncSource, pauses) => {
        // Without settle a failure would end the iteration: then no item fails.
        const failuresOf = (index: number) => (settled ? items[index].failures : 0);
        const problems: string[] = [];
        let yielded = 0;
        let finished = 0;
        const running = new Set<number>();
        const startsPerKey = new Map<number, number[]>();
        const check = (where: string) => {
          // Calls running, waiting to be retried or waiting for their key: read and not finished.
          if (yielded - finished > limit) {
            problems.push(`${where}: ${yielded - finished} items in hand, limit ${limit}`);
          }
        };
        function* syncItems() {
          for (let index = 0; index < items.length; index++) {
            yielded++;
            check(`read ${index}`);
            yield index;
          }
        }
        async function* asyncItems() {
          for (const index of syncItems()) {
            if (index % 3 === 0) await Promise.resolve();
            yield index;
          }
        }
        const fn = async (index: number, _at: number, { attempt }: CallContext) => {
          const { key, turns } = items[index];
          if (running.has(key)) problems.push(`key ${key}: item ${index} started while another call of its key ran`);
          running.add(key);
          if (attempt === 1) {
            if (!startsPerKey.has(key)) startsPerKey.set(key, []);
            startsPerKey.get(key)!.push(index);
          }
          check(`start ${index}`);
          for (let i = 0; i < turns; i++) await Promise.resolve();
          running.delete(key);
          const fails = attempt <= failuresOf(index);
          // The last attempt: retried once at most (attempts: 2).
          if (!fails || attempt === 2) finished++;
          if (fails) throw new Error(`item ${index} attempt ${attempt}`);
          return index;
        };
        const it = concurrencyLimit(asyncSource ? asyncItems() : syncItems(), limit, fn, {
          key: (index) => items[index].key,
          ordered,
          settle: settled,
          retry: { attempts: 2, minDelayMs: 0, jitter: "none" },
        });
        const delivered: number[] = [];
        let taken = 0;
        for await (const result of it) {
          if (it.keys > limit) problems.push(`${it.keys} keys alive, limit ${limit}`);
          const index = settled ? (result as Settled<number, number>).index : result as number;
          if (settled) {
            const outcome = result as Settled<number, number>;
            assert.is(outcome.ok, failuresOf(index) < 2, `item ${index}'s outcome`);
          }
          delivered.push(index);
          const pause = pauses[taken++ % pauses.length];
          for (let i = 0; i < pause; i++) await Promise.resolve();
        }
        assert.equal(problems, []);
        const all = items.map((_, index) => index);
        if (ordered) assert.equal(delivered, all, "in source order");
        else assert.equal([...delivered].sort((x, y) => x - y), all, "each exactly once");
        const expected = new Map<number, number[]>();
        items.forEach(({ key }, index) => {
          if (!expected.has(key)) expected.set(key, []);
          expected.get(key)!.push(index);
        });
        assert.equal(startsPerKey, expected, "each key's calls start in source order");
        assert.is(it.keys, 0);
      },
    ),
    { numRuns: 150 },
  );
});

/** True while `promise` has not settled, after letting reactions run. */
async function isPending(promise: Promise<unknown>): Promise<boolean> {
  let pending = true;
  promise.then(() => (pending = false), () => (pending = false));
  await settle();
  return pending;
}

test.run();
