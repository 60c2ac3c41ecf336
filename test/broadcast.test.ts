import fc from "fast-check";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { broadcast, OverflowError } from "../mod.ts";
import type { BroadcastReader } from "../mod.ts";
import {
  at,
  collect,
  countedController,
  delay,
  hasNext,
  instrumented,
  isSettled,
  manualSource,
  noNext,
  rejection,
  settle,
  thrown,
  withClock,
} from "./_helpers.ts";

const test = suite("broadcast");

const range = (count: number, from = 0) => Array.from({ length: count }, (_, i) => from + i);

/** Reads `reader` to its end, pausing `pause(i)` macrotasks after the i-th item. */
async function readAll<T>(reader: AsyncIterable<T>, pause: (i: number) => number = () => 0): Promise<T[]> {
  const items: T[] = [];
  for await (const item of reader) {
    items.push(item);
    for (let turns = pause(items.length - 1); turns > 0; turns--) await delay(0);
  }
  return items;
}

test("broadcast() sends every item to every reader, in order, at their own speeds", async () => {
  const hub = broadcast(instrumented(range(50)), { maxLag: 4 });
  const readers = [hub.subscribe(), hub.subscribe(), hub.subscribe()];
  const seen = await Promise.all(readers.map((reader, id) => readAll(reader, (i) => (i + id) % 3 === 0 ? id : 0)));
  for (const items of seen) assert.equal(items, range(50));
  assert.is(hub.subscribers, 0, "each reader finished with the source");
  assert.is(hub.held, 0);
});

test("broadcast() reads only while every waiting reader is fewer than maxLag behind: a stalled one has exactly maxLag read ahead", async () => {
  const source = instrumented([], { endless: true });
  const hub = broadcast(source, { maxLag: 4 });
  const fast = hub.subscribe();
  const stalled = hub.subscribe();
  for (const expected of range(4)) await hasNext(fast, expected);
  const fifth = fast.next();
  await settle(50);
  assert.is(source.pulls, 4, "a read in flight counts as read: none starts at the bound");
  assert.is(await isSettled(fifth), false, "the fast reader waits for the slow one");
  assert.is(stalled.lag, 4);
  assert.is(fast.lag, 0);
  assert.is(hub.held, 4);
  await hasNext(stalled, 0);
  assert.equal(await fifth, { value: 4, done: false }, "one taken, one more read");
  await settle(50);
  assert.is(source.pulls, 5);
  assert.is(stalled.lag, 4);
  await hub.close();
});

test("broadcast() reads ahead of idle waiting readers up to maxLag, as boundedBuffer does", async () => {
  const source = instrumented([], { endless: true });
  const hub = broadcast(source, { maxLag: 3 });
  const reader = hub.subscribe();
  await hasNext(reader, 0);
  await settle(50);
  assert.is(source.pulls, 4, "delivered + maxLag reads");
  assert.is(reader.lag, 3);
  await hub.close();
});

test("broadcast() reads nothing without a reader, and nothing before the first next()", async () => {
  const source = instrumented([1, 2, 3]);
  const hub = broadcast(source);
  await settle();
  assert.is(source.opens, 0);
  const reader = hub.subscribe();
  await settle();
  assert.is(source.opens, 0, "subscribing reads nothing");
  await hasNext(reader, 1);
  await reader.return();
  const pulls = source.pulls;
  await settle(50);
  assert.is(source.pulls, pulls, "no reader left: nothing more is read");
  assert.is(source.closes, 0, "the source stays open for readers to come");
  assert.is(hub.subscribers, 0);
  await hub.close();
  assert.is(source.closes, 1);
});

test("broadcast() readers created before the first next() all see the first item (a bounded tee)", async () => {
  const hub = broadcast([1, 2, 3, 4, 5, 6], { maxLag: 2 });
  const [a, b] = [hub.subscribe(), hub.subscribe()];
  await hasNext(a, 1);
  await hasNext(a, 2);
  assert.is(b.lag, 2, "the array was read only as far as b allows");
  assert.equal(await Promise.all([collect(b), collect(a)]), [[1, 2, 3, 4, 5, 6], [3, 4, 5, 6]]);
});

test("broadcast() a late reader starts with the next item read, plus up to replay of the latest", async () => {
  const source = manualSource<number>();
  const hub = broadcast(source, { maxLag: 4, replay: 2 });
  const early = hub.subscribe();
  const first = early.next();
  source.push(1);
  assert.equal(await first, { value: 1, done: false });
  const none = hub.subscribe();
  assert.is(none.lag, 1, "one item read so far: one replayed");
  for (const item of [2, 3, 4]) {
    source.push(item);
    await hasNext(early, item);
  }
  const late = hub.subscribe();
  assert.is(late.lag, 2, "replayed items count in lag");
  source.push(5);
  source.end();
  assert.equal(await Promise.all([collect(late), collect(none), collect(early)]), [[3, 4, 5], [1, 2, 3, 4, 5], [5]]);
});

test("broadcast() a drop-oldest reader loses its oldest instead of holding the source back", async () => {
  const source = instrumented(range(10));
  const hub = broadcast(source, { maxLag: 3 });
  const lost: number[] = [];
  const slow = hub.subscribe({ policy: "drop-oldest", onDrop: (item) => lost.push(item) });
  const fast = hub.subscribe();
  assert.equal(await collect(fast), range(10), "the waiting reader is not held back by the dropping one");
  assert.is(slow.lag, 3, "it keeps the latest maxLag");
  assert.equal(lost, range(7), "the oldest went to onDrop, in order");
  assert.is(slow.dropped, 7);
  assert.equal(await collect(slow), [7, 8, 9]);
  assert.is(hub.held, 0);
});

test("broadcast() a detach reader that falls maxLag behind is ended with OverflowError and no longer counts", async () => {
  const source = instrumented(range(10));
  const hub = broadcast(source, { maxLag: 3 });
  const slow = hub.subscribe({ policy: "detach" });
  const fast = hub.subscribe();
  await hasNext(slow, 0);
  assert.equal(await collect(fast), range(10));
  assert.is(slow.lag, 0, "what it held is discarded");
  assert.is(hub.subscribers, 0);
  const error = await rejection(slow.next());
  assert.instance(error, OverflowError);
  assert.is((error as OverflowError).capacity, 3);
  assert.match((error as Error).message, "broadcast: reader detached, more than maxLag 3 behind");
  await noNext(slow);
});

test("broadcast() a detach reader is detached when the item after its maxLag-th untaken one is read, not before", async () => {
  const source = manualSource<number>();
  const hub = broadcast(source, { maxLag: 2 });
  const slow = hub.subscribe({ policy: "detach" });
  const fast = hub.subscribe();
  const pending = fast.next();
  source.push(1);
  await pending;
  source.push(2);
  await hasNext(fast, 2);
  assert.is(slow.lag, 2);
  assert.is(hub.subscribers, 2, "at its bound, still there");
  source.push(3);
  await hasNext(fast, 3);
  assert.is(hub.subscribers, 1);
  assert.instance(await rejection(slow.next()), OverflowError);
  await hub.close();
});

test(
  "broadcast() lagTimeoutMs detaches a waiting reader that held the source back that long, and only then",
  withClock(async (clock) => {
    const source = manualSource<number>();
    const hub = broadcast(source, { maxLag: 2 });
    const stuck = hub.subscribe({ lagTimeoutMs: 100 });
    const fast = hub.subscribe();
    const first = fast.next();
    source.push(1);
    await first;
    source.push(2);
    await hasNext(fast, 2);
    // stuck holds 2: the source is held back from now on.
    const third = fast.next();
    source.push(3);
    await at(clock, 99);
    assert.is(await isSettled(third), false, "held back");
    assert.is(hub.subscribers, 2);
    await at(clock, 100);
    assert.equal(await third, { value: 3, done: false }, "detached at 100 ms: reading resumed");
    assert.is(hub.subscribers, 1);
    const error = await rejection(stuck.next());
    assert.instance(error, OverflowError);
    assert.match((error as Error).message, "it held the source back for 100 ms (lagTimeoutMs)");
    assert.is(clock.countTimers(), 0);
    await hub.close();
  }),
);

test(
  "broadcast() lagTimeoutMs restarts each time the reader reaches its bound again",
  withClock(async (clock) => {
    const source = instrumented([], { endless: true });
    const hub = broadcast(source, { maxLag: 2 });
    const slow = hub.subscribe({ lagTimeoutMs: 100 });
    await hasNext(slow, 0);
    await settle(50);
    assert.is(slow.lag, 2, "at its bound: the timer runs");
    assert.is(clock.countTimers(), 1);
    await at(clock, 90);
    await hasNext(slow, 1);
    await settle(50);
    assert.is(slow.lag, 2, "at its bound again");
    await at(clock, 189);
    assert.is(hub.subscribers, 1, "a new 100 ms from 90 ms");
    await at(clock, 190);
    assert.is(hub.subscribers, 0);
    assert.instance(await rejection(slow.next()), OverflowError);
    assert.is(clock.countTimers(), 0);
    await hub.close();
  }),
);

test("broadcast() a reader's break removes only that reader", async () => {
  const source = instrumented(range(20));
  const hub = broadcast(source, { maxLag: 2 });
  const [leaving, staying] = [hub.subscribe(), hub.subscribe()];
  const all = collect(staying);
  for await (const item of leaving) if (item === 3) break;
  assert.is(source.closes, 0);
  assert.is(hub.subscribers, 1);
  assert.equal(await all, range(20));
  assert.is(source.opens, 1);
});

test("broadcast() a source error reaches every reader after what it holds, as the same object", async () => {
  const source = manualSource<number>();
  const hub = broadcast(source, { maxLag: 4 });
  const [holding, waiting] = [hub.subscribe(), hub.subscribe()];
  const first = waiting.next();
  source.push(1);
  await first;
  source.push(2);
  await hasNext(waiting, 2);
  const pending = waiting.next();
  const error = new Error("feed failed");
  source.fail(error);
  assert.is(await rejection(pending), error, "a waiting reader gets it at once");
  await hasNext(holding, 1);
  await hasNext(holding, 2);
  assert.is(await rejection(holding.next()), error, "after what it held");
  await noNext(holding);
  await noNext(waiting);
  const late = hub.subscribe();
  assert.is(await rejection(late.next()), error, "a reader that comes later learns how it ended");
});

test("broadcast() close() ends every reader after what it holds and closes the source once", async () => {
  const source = instrumented([], { endless: true });
  const hub = broadcast(source, { maxLag: 3, replay: 1 });
  const [a, b] = [hub.subscribe(), hub.subscribe()];
  await hasNext(a, 0);
  await settle(50);
  const pending = a.next();
  await settle();
  await hub.close();
  assert.is(source.closes, 1);
  assert.equal(await collect(b), [0, 1, 2]);
  assert.equal(await pending, { value: 1, done: false });
  assert.equal(await collect(a), [2]);
  assert.equal(await collect(hub.subscribe()), [2], "a later reader gets the replay, then the end");
  await hub.close();
  assert.is(source.closes, 1, "a second close() closes nothing");
  assert.is(hub.subscribers, 0, "every reader drained");
});

test("broadcast() close() rejects with what the source's return() threw", async () => {
  const error = new Error("cannot close");
  const source: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => ({
      next: () => Promise.resolve({ done: false, value: 1 }),
      return: () => Promise.reject(error),
    }),
  };
  const hub = broadcast(source);
  await hasNext(hub.subscribe(), 1);
  await settle(50);
  assert.is(await rejection(hub.close()), error);
});

test("broadcast() signal ends every reader at once and closes the source, leaving no listener", async () => {
  const source = instrumented([], { endless: true });
  const { controller, listeners } = countedController();
  const hub = broadcast(source, { maxLag: 3, signal: controller.signal });
  const [a, b, idle] = [hub.subscribe(), hub.subscribe({ policy: "drop-oldest" }), hub.subscribe()];
  await hasNext(a, 0);
  await hasNext(b, 0);
  await settle(50);
  assert.is(a.lag, 2);
  const reason = new Error("shutdown");
  controller.abort(reason);
  assert.is(await rejection(a.next()), reason, "without the held items first");
  assert.is(await rejection(b.next()), reason);
  assert.is(await rejection(idle.next()), reason, "a reader that never asked too");
  await settle();
  assert.is(source.closes, 1);
  assert.is(listeners(), 0);
  assert.is(hub.subscribers, 0);
  assert.is(hub.held, 0);
  assert.is(await rejection(hub.subscribe().next()), reason);
});

test("broadcast() the shared buffer holds at most maxLag + replay items, whatever the number of readers", async () => {
  const source = instrumented(range(200));
  const hub = broadcast(source, { maxLag: 8, replay: 4 });
  let peak = 0;
  const readers: BroadcastReader<number>[] = [];
  for (let i = 0; i < 50; i++) {
    readers.push(hub.subscribe({ policy: (["wait", "drop-oldest", "detach"] as const)[i % 3] }));
  }
  const results = await Promise.all(readers.map(async (reader, id) => {
    const items: number[] = [];
    try {
      for await (const item of reader) {
        items.push(item);
        peak = Math.max(peak, hub.held);
        if (item % (id + 1) === 0) await delay(0);
      }
    } catch (error) {
      assert.instance(error, OverflowError);
    }
    return items;
  }));
  assert.ok(peak > 0 && peak <= 12, `peak ${peak}`);
  for (const [id, items] of results.entries()) if (id % 3 === 0) assert.equal(items, range(200));
  assert.is(hub.held, 4, "the replay is kept for readers to come");
});

test("broadcast() an onDrop that throws fails only its own reader", async () => {
  const error = new Error("onDrop failed");
  const hub = broadcast(range(10), { maxLag: 2 });
  const throwing = hub.subscribe({
    policy: "drop-oldest",
    onDrop: () => {
      throw error;
    },
  });
  const other = hub.subscribe();
  assert.equal(await collect(other), range(10));
  assert.is(await rejection(throwing.next()), error);
  assert.is(hub.subscribers, 0);
});

test("broadcast() with weight bounds each reader's lag by total weight", async () => {
  const source = instrumented(["aa", "bbb", "c", "dddd", "ee", "f"], { endless: false });
  const hub = broadcast(source, { maxLag: 5, weight: (chunk: string) => chunk.length });
  const slow = hub.subscribe();
  const fast = hub.subscribe();
  await hasNext(fast, "aa");
  await settle(50);
  // Reads while slow holds less than 5: "aa" (2), "bbb" (5): at the bound.
  assert.is(source.pulls, 2);
  assert.is(slow.heldWeight, 5);
  assert.is(hub.heldWeight, 5);
  await hasNext(slow, "aa");
  await settle(50);
  // 3 held: "c" (4), then "dddd" (8), read in flight as the one over the bound.
  assert.is(source.pulls, 4);
  assert.is(slow.heldWeight, 8);
  const rest = ["bbb", "c", "dddd", "ee", "f"];
  assert.equal(await Promise.all([collect(slow), collect(fast)]), [rest, rest]);
});

test("broadcast() with weight admits an item heavier than maxLag alone, and drop-oldest keeps it", async () => {
  const hub = broadcast(["a", "huge-item", "b"], { maxLag: 3, weight: (chunk: string) => chunk.length });
  const lost: string[] = [];
  const dropping = hub.subscribe({ policy: "drop-oldest", onDrop: (item) => lost.push(item) });
  const fast = hub.subscribe();
  assert.equal(await collect(fast), ["a", "huge-item", "b"]);
  assert.equal(lost, ["a", "huge-item"]);
  assert.equal(await collect(dropping), ["b"]);
});

test("broadcast() a weight that is not a finite number >= 0 fails every reader with a RangeError naming the item", async () => {
  const source = instrumented([1, 2, -3, 4]);
  const hub = broadcast(source, { weight: (n: number) => n });
  const [a, b] = [hub.subscribe(), hub.subscribe()];
  assert.equal(
    await collect(b).catch((error) => error.message),
    "broadcast: 'weight' must return a finite number >= 0, received -3 for item 2",
  );
  await hasNext(a, 1);
  await hasNext(a, 2);
  assert.instance(await rejection(a.next()), RangeError);
  assert.is(source.closes, 1, "the source is closed");
});

test("broadcast.subscribe() validates its options, naming the call, the parameter and the value", () => {
  const hub = broadcast([]);
  const cases: [() => unknown, typeof Error, string][] = [
    [() => hub.subscribe(null as never), TypeError, "broadcast.subscribe: 'options' must be an object, received null"],
    [
      () => hub.subscribe({ policy: "latest" as never }),
      RangeError,
      `broadcast.subscribe: 'policy' must be one of "wait", "drop-oldest", "detach", received "latest"`,
    ],
    [
      () => hub.subscribe({ lagTimeoutMs: 0 }),
      RangeError,
      "broadcast.subscribe: 'lagTimeoutMs' must be a positive finite number, received 0",
    ],
    [
      () => hub.subscribe({ policy: "drop-oldest", lagTimeoutMs: 50 }),
      RangeError,
      `broadcast.subscribe: 'lagTimeoutMs' applies to policy "wait" only, received 50 with policy "drop-oldest"`,
    ],
    [
      () => hub.subscribe({ onDrop: 1 as never }),
      TypeError,
      "broadcast.subscribe: 'onDrop' must be a function, received 1",
    ],
  ];
  for (const [call, type, message] of cases) {
    const error = thrown(call);
    assert.instance(error, type);
    assert.is((error as Error).message, message);
  }
  assert.is(hub.subscribers, 0, "a refused subscribe adds no reader");
});

test("broadcast() readers are async-disposable: await using leaves the hub", async () => {
  const source = instrumented([], { endless: true });
  const hub = broadcast(source);
  const staying = hub.subscribe();
  {
    const reader = hub.subscribe();
    await hasNext(reader, 0);
    await reader[Symbol.asyncDispose]();
  }
  assert.is(hub.subscribers, 1);
  await hasNext(staying, 0);
  await hub[Symbol.asyncDispose]();
  assert.is(source.closes, 1);
});

test("broadcast() drains the source while only dropping readers remain, pausing for timers", async () => {
  async function* endless() {
    let i = 0;
    while (true) yield i++;
  }
  const hub = broadcast(endless(), { maxLag: 4 });
  const reader = hub.subscribe({ policy: "drop-oldest" });
  await hasNext(reader, 0);
  const started = performance.now();
  await delay(10);
  assert.ok(performance.now() - started < 1000, "a timer fired while the hub drained");
  assert.ok(reader.dropped > 0);
  assert.is(reader.lag, 4);
  await hub.close();
});

test.run();

const property = suite("broadcast property");

type Policy = "wait" | "drop-oldest" | "detach";

interface ReaderPlan {
  policy: Policy;
  /** Pause after each item, cycled: 0 none, 1-2 that many microtask turns, 3 one macrotask. */
  pauses: number[];
  /** Subscribe while item `joinAt` is being read (0: before reading starts). */
  joinAt: number;
  /** Leave (break) after this many items, if set. */
  breakAfter: number | undefined;
}

const readerPlan = fc.record({
  policy: fc.constantFrom<Policy>("wait", "drop-oldest", "detach"),
  pauses: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 6 }),
  joinAt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40 })),
  breakAfter: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
});

property(
  "broadcast() per reader: a subsequence of the source in order, no duplicate, nothing lost under wait, the shared buffer within maxLag + replay",
  async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 0, max: 60 }),
        fc.array(readerPlan, { minLength: 1, maxLength: 5 }),
        async (maxLag, replay, length, plans) => {
          const bound = maxLag + replay;
          let peak = 0;
          const observe = () => (peak = Math.max(peak, hub.held));
          const runs: Promise<void>[] = [];
          const outcomes: { plan: ReaderPlan; start: number; items: number[]; lost: number[]; detached: boolean }[] =
            [];
          const join = (plan: ReaderPlan, start: number) => {
            const outcome = { plan, start, items: [] as number[], lost: [] as number[], detached: false };
            outcomes.push(outcome);
            const reader = hub.subscribe({ policy: plan.policy, onDrop: (item) => outcome.lost.push(item) });
            runs.push((async () => {
              try {
                for await (const item of reader) {
                  observe();
                  if (outcome.items.length === plan.breakAfter) break;
                  outcome.items.push(item);
                  const pause = plan.pauses[outcome.items.length % plan.pauses.length];
                  if (pause === 3) await delay(0);
                  else await settle(pause);
                }
              } catch (error) {
                assert.instance(error, OverflowError);
                outcome.detached = true;
              }
            })());
          };
          async function* source() {
            for (let i = 0; i < length; i++) {
              // Readers that join now subscribe while item i is being read.
              for (const plan of plans) if (plan.joinAt === i && i > 0) join(plan, Math.max(0, i - replay));
              observe();
              yield i;
            }
          }
          const hub = broadcast(source(), { maxLag, replay });
          for (const plan of plans) if (plan.joinAt === 0 || plan.joinAt >= length) join(plan, 0);
          // Readers join while others run: wait until every run, the late ones too, has ended.
          for (let ended = 0; ended < runs.length;) {
            const count = runs.length;
            await Promise.all(runs);
            ended = count;
          }
          for (const { plan, start, items, lost, detached } of outcomes) {
            const expected = range(Math.max(0, length - start), start);
            for (let i = 1; i < items.length; i++) {
              assert.ok(items[i - 1] < items[i], `in order, no duplicate: ${items}`);
            }
            assert.ok(items.every((item) => item >= start && item < length), `${items} from ${start}`);
            const limit = plan.breakAfter ?? Infinity;
            if (plan.policy === "wait") {
              assert.equal(items, expected.slice(0, limit), "nothing lost under wait");
            } else if (plan.policy === "detach") {
              assert.equal(items, expected.slice(0, items.length), "a prefix until detached");
              if (!detached && plan.breakAfter === undefined) assert.equal(items, expected);
            } else if (plan.breakAfter === undefined) {
              assert.equal([...items, ...lost].sort((a, b) => a - b), expected, "each item taken or dropped");
            }
          }
          assert.ok(peak <= bound, `the shared buffer held ${peak} > ${bound}`);
          assert.is(hub.subscribers, 0);
        },
      ),
      { numRuns: 60 },
    );
  },
);

property.run();
