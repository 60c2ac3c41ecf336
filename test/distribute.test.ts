import { suite } from "uvu";
import * as assert from "uvu/assert";
import { distribute } from "../mod.ts";
import {
  collect,
  countedController,
  delay,
  hasNext,
  instrumented,
  manualSource,
  noNext,
  rejection,
  settle,
} from "./_helpers.ts";

const test = suite("distribute");

const range = (count: number) => Array.from({ length: count }, (_, i) => i);

test("distribute() gives each item to exactly one consumer", async () => {
  const consumers = distribute(range(100), 4);
  assert.is(consumers.length, 4);
  const taken = await Promise.all(consumers.map(async (consumer, id) => {
    const items: number[] = [];
    for await (const item of consumer) {
      items.push(item);
      if ((item + id) % 3 === 0) await delay(0);
    }
    return items;
  }));
  for (const items of taken) assert.equal(items, [...items].sort((a, b) => a - b), "each consumer sees source order");
  assert.equal(taken.flat().sort((a, b) => a - b), range(100));
});

test("distribute() with one consumer is the source itself", async () => {
  const [only] = distribute([1, 2, 3], 1);
  assert.equal(await collect(only), [1, 2, 3]);
});

test("distribute() reads nothing ahead: one read per waiting next(), none before", async () => {
  const source = instrumented([], { endless: true });
  const [a, b] = distribute(source, 2);
  await settle();
  assert.is(source.opens, 0);
  await hasNext(a, 0);
  await settle();
  assert.is(source.pulls, 1, "one request, one read");
  await hasNext(b, 1);
  await hasNext(a, 2);
  await settle(50);
  assert.is(source.pulls, 3, "no read while nobody asks");
  await a.return();
  await b.return();
});

test("distribute() reads one at a time and answers requests in the order they were made", async () => {
  const source = manualSource<string>();
  const [a, b] = distribute(source, 2);
  const first = b.next();
  const second = a.next();
  const third = b.next();
  await settle();
  assert.is(source.pulls, 1, "one read in flight");
  source.push("one");
  source.push("two");
  source.push("three");
  assert.equal(await first, { value: "one", done: false });
  assert.equal(await second, { value: "two", done: false });
  assert.equal(await third, { value: "three", done: false });
  assert.is(source.pulls, 3);
  await a.return();
  await b.return();
});

test("distribute() lets a faster consumer take more", async () => {
  const source = instrumented(range(30));
  const [fast, slow] = distribute(source, 2);
  const counts = [0, 0];
  await Promise.all([
    (async () => {
      for await (const _ of fast) {
        counts[0]++;
        await settle(2);
      }
    })(),
    (async () => {
      for await (const _ of slow) {
        counts[1]++;
        await settle(40);
      }
    })(),
  ]);
  assert.is(counts[0] + counts[1], 30);
  assert.ok(counts[0] > 3 * counts[1], `fast took ${counts[0]}, slow took ${counts[1]}`);
});

test("distribute() one consumer breaking does not end the others; the source closes when the last one finishes", async () => {
  const source = instrumented([], { endless: true });
  const [a, b, c] = distribute(source, 3);
  for await (const item of a) {
    if (item >= 1) break;
  }
  assert.is(source.closes, 0, "a left, b and c have not finished");
  await hasNext(b, 2);
  await c.return();
  assert.is(source.closes, 0, "b has not finished");
  await hasNext(b, 3);
  await b.return();
  assert.is(source.closes, 1, "closed once, by the last consumer");
  await a.return();
  await noNext(b);
  assert.is(source.closes, 1);
});

test("distribute() an item read for a consumer that left goes to the next request, not lost", async () => {
  const source = manualSource();
  const [a, b] = distribute(source, 2);
  const lost = a.next();
  await settle();
  const waiting = b.next();
  await a.return();
  assert.equal(await lost, { value: undefined, done: true });
  source.push(1);
  assert.equal(await waiting, { value: 1, done: false }, "b's later request gets it");
  assert.is(source.closes, 0);
  await b.return();
  assert.is(source.closes, 1);
});

test("distribute() keeps an item whose requester left for the next request, without reading again", async () => {
  const source = manualSource();
  const [a, b] = distribute(source, 2);
  const pending = a.next();
  await settle();
  await a.return();
  await pending;
  source.push(7); // arrives for nobody
  await settle();
  assert.is(source.pulls, 1);
  assert.equal(await b.next(), { value: 7, done: false });
  assert.is(source.pulls, 1, "the kept item answered the request");
  await b.return();
});

test("distribute() source end ends every consumer, including one never iterated", async () => {
  const source = instrumented([1, 2]);
  const [a, b, c] = distribute(source, 3);
  await hasNext(a, 1);
  await hasNext(b, 2);
  await noNext(a);
  await noNext(b);
  await noNext(c);
  assert.is(source.closes, 0, "a source that ended is not closed");
});

test("distribute() source error: the consumer it answered gets it first, every other one once at its next call, then done", async () => {
  const error = new Error("source failed");
  const source = manualSource();
  const [a, b, c] = distribute(source, 3);
  const first = a.next();
  const second = b.next();
  await settle();
  source.fail(error);
  assert.is(await rejection(first), error, "the requester");
  assert.is(await rejection(second), error, "a consumer waiting behind it");
  assert.is(await rejection(c.next()), error, "a consumer that asks later");
  await noNext(a);
  await noNext(b);
  await noNext(c);
  assert.is(source.closes, 0, "a source that threw is not closed");
});

test("distribute() source error goes first to the oldest waiting request, not to the first consumer in the array", async () => {
  const error = new Error("source failed");
  const source = manualSource();
  const [a, b, c] = distribute(source, 3);
  const order: string[] = [];
  const note = (name: string, call: Promise<unknown>) =>
    call.then(() => order.push(`${name} resolved`), (reason) => order.push(reason === error ? name : `${name} other`));
  const calls = [note("c", c.next()), note("b", b.next()), note("a", a.next())];
  await settle();
  assert.is(source.pulls, 1, "one read, for c's request");
  source.fail(error);
  await Promise.all(calls);
  assert.equal(order, ["c", "b", "a"], "rejected in the order the requests were made");
});

test("distribute() a source that breaks the protocol fails the oldest waiting request first, then the others, and is closed", async () => {
  let pulls = 0;
  let closes = 0;
  const broken: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        pulls++;
        return Promise.resolve(42 as never);
      },
      return: () => {
        closes++;
        return Promise.resolve({ done: true, value: undefined });
      },
    }),
  };
  const [a, b] = distribute(broken, 2);
  const order: [string, Error][] = [];
  const calls = [
    b.next().catch((error) => order.push(["b", error])),
    a.next().catch((error) => order.push(["a", error])),
  ];
  await Promise.all(calls);
  assert.equal(order.map(([name]) => name), ["b", "a"]);
  const [[, first], [, second]] = order;
  assert.instance(first, TypeError);
  assert.is(second, first, "the same error object");
  assert.match(first.message, /^distribute: the source broke the iterator protocol/);
  assert.is(pulls, 1);
  await settle();
  assert.is(closes, 1, "a broken source is not finished: it is closed");
});

test("distribute() with a signal: abort ends every consumer and closes the source at once", async () => {
  const source = manualSource();
  const { controller, listeners } = countedController();
  const [a, b, c] = distribute(source, 3, { signal: controller.signal });
  assert.is(listeners(), 0, "lazy: no listener before next()");
  const first = a.next();
  source.push(1);
  assert.equal(await first, { value: 1, done: false });
  const pending = b.next();
  const reason = new Error("stop");
  controller.abort(reason);
  assert.is(await rejection(pending), reason);
  await settle();
  assert.is(source.closes, 1, "closed although c never iterated");
  assert.is(listeners(), 0);
  assert.is(await rejection(a.next()), reason);
  assert.is(await rejection(c.next()), reason);
  await noNext(a);
  await noNext(c);
});

test("distribute() with an already-aborted signal rejects each consumer's first next() and opens nothing", async () => {
  const source = instrumented([1]);
  const reason = new Error("too late");
  const [a, b] = distribute(source, 2, { signal: AbortSignal.abort(reason) });
  assert.is(await rejection(a.next()), reason);
  assert.is(await rejection(b.next()), reason);
  assert.is(source.opens, 0);
});

test("distribute() several next() calls of one consumer without awaiting settle in order", async () => {
  const [a, b] = distribute([1, 2, 3], 2);
  const results = await Promise.all([a.next(), a.next(), b.next(), a.next(), a.next()]);
  assert.equal(results.map((result) => result.value), [1, 2, 3, undefined, undefined]);
  await noNext(b);
});

test("distribute() validates its arguments at the call", () => {
  const cases: [() => unknown, typeof TypeError | typeof RangeError, string][] = [
    [
      () => distribute(3 as never, 2),
      TypeError,
      "distribute: 'source' must be an AsyncIterable or Iterable, received 3",
    ],
    [() => distribute([], 0), RangeError, "distribute: 'consumers' must be a positive integer, received 0"],
    [() => distribute([], 1.5), RangeError, "distribute: 'consumers' must be a positive integer, received 1.5"],
    [() => distribute([], 2, null as never), TypeError, "distribute: 'options' must be an object, received null"],
    [
      () => distribute([], 2, { signal: "x" as never }),
      TypeError,
      "distribute: 'signal' must be an AbortSignal, received \"x\"",
    ],
  ];
  for (const [call, type, message] of cases) {
    assert.throws(call, (error: unknown) => error instanceof type && (error as Error).message === message, message);
  }
});

test.run();
