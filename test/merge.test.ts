import { suite } from "uvu";
import * as assert from "uvu/assert";
import { merge } from "../mod.ts";
import { collect, hasNext, instrumented, manualSource, noNext, rejection, settle } from "./_helpers.ts";

const test = suite("merge");

function* counting(prefix: string) {
  for (let i = 0;; i++) yield `${prefix}${i}`;
}

test("merge() yields every item of every source, each source's items in their order", async () => {
  async function* letters() {
    yield* ["a", "b", "c"];
  }
  const items = await collect(merge<string | number>(letters(), [1, 2, 3, 4, 5], [], new Set([10, 20])));
  assert.is(items.length, 10);
  assert.equal(items.filter((item) => typeof item === "string"), ["a", "b", "c"]);
  assert.equal(items.filter((item) => typeof item === "number" && item < 10), [1, 2, 3, 4, 5]);
  assert.equal(items.filter((item) => typeof item === "number" && item >= 10), [10, 20]);
});

test("merge() with no sources, or only empty ones, is empty", async () => {
  assert.equal(await collect(merge()), []);
  assert.equal(await collect(merge([], [])), []);
});

test("merge([a, b]), mergePriority's shape, is refused with the fix; one array of plain items is still one source", async () => {
  async function* letters() {
    yield "a";
  }
  assert.throws(
    () => merge([letters(), letters()] as never),
    (error: unknown) =>
      error instanceof TypeError &&
      error.message.startsWith("merge: takes its sources as arguments, merge(a, b)") &&
      error.message.includes("merge(...sources)"),
  );
  assert.equal(await collect(merge(["ab", "cd"])), ["ab", "cd"]);
  assert.equal(await collect(merge([[1, 2], [3]])), [[1, 2], [3]]);
});

test("merge() pulls nothing before the first next(), then one read per source", async () => {
  const sources = [
    instrumented([], { endless: true }),
    instrumented([], { endless: true }),
    instrumented([], { endless: true }),
  ];
  const it = merge(...sources);
  await settle();
  assert.equal(sources.map((source) => source.pulls), [0, 0, 0]);
  await hasNext(it, 0);
  await settle();
  assert.equal(sources.map((source) => source.pulls), [1, 1, 1]);
  await it.return();
});

test("merge() does not drain while the consumer is idle: reads <= delivered + sources, one outstanding per source", async () => {
  const sources = [
    instrumented([], { endless: true }),
    instrumented([], { endless: true }),
    instrumented([], { endless: true }),
  ];
  const it = merge(...sources);
  for (let delivered = 1; delivered <= 12; delivered++) {
    await it.next();
    await settle();
    const pulls = sources.map((source) => source.pulls);
    const total = pulls.reduce((sum, pulls) => sum + pulls, 0);
    assert.ok(total <= delivered + sources.length, `after ${delivered} items: ${pulls} reads`);
    // Idle now: more time does not mean more reads.
    await settle(50);
    assert.equal(sources.map((source) => source.pulls), pulls, "no read while the consumer is idle");
  }
  await it.return();
});

test("merge() with a waiting consumer keeps exactly one read in flight per source", async () => {
  const a = manualSource<string>();
  const b = manualSource<string>();
  const it = merge(a, b);
  const first = it.next();
  await settle();
  assert.is(a.pulls, 1);
  assert.is(b.pulls, 1);
  await settle();
  assert.is(a.pulls + b.pulls, 2, "no second read while the first is in flight");
  b.push("b0");
  assert.equal(await first, { value: "b0", done: false });
  await settle();
  assert.is(b.pulls, 1, "b is not read again until the consumer asks");
  const second = it.next();
  await settle();
  assert.is(a.pulls, 1, "a's read is still in flight");
  assert.is(b.pulls, 2);
  a.push("a0");
  assert.equal(await second, { value: "a0", done: false });
  await it.return();
});

test("merge() is fair: two sources that are always ready alternate", async () => {
  const it = merge(counting("a"), counting("b"));
  const items: string[] = [];
  for (let i = 0; i < 10; i++) items.push((await it.next()).value as string);
  assert.equal(items, ["a0", "b0", "a1", "b1", "a2", "b2", "a3", "b3", "a4", "b4"]);
  await it.return();
});

test("merge() of three always-ready sources is round robin", async () => {
  const items = [];
  for await (const item of merge(counting("a"), counting("b"), counting("c"))) {
    items.push(item);
    if (items.length === 9) break;
  }
  assert.equal(items, ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"]);
});

test("merge() never lets an always-ready source starve a slower one", async () => {
  const slow = manualSource<string>();
  const it = merge(counting("fast"), slow);
  assert.equal((await it.next()).value, "fast0");
  for (let round = 0; round < 5; round++) {
    // The slow source yields while the consumer is busy elsewhere.
    slow.push(`slow${round}`);
    await settle();
    const next: string[] = [];
    for (let i = 0; i < 3; i++) next.push((await it.next()).value as string);
    const at = next.indexOf(`slow${round}`);
    assert.ok(at !== -1 && at <= 1, `slow${round} waited behind at most one fast item: ${next}`);
  }
  await it.return();
});

test("merge() return() closes every source still open, once, and pending next() calls resolve done", async () => {
  const a = manualSource();
  const b = manualSource();
  const ended = instrumented([]);
  const it = merge(a, b, ended);
  const first = it.next();
  a.push(1);
  assert.equal(await first, { value: 1, done: false });
  const pending = it.next();
  await it.return();
  assert.equal(await pending, { value: undefined, done: true });
  assert.is(a.closes, 1);
  assert.is(b.closes, 1);
  assert.is(ended.closes, 0, "a source that ended is not closed again");
  await it.return();
  assert.is(a.closes + b.closes, 2, "a second return() closes nothing");
  await noNext(it);
});

test("merge() break in for-await closes every source once", async () => {
  const sources = [instrumented([], { endless: true }), instrumented([], { endless: true })];
  for await (const item of merge(...sources)) {
    if (item > 3) break;
  }
  assert.equal(sources.map((source) => source.closes), [1, 1]);
});

test("merge() on a source error closes the others at once, delivers the items received before it, then the error", async () => {
  const a = manualSource<string>();
  const b = manualSource<string>();
  const c = manualSource<string>();
  const it = merge(a, b, c);
  const first = it.next();
  b.push("b0");
  assert.equal(await first, { value: "b0", done: false });
  c.push("c0"); // arrives while nobody asks: held
  await settle();
  const error = new Error("a failed");
  a.fail(error);
  await settle();
  assert.is(b.closes, 1, "b closed at the error");
  assert.is(c.closes, 1, "c closed at the error");
  assert.is(a.closes, 0, "the failed source is not closed again");
  await hasNext(it, "c0");
  assert.is(await rejection(it.next()), error, "the same error object");
  await noNext(it);
});

test("merge() rejects a waiting next() with a source error and discards later items", async () => {
  const a = manualSource();
  const b = manualSource();
  const it = merge(a, b);
  const pending = it.next();
  await settle();
  const error = new Error("boom");
  b.fail(error);
  assert.is(await rejection(pending), error);
  a.push(1);
  await settle();
  await noNext(it);
  assert.is(a.closes, 1);
});

test("merge() ends after every source ended, delivering held items first", async () => {
  const a = manualSource();
  const b = manualSource();
  const it = merge(a, b);
  const first = it.next();
  a.push(1);
  assert.equal(await first, { value: 1, done: false });
  b.push(2); // held
  b.end();
  await settle();
  const next = it.next(); // takes the held 2; a is read again
  assert.equal(await next, { value: 2, done: false });
  const last = it.next();
  a.end();
  assert.equal(await last, { value: undefined, done: true });
  assert.is(a.closes + b.closes, 0, "sources that ended are not closed");
});

test("merge() settles several next() calls without awaiting in order, each with a different item", async () => {
  const it = merge(["a", "b", "c"], ["x", "y"]);
  const results = await Promise.all([1, 2, 3, 4, 5, 6, 7].map(() => it.next()));
  const values = results.filter((result) => !result.done).map((result) => result.value);
  assert.equal([...values].sort(), ["a", "b", "c", "x", "y"]);
  assert.equal(values.filter((value) => value < "d"), ["a", "b", "c"]);
  assert.ok(results.slice(5).every((result) => result.done));
});

test("merge() reads sync iterables and closes them on early exit", async () => {
  let closed = 0;
  const closable: Iterable<number> = {
    [Symbol.iterator]() {
      let i = 0;
      return { next: () => ({ value: i++, done: false }), return: () => (closed++, { value: undefined, done: true }) };
    },
  };
  const it = merge(closable, [100]);
  await hasNext(it, 0);
  await hasNext(it, 100);
  await it.return();
  assert.is(closed, 1);
});

test("merge() validates every argument at the call, naming it", () => {
  assert.throws(() => merge([], 5 as never), (error: unknown) =>
    error instanceof TypeError &&
    error.message === "merge: 'sources[1]' must be an AsyncIterable or Iterable, received 5");
  assert.throws(
    () => merge(null as never),
    (error: unknown) =>
      error instanceof TypeError && error.message.includes("'sources[0]'") && error.message.includes("received null"),
  );
});

test("merge() types: sources of different item types merge into their union, inferred", async () => {
  const numbers = merge([1], [2]);
  const both = merge<number | string>([1], ["a"]);
  const mixed = merge([1, 2], ["a"]);
  const withAsync = merge(
    [1],
    (async function* () {
      yield "b";
    })(),
    new Set([true]),
  );
  const n: AsyncIterator<number> = numbers;
  const u: AsyncIterator<number | string> = both;
  const m: AsyncIterable<number | string> = mixed;
  const a: AsyncIterable<number | string | boolean> = withAsync;
  // @ts-expect-error: the union is inferred, not widened to any (a string item is not a number)
  const wrong: AsyncIterator<number> = mixed;
  // @ts-expect-error: an explicit item type still checks every source
  merge<number>([1], ["a"]);
  assert.ok(n && u && wrong);
  assert.equal((await collect(m)).sort(), [1, 2, "a"].sort());
  assert.equal((await collect(a)).length, 3);
  void numbers.return();
  void both.return();
  const none = merge();
  assert.equal(await collect(none), []);
});

test.run();
