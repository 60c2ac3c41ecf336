import { suite } from "uvu";
import * as assert from "uvu/assert";
import { boundedBuffer, OverflowError } from "../mod.ts";
import { collect, hasNext, instrumented, manualSource, rejection, settle } from "./_helpers.ts";

const test = suite("boundedBuffer");

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test("boundedBuffer() delivers every item in order, from async and sync sources", async () => {
  async function* letters() {
    yield* ["a", "b", "c", "d", "e"];
  }
  assert.equal(await collect(boundedBuffer(letters(), 2)), ["a", "b", "c", "d", "e"]);
  assert.equal(await collect(boundedBuffer(range(1, 100), 7)), range(1, 100));
  assert.equal(await collect(boundedBuffer([], 3)), []);
});

test("boundedBuffer() in wait mode reads exactly delivered + capacity from a fast source", async () => {
  const source = instrumented([], { endless: true });
  const it = boundedBuffer(source, 4);
  await hasNext(it, 0);
  await settle();
  assert.is(source.pulls, 1 + 4);
  assert.is(it.held, 4);
  await hasNext(it, 1);
  await hasNext(it, 2);
  await settle();
  assert.is(source.pulls, 3 + 4);
  assert.is(it.held, 4);
  await it.return();
});

test("boundedBuffer() with capacity 1 keeps one read in flight at most while the consumer is idle", async () => {
  const source = manualSource();
  const it = boundedBuffer(source, 1);
  const first = it.next();
  source.push(1);
  assert.equal(await first, { value: 1, done: false });
  await settle();
  assert.is(source.pulls, 2, "one read ahead is in flight");
  source.push(2);
  await settle();
  assert.is(source.pulls, 2, "no read while full");
  assert.is(it.held, 1);
  await it.return();
});

test("boundedBuffer() drop-oldest keeps the newest items and reports the dropped ones", async () => {
  const dropped: number[] = [];
  const it = boundedBuffer(range(1, 10), 4, { overflow: "drop-oldest", onDrop: (item) => dropped.push(item) });
  await hasNext(it, 1);
  await settle();
  assert.is(it.held, 4);
  assert.equal(await collect(it), [7, 8, 9, 10]);
  assert.equal(dropped, [2, 3, 4, 5, 6]);
  assert.is(it.dropped, 5);
});

test("boundedBuffer() drop-newest keeps the oldest items and reports the dropped ones", async () => {
  const dropped: number[] = [];
  const it = boundedBuffer(range(1, 10), 4, { overflow: "drop-newest", onDrop: (item) => dropped.push(item) });
  await hasNext(it, 1);
  await settle();
  assert.equal(await collect(it), [2, 3, 4, 5]);
  assert.equal(dropped, [6, 7, 8, 9, 10]);
  assert.is(it.dropped, 5);
});

test("boundedBuffer() error mode delivers what it holds, then fails with OverflowError and closes the source", async () => {
  const source = instrumented(range(1, 5), { endless: true });
  const it = boundedBuffer(source, 2, { overflow: "error" });
  await hasNext(it, 1);
  await settle();
  await hasNext(it, 2);
  await hasNext(it, 3);
  const error = await rejection(it.next());
  assert.instance(error, OverflowError);
  assert.is((error as OverflowError).capacity, 2);
  assert.is((error as Error).message, "boundedBuffer: overflow, capacity 2 exceeded");
  assert.is(source.closes, 1);
  assert.equal(await it.next(), { value: undefined, done: true });
});

test("boundedBuffer() never holds more than capacity in any mode", async () => {
  for (const overflow of ["wait", "drop-oldest", "drop-newest"] as const) {
    let maxHeld = 0;
    const it = boundedBuffer(range(1, 1000), 8, { overflow });
    await it.next();
    for (let i = 0; i < 50; i++) {
      await Promise.resolve();
      maxHeld = Math.max(maxHeld, it.held);
    }
    assert.is(maxHeld, 8, `${overflow}: full, and never more`);
    await it.return();
  }
});

test("boundedBuffer() fails with the error onDrop throws", async () => {
  const error = new Error("onDrop broke");
  const it = boundedBuffer(range(1, 10), 1, {
    overflow: "drop-newest",
    onDrop: () => {
      throw error;
    },
  });
  await hasNext(it, 1);
  await settle();
  assert.is(await rejection(collect(it)), error);
});

test("boundedBuffer() next(), next(), return(), then the source yields: the calls settle in order", async () => {
  let release: () => void = () => {};
  async function* source() {
    yield 1;
    await new Promise<void>((resolve) => (release = resolve));
    yield 2;
    yield 3;
  }
  const it = boundedBuffer(source(), 2);
  assert.equal(await it.next(), { value: 1, done: false });
  const order: string[] = [];
  const first = it.next().then((result) => (order.push("first"), result));
  const second = it.next().then((result) => (order.push("second"), result));
  const returned = it.return();
  release();
  // The first call was handed the generator's own pending read: it settles with its item, as the generator's would.
  assert.equal(await first, { value: 2, done: false });
  assert.equal(await second, { value: undefined, done: true });
  assert.equal(order, ["first", "second"]);
  assert.equal(await returned, { value: undefined, done: true });
  assert.equal(await it.next(), { value: undefined, done: true });
});

test("boundedBuffer() closes its source with await using", async () => {
  const source = instrumented([], { endless: true });
  {
    await using it = boundedBuffer(source, 2);
    await hasNext(it, 0);
  }
  assert.is(source.closes, 1);
});

const length = (text: string) => text.length;

test("boundedBuffer() with weight holds at most capacity of weight; an item that does not fit waits outside", async () => {
  const source = instrumented(["aa", "bbb", "c", "dddd", "e"]);
  const buffered = boundedBuffer(source, 5, { weight: length });
  await hasNext(buffered, "aa");
  await settle(50);
  // "bbb" and "c" are held (4); "dddd" was read and does not fit: it waits, and reading stops.
  assert.is(source.pulls, 4);
  assert.is(buffered.held, 2);
  assert.is(buffered.heldWeight, 4);
  await hasNext(buffered, "bbb");
  await settle(50);
  assert.is(buffered.held, 2, '"dddd" took the room "bbb" left');
  assert.is(buffered.heldWeight, 5);
  assert.is(source.pulls, 4, "full: nothing more is read");
  assert.equal(await collect(buffered), ["c", "dddd", "e"]);
  assert.is(buffered.heldWeight, 0);
});

test("boundedBuffer() with weight admits an item heavier than capacity alone, so it never deadlocks", async () => {
  const source = instrumented(["a", "huge-item", "b"]);
  const buffered = boundedBuffer(source, 3, { weight: length });
  await hasNext(buffered, "a");
  await settle(50);
  assert.is(buffered.heldWeight, 9, "alone, over the bound");
  assert.is(source.pulls, 2, "and nothing more is read while it is held");
  assert.equal(await collect(buffered), ["huge-item", "b"]);
});

test("boundedBuffer() with weight and drop-oldest drops as many of the oldest as it takes to make room", async () => {
  const lost: string[] = [];
  const buffered = boundedBuffer(["aa", "bb", "c", "dddd"], 5, {
    overflow: "drop-oldest",
    weight: length,
    onDrop: (item) => lost.push(item),
  });
  await hasNext(buffered, "aa");
  await settle(50);
  assert.equal(lost, ["bb"]);
  assert.is(buffered.heldWeight, 5);
  assert.equal(await collect(buffered), ["c", "dddd"]);
});

test("boundedBuffer() a weight that is not a finite number >= 0 fails the iteration with a RangeError naming the item", async () => {
  for (const [bad, shown] of [[-3, "-3"], [NaN, "NaN"], [Infinity, "Infinity"], ["3", '"3"']] as const) {
    const source = instrumented([1, 2, 3, 4]);
    const buffered = boundedBuffer(source, 8, { weight: (n: number) => (n === 3 ? bad as number : n) });
    await hasNext(buffered, 1);
    await hasNext(buffered, 2);
    const error = await buffered.next().then(() => undefined, (thrown) => thrown);
    assert.instance(error, RangeError);
    assert.is(
      (error as Error).message,
      `boundedBuffer: 'weight' must return a finite number >= 0, received ${shown} for item 2`,
    );
    assert.is(source.closes, 1, "the source is closed");
  }
});

test("boundedBuffer() with weight takes a fractional capacity and validates it", () => {
  assert.is(boundedBuffer([], 2.5, { weight: () => 0.5 }).heldWeight, 0);
  assert.throws(
    () => boundedBuffer([], 0, { weight: () => 1 }),
    /boundedBuffer: 'capacity' must be a positive finite number, received 0/,
  );
  assert.throws(
    () => boundedBuffer([], 2, { weight: 5 as never }),
    /boundedBuffer: 'weight' must be a function, received 5/,
  );
});

test.run();
