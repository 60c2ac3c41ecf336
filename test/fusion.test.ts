/**
 * Fusion: a sluice stage that reads another takes its held items without a promise
 * (`Outlet.poll`), and links to the read an empty pass-through stage hands over, so a
 * chain of them answers in one reaction. Every demand rule must come out exactly as it
 * does through the plain async-iterator protocol, which `opaque()` forces by hiding the
 * inner stage behind an object that is not a sluice stage.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { boundedBuffer, concurrencyLimit, meter, rateLimit, sampleNth } from "../mod.ts";
import { at, collect, deferred, fakeClock, instrumented, manualSource, rejection, settle } from "./_helpers.ts";

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

/** `depth` pass-through stages (boundedBuffer and meter, alternating) over `source`, each wrapped by `wrap`. */
function passThroughChain(source: AsyncIterable<number>, depth: number, wrap: Wrap): AsyncIterableIterator<number> {
  let chain = wrap(boundedBuffer(source, 4));
  for (let i = 1; i < depth; i++) {
    chain = wrap(i % 2 === 1 ? meter(chain, { report: () => {} }) : boundedBuffer(chain, 4));
  }
  return chain;
}

/** Microtask turns from the source's item to the consumer's answer, for a `next()` pending on an empty chain. */
async function turnsToAnswer(depth: number, wrap: Wrap): Promise<number> {
  const source = manualSource<number>();
  const chain = passThroughChain(source, depth, wrap);
  // The first item starts every stage's reading; the second is timed.
  source.push(0);
  assert.equal(await chain.next(), { done: false, value: 0 });
  let answered = false;
  const pending = chain.next().then((result) => {
    answered = true;
    return result;
  });
  await settle();
  source.push(7);
  let turns = 0;
  while (!answered) {
    await Promise.resolve();
    turns++;
  }
  assert.equal(await pending, { done: false, value: 7 });
  await chain.return!();
  assert.is(source.closes, 1);
  return turns;
}

test("a chain of empty pass-through stages answers in as many turns as one stage", async () => {
  const one = await turnsToAnswer(1, direct);
  assert.is(await turnsToAnswer(2, direct), one);
  assert.is(await turnsToAnswer(8, direct), one);
  // Through the plain protocol every stage adds its own reaction.
  assert.ok(await turnsToAnswer(8, opaque) > one + 6);
});

test("a linked chain delivers, ends and fails as an unfused one", async () => {
  const items = Array.from({ length: 100 }, (_, i) => i);
  for (const depth of [2, 5, 40]) {
    assert.equal(await collect(passThroughChain(instrumented(items, { delayMs: 0 }), depth, direct)), items);
    const error = new Error("source broke");
    const outcomes: unknown[][] = [];
    for (const wrap of [direct, opaque]) {
      const source = instrumented([1, 2, 3], { error });
      const chain = passThroughChain(source, depth, wrap);
      const seen: unknown[] = [];
      for (let i = 0; i < 3; i++) seen.push((await chain.next()).value);
      seen.push(await rejection(chain.next()), await chain.next());
      assert.is(source.closes, 0);
      outcomes.push(seen);
    }
    assert.equal(outcomes[0], [1, 2, 3, error, { done: true, value: undefined }]);
    assert.equal(outcomes[0], outcomes[1]);
  }
});

test("return() during a linked read settles the pending call with its item and closes the source once", async () => {
  for (const wrap of [direct, opaque]) {
    const gate = deferred<void>();
    let closes = 0;
    const source = async function* (): AsyncGenerator<number> {
      try {
        yield 0;
        await gate.promise;
        yield 1;
        yield 2;
      } finally {
        closes++;
      }
    };
    const chain = passThroughChain(source(), 6, wrap);
    assert.equal(await chain.next(), { done: false, value: 0 });
    const pending = chain.next();
    await settle();
    const closed = chain.return!();
    gate.resolve();
    // As with an async generator, the call made before return() gets what the source yields.
    assert.equal(await pending, { done: false, value: 1 });
    await closed;
    assert.equal(await chain.next(), { done: true, value: undefined });
    await settle();
    assert.is(closes, 1);
  }
});

test.run();
