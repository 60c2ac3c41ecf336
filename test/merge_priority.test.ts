import { suite } from "uvu";
import * as assert from "uvu/assert";
import { merge, mergePriority } from "../mod.ts";
import {
  collect,
  countedController,
  hasNext,
  instrumented,
  manualSource,
  noNext,
  rejection,
  settle,
  thrown,
} from "./_helpers.ts";

const test = suite("mergePriority");

function* counting(prefix: string) {
  for (let i = 0;; i++) yield `${prefix}${i}`;
}

/** Reads `count` items, letting every source's read settle before each next(): the consumer is the bottleneck. */
async function readBusy<T>(it: AsyncIterator<T>, count: number): Promise<T[]> {
  const items: T[] = [];
  for (let i = 0; i < count; i++) {
    await settle();
    const result = await it.next();
    if (result.done) break;
    items.push(result.value);
  }
  return items;
}

test("mergePriority() yields every item of every source, each source's items in their order", async () => {
  async function* letters() {
    yield* ["a", "b", "c"];
  }
  const items = await collect(mergePriority<string | number>([letters(), [1, 2, 3, 4, 5], [], new Set([10, 20])]));
  assert.is(items.length, 10);
  assert.equal(items.filter((item) => typeof item === "string"), ["a", "b", "c"]);
  assert.equal(items.filter((item) => typeof item === "number" && item < 10), [1, 2, 3, 4, 5]);
  assert.equal(items.filter((item) => typeof item === "number" && item >= 10), [10, 20]);
});

test("mergePriority() of no sources, or only empty ones, is empty", async () => {
  assert.equal(await collect(mergePriority([])), []);
  assert.equal(await collect(mergePriority([[], []])), []);
});

test("mergePriority() gives the waiting item of the earliest source, not the one that arrived first", async () => {
  const a = manualSource<string>();
  const b = manualSource<string>();
  const c = manualSource<string>();
  const it = mergePriority([a, b, c]);
  const first = it.next();
  c.push("c0"); // nothing else is ready: it goes out at once
  assert.equal(await first, { value: "c0", done: false });
  await settle();
  c.push("c1"); // read again only now, at the next next(): nothing is read before that
  await settle();
  assert.is(c.pulls, 1, "c is not read while nobody asks");
  const second = it.next(); // reads c again; a and b still have their first reads in flight
  await settle();
  c.push("c1");
  b.push("b0");
  assert.equal(await second, { value: "c1", done: false }, "the first to arrive goes to the waiting next()");
  a.push("a0");
  await settle();
  // b0 and a0 wait, and c's next item arrives too: a wins, then b, then c.
  await hasNext(it, "a0");
  await settle();
  await hasNext(it, "b0");
  await settle();
  await hasNext(it, "c1");
  await it.return();
});

test("mergePriority() with a busy consumer serves the earlier source and gives a later one 1 in fairness + 1", async () => {
  const items = await readBusy(mergePriority([counting("a"), counting("b")], { fairness: 3 }), 18);
  assert.equal(items, [
    "a0",
    "b0",
    "a1",
    "a2",
    "a3",
    "b1",
    "a4",
    "a5",
    "a6",
    "b2",
    "a7",
    "a8",
    "a9",
    "b3",
    "a10",
    "a11",
    "a12",
    "b4",
  ]);
});

test("mergePriority() default fairness is 16", async () => {
  const items = await readBusy(mergePriority([counting("a"), counting("b")]), 2 + 17 * 3);
  const lows = items.map((item, i) => (item.startsWith("b") ? i : -1)).filter((i) => i >= 0);
  assert.equal(lows, [1, 18, 35, 52]);
});

test("mergePriority() with fairness 0 serves waiting items in the order they arrived, as merge does", async () => {
  const sources = () => [counting("a"), counting("b"), counting("c")];
  const prioritized = await readBusy(mergePriority(sources(), { fairness: 0 }), 12);
  const merged = await readBusy(merge(...sources()), 12);
  assert.equal(prioritized, merged);
  assert.equal(prioritized.slice(0, 6), ["a0", "b0", "c0", "a1", "b1", "c1"]);
});

test("mergePriority() starves no source among several: each waits at most fairness + (starved sources - 1) items", async () => {
  const fairness = 2;
  const items = await readBusy(
    mergePriority([counting("a"), counting("b"), counting("c"), counting("d")], { fairness }),
    200,
  );
  for (const name of ["b", "c", "d"]) {
    const at = items.map((item, i) => (item.startsWith(name) ? i : -1)).filter((i) => i >= 0);
    assert.ok(at.length >= 40, `${name} got ${at.length} of 200`);
    for (let k = 1; k < at.length; k++) {
      // Its next item arrived right after the previous one went out.
      assert.ok(at[k] - at[k - 1] - 1 <= fairness + 3 - 1, `${name} waited ${at[k] - at[k - 1] - 1} items`);
    }
  }
  assert.ok(items.filter((item) => item.startsWith("a")).length > 50, "the first source gets the most");
});

test("mergePriority() reads only on demand: an idle consumer stops every source after one item each", async () => {
  const sources = [instrumented([], { endless: true }), instrumented([], { endless: true })];
  const it = mergePriority(sources);
  await settle();
  assert.equal(sources.map((source) => source.pulls), [0, 0]);
  for (let delivered = 1; delivered <= 10; delivered++) {
    await it.next();
    await settle();
    const pulls = sources.map((source) => source.pulls);
    assert.ok(pulls[0] + pulls[1] <= delivered + 2, `after ${delivered} items: ${pulls} reads`);
    await settle(50);
    assert.equal(sources.map((source) => source.pulls), pulls, "no read while the consumer is idle");
  }
  await it.return();
});

test("mergePriority() return() closes every open source once; pending next() calls resolve done", async () => {
  const a = manualSource();
  const b = manualSource();
  const ended = instrumented([]);
  const it = mergePriority([a, b, ended]);
  const first = it.next();
  b.push(1);
  assert.equal(await first, { value: 1, done: false });
  const pending = it.next();
  await it.return();
  assert.equal(await pending, { value: undefined, done: true });
  assert.equal([a.closes, b.closes, ended.closes], [1, 1, 0]);
  await it.return();
  assert.is(a.closes + b.closes, 2, "a second return() closes nothing");
  await noNext(it);
});

test("mergePriority() on a source error closes the others, delivers what waited, then the same error", async () => {
  const a = manualSource<string>();
  const b = manualSource<string>();
  const c = manualSource<string>();
  const it = mergePriority([a, b, c]);
  const first = it.next();
  c.push("c0");
  assert.equal(await first, { value: "c0", done: false });
  b.push("b0");
  await settle();
  const error = new Error("a failed");
  a.fail(error);
  await settle();
  assert.equal([a.closes, b.closes, c.closes], [0, 1, 1], "b and c closed at the error; a finished by itself");
  await hasNext(it, "b0");
  assert.is(await rejection(it.next()), error);
  await noNext(it);
});

test("mergePriority() signal: abort rejects the pending next() with the reason and closes every source", async () => {
  const a = manualSource();
  const b = manualSource();
  const { controller, listeners } = countedController();
  const it = mergePriority([a, b], { signal: controller.signal });
  const first = it.next();
  a.push(1);
  await hasNext({ next: () => first }, 1);
  assert.is(listeners(), 1);
  const pending = it.next();
  const reason = new Error("stop");
  controller.abort(reason);
  assert.is(await rejection(pending), reason);
  await settle();
  assert.equal([a.closes, b.closes], [1, 1]);
  assert.is(listeners(), 0);
  await noNext(it);
});

test("mergePriority() takes a copy of the sources array", async () => {
  const sources: Iterable<number>[] = [[1]];
  const it = mergePriority(sources);
  sources.push([2]);
  assert.equal(await collect(it), [1]);
});

test("mergePriority() validates its arguments at the call, naming the parameter and the value", () => {
  const cases: [() => unknown, ErrorConstructor, string][] = [
    [
      () => mergePriority(5 as never),
      TypeError,
      "mergePriority: 'sources' must be an array of sources, received 5",
    ],
    [
      () => mergePriority([[], 5 as never]),
      TypeError,
      "mergePriority: 'sources[1]' must be an AsyncIterable or Iterable, received 5",
    ],
    [
      () => mergePriority([], { fairness: -1 }),
      RangeError,
      "mergePriority: 'fairness' must be a non-negative integer, received -1",
    ],
    [
      () => mergePriority([], { fairness: 1.5 }),
      RangeError,
      "mergePriority: 'fairness' must be a non-negative integer, received 1.5",
    ],
    [() => mergePriority([], null as never), TypeError, "mergePriority: 'options' must be an object, received null"],
    [
      () => mergePriority([], { signal: {} as never }),
      TypeError,
      "mergePriority: 'signal' must be an AbortSignal, received an object",
    ],
  ];
  for (const [call, type, message] of cases) {
    const error = thrown(call);
    assert.instance(error, type);
    assert.is((error as Error).message, message);
  }
});

test("mergePriority() types: the union of the sources' item types", async () => {
  const mixed = mergePriority([[1, 2], ["stop"]]);
  const typed: AsyncIterator<number | string> = mixed;
  // @ts-expect-error: the items are number | string, not number
  const narrow: AsyncIterator<number> = mixed;
  assert.ok(typed && narrow);
  assert.equal(await collect(mixed), [1, "stop", 2]);
});

test.run();
