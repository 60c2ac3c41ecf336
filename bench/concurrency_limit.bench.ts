/**
 * concurrencyLimit: map 200k items through a trivially async function
 * (`async (x) => x`) with at most 8 calls pending. With a function this cheap
 * what is measured is the machinery: slots, ordering, the pull loop.
 *
 * Peers with the same operation: ordered, p-map `pMapIterable`,
 * streaming-iterables `parallelMap`, it-parallel (`ordered: true`); unordered,
 * streaming-iterables `transform`, it-parallel (`ordered: false`), ix
 * `flatMap(fn, 8)`. (p-limit limits calls but yields no iterable: it is the
 * peer of `limiter`, not of this.)
 */
import { from } from "ix/asynciterable";
import { flatMap } from "ix/asynciterable/operators";
import parallel from "it-parallel";
import { pMapIterable } from "p-map";
import { parallelMap, transform } from "streaming-iterables";
import { concurrencyLimit } from "../mod.ts";
import { benchFile, identityAsync, ITEMS, numberArray, numbers } from "./_harness.ts";

const N = ITEMS;
const LIMIT = 8;
const fn = identityAsync<number>;

/** Hand-written ordered: a window of at most `limit` promises, awaited from its head. */
async function* mapOrdered<T, R>(
  source: AsyncIterable<T> | Iterable<T>,
  limit: number,
  map: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const window: Promise<R>[] = [];
  for await (const item of source) {
    window.push(map(item));
    if (window.length >= limit) yield await window.shift()!;
  }
  while (window.length > 0) yield await window.shift()!;
}

/**
 * Hand-written unordered: at most `limit` calls; each settled result goes to a
 * queue, and the generator waits for a settle only when the queue is empty.
 */
async function* mapUnordered<T, R>(
  source: AsyncIterable<T> | Iterable<T>,
  limit: number,
  map: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const iterator = (Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]()) as
    | AsyncIterator<T>
    | Iterator<T>;
  const settled: R[] = [];
  let wake: (() => void) | undefined;
  let running = 0;
  let done = false;
  const onSettled = (value: R) => {
    running--;
    settled.push(value);
    wake?.();
  };
  for (;;) {
    while (!done && running + settled.length < limit) {
      const result = await iterator.next();
      if (result.done) done = true;
      else {
        running++;
        map(result.value).then(onSettled);
      }
    }
    if (settled.length === 0) {
      if (running === 0) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
    yield settled.shift()!;
  }
}

/** it-parallel takes a source of thunks. */
async function* thunks<T, R>(source: AsyncIterable<T> | Iterable<T>, map: (item: T) => Promise<R>) {
  for await (const item of source) yield () => map(item);
}

export default benchFile(import.meta, [
  {
    id: "concurrencyLimit/ordered",
    title: "concurrencyLimit(8), ordered, async source",
    items: N,
    targets: [{ against: "peer", min: 1.5 }],
    cases: [
      { name: "sluice concurrencyLimit(8)", role: "sluice", iterate: () => concurrencyLimit(numbers(N), LIMIT, fn) },
      {
        name: "p-map pMapIterable({concurrency: 8})",
        role: "peer",
        iterate: () => pMapIterable(numbers(N), fn, { concurrency: LIMIT }),
      },
      {
        name: "streaming-iterables parallelMap(8)",
        role: "peer",
        items: N / 4,
        iterate: () => parallelMap(LIMIT, fn, numbers(N / 4)),
      },
      {
        name: "it-parallel({concurrency: 8, ordered: true})",
        role: "peer",
        items: N / 4,
        iterate: () => parallel(thunks(numbers(N / 4), fn), { concurrency: LIMIT, ordered: true }),
      },
      { name: "hand-written window of promises", role: "floor", iterate: () => mapOrdered(numbers(N), LIMIT, fn) },
      { name: "bare for await", role: "base", iterate: () => numbers(N) },
    ],
  },
  {
    id: "concurrencyLimit/unordered",
    title: "concurrencyLimit(8), unordered, async source",
    items: N,
    targets: [{ against: "peer", min: 1.2 }],
    cases: [
      {
        name: "sluice concurrencyLimit(8, unordered)",
        role: "sluice",
        iterate: () => concurrencyLimit(numbers(N), LIMIT, fn, { ordered: false }),
      },
      { name: "streaming-iterables transform(8)", role: "peer", iterate: () => transform(LIMIT, fn, numbers(N)) },
      {
        name: "it-parallel({concurrency: 8, ordered: false})",
        role: "peer",
        items: N / 4,
        iterate: () => parallel(thunks(numbers(N / 4), fn), { concurrency: LIMIT, ordered: false }),
      },
      {
        name: "ix flatMap(fn, 8)",
        role: "peer",
        items: N / 20,
        iterate: () => from(numbers(N / 20)).pipe(flatMap(async (x: number) => [await fn(x)], LIMIT)),
      },
      { name: "hand-written settle queue", role: "floor", iterate: () => mapUnordered(numbers(N), LIMIT, fn) },
      { name: "bare for await", role: "base", iterate: () => numbers(N) },
    ],
  },
  {
    id: "concurrencyLimit/sync",
    title: "concurrencyLimit(8), ordered, array source",
    items: N,
    cases: [
      {
        name: "sluice concurrencyLimit(8)",
        role: "sluice",
        iterate: () => concurrencyLimit(numberArray(N), LIMIT, fn),
      },
      {
        name: "p-map pMapIterable({concurrency: 8})",
        role: "peer",
        iterate: () => pMapIterable(numberArray(N), fn, { concurrency: LIMIT }),
      },
      {
        name: "streaming-iterables parallelMap(8)",
        role: "peer",
        items: N / 4,
        iterate: () => parallelMap(LIMIT, fn, numberArray(N / 4)),
      },
      {
        name: "it-parallel({concurrency: 8, ordered: true})",
        role: "peer",
        items: N / 4,
        iterate: () => parallel(numberArray(N / 4).map((x) => () => fn(x)), { concurrency: LIMIT, ordered: true }),
      },
      { name: "hand-written window of promises", role: "floor", iterate: () => mapOrdered(numberArray(N), LIMIT, fn) },
      { name: "bare for await", role: "base", iterate: () => numberArray(N) },
    ],
  },
]);
