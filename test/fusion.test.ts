/**
 * Fusion: a sluice stage that reads another takes its held items without a promise
 * (`Outlet.poll`) and waits on it with callbacks (`Outlet.request`). Every demand rule
 * must come out exactly as it does through the plain async-iterator protocol, which
 * `opaque()` forces by hiding the inner stage behind an object that is not a sluice stage.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { boundedBuffer, concurrencyLimit, rateLimit, sampleNth } from "../mod.ts";
import { at, fakeClock, instrumented, rejection, settle } from "./_helpers.ts";

const test = suite("fusion");

/** The same iterator behind a plain object: a reader sees a foreign stage, so nothing fuses. */
function opaque<T>(inner: AsyncIterableIterator<T>): AsyncIterableIterator<T> {
  const wrapper: AsyncIterableIterator<T> = {
    next: () => inner.next(),
    return: (value?: unknown) => inner.return!(value),
    [Symbol.asyncIterator]: () => wrapper,
  };
  return wrapper;
}

type Wrap = <T>(inner: AsyncIterableIterator<T>) => AsyncIterableIterator<T>;
const direct: Wrap = (inner) => inner;

/** Source reads after each step of an idle-then-slow consumer of boundedBuffer(boundedBuffer(src, 4), 3). */
async function readsOfTwoBuffers(wrap: Wrap): Promise<number[]> {
  const source = instrumented(Array.from({ length: 50 }, (_, i) => i));
  const chain = boundedBuffer(wrap(boundedBuffer(source, 4)), 3);
  const seen: number[] = [];
  for (let step = 0; step < 6; step++) {
    const result = await chain.next();
    assert.equal(result, { done: false, value: step });
    await settle();
    seen.push(source.pulls);
  }
  await chain.return();
  assert.is(source.closes, 1);
  return seen;
}

test("two fused boundedBuffers read exactly as many source items as two unfused ones", async () => {
  const fused = await readsOfTwoBuffers(direct);
  const unfused = await readsOfTwoBuffers(opaque);
  assert.equal(fused, unfused);
  // Delivered + both capacities: the outer one holds 3, the inner one 4.
  assert.equal(fused, [8, 9, 10, 11, 12, 13]);
});

test("concurrencyLimit over a fused boundedBuffer never runs more than its limit", async () => {
  for (const wrap of [direct, opaque]) {
    let running = 0;
    let peak = 0;
    const results: number[] = [];
    const calls = concurrencyLimit(wrap(boundedBuffer(Array.from({ length: 40 }, (_, i) => i), 8)), 3, async (n) => {
      peak = Math.max(peak, ++running);
      await settle(2);
      running--;
      return n * 2;
    });
    for await (const value of calls) results.push(value);
    assert.is(peak, 3);
    assert.equal(results, Array.from({ length: 40 }, (_, i) => i * 2));
  }
});

test("rateLimit over a fused boundedBuffer lets through exactly what it does over an unfused one", async () => {
  const counts: number[][] = [];
  for (const wrap of [direct, opaque]) {
    const clock = fakeClock();
    try {
      const limited = rateLimit(wrap(boundedBuffer(Array.from({ length: 12 }, (_, i) => i), 4)), {
        limit: 2,
        intervalMs: 100,
      });
      let delivered = 0;
      const reading = (async () => {
        for await (const _ of limited) delivered++;
      })();
      const seen: number[] = [];
      for (const ms of [0, 50, 100, 150, 200, 350, 600]) {
        await at(clock, ms);
        seen.push(delivered);
      }
      await reading;
      counts.push(seen);
    } finally {
      clock.uninstall();
    }
  }
  assert.equal(counts[0], counts[1]);
  // One token every 50 ms: each pull of the fused stage takes one, as each read of a foreign source does.
  assert.equal(counts[0], [1, 2, 3, 4, 5, 8, 12]);
});

test("an abort of the inner stage reaches the outer one's consumer after what it holds", async () => {
  const controller = new AbortController();
  const reason = new Error("stop");
  const source = instrumented([1, 2, 3], { endless: true });
  const chain = sampleNth(boundedBuffer(source, 2, { signal: controller.signal }), 1);
  assert.equal(await chain.next(), { done: false, value: 1 });
  controller.abort(reason);
  const outcomes: unknown[] = [];
  for (;;) {
    try {
      const result = await chain.next();
      if (result.done) break;
      outcomes.push(result.value);
    } catch (error) {
      outcomes.push(error);
    }
  }
  assert.is(outcomes.at(-1), reason);
  assert.is(source.closes, 1);
});

test("a source error crosses a fused chain after every held item", async () => {
  const error = new Error("source broke");
  const source = instrumented([1, 2, 3, 4], { error });
  const chain = boundedBuffer(boundedBuffer(boundedBuffer(source, 2), 2), 2);
  const items: number[] = [];
  for (let i = 0; i < 4; i++) items.push((await chain.next()).value as number);
  assert.equal(items, [1, 2, 3, 4]);
  assert.is(await rejection(chain.next()), error);
  assert.equal(await chain.next(), { done: true, value: undefined });
});

test("return() on the outer stage of a fused chain closes the source once and ends pending calls", async () => {
  const source = instrumented([], { endless: true, delayMs: 5 });
  const chain = boundedBuffer(boundedBuffer(source, 2), 2);
  const first = chain.next();
  const second = chain.next();
  await chain.return();
  const settled = await Promise.all([first, second]);
  for (const result of settled) assert.ok(result.done || typeof result.value === "number");
  assert.equal(await chain.next(), { done: true, value: undefined });
  await settle();
  assert.is(source.closes, 1);
});

test.run();
