/**
 * The core cases again, in a process where nine sluice combinator classes have run
 * first, as in an application that uses several of them. sluice's combinators
 * share their machinery (the `Outlet` and `Pump` base classes), so the engine
 * sees objects of many classes at the same call sites; the other bench files
 * run one combinator per process and do not show that cost.
 */
import { buffer } from "streaming-iterables";
import { pMapIterable } from "p-map";
import { boundedBuffer, channel, concurrencyLimit, debounce, merge, sampleEvery, sampleNth, throttle } from "../mod.ts";
import { benchFile, drainer, identityAsync, ITEMS, numbers, passThrough } from "./_harness.ts";

const N = ITEMS;
const fn = identityAsync<number>;

/** Runs a spread of combinators so their classes all pass through the shared code paths. */
async function warmEveryCombinator(rounds: number, n: number): Promise<void> {
  const drain = drainer();
  for (let r = 0; r < rounds; r++) {
    await drain(boundedBuffer(numbers(n), 16));
    await drain(boundedBuffer(numbers(n), 16, { overflow: "drop-oldest" }));
    await drain(concurrencyLimit(numbers(n), 8, fn));
    await drain(concurrencyLimit(numbers(n), 8, fn, { ordered: false }));
    await drain(debounce(numbers(n), 10));
    await drain(sampleEvery(numbers(n), 10));
    await drain(throttle(numbers(n), 10));
    await drain(sampleNth(numbers(n), 10));
    await drain(merge(numbers(n), numbers(n)));
    const ch = channel<number>();
    const producer = (async () => {
      for (let i = 0; i < n; i++) await ch.send(i);
      ch.close();
    })();
    await drain(ch);
    await producer;
  }
}

await warmEveryCombinator(3, N / 10);

export default benchFile(import.meta, [
  {
    id: "mixed/boundedBuffer",
    title: "boundedBuffer(16), in a 9-combinator process",
    items: N,
    cases: [
      { name: "sluice boundedBuffer(16)", role: "sluice", iterate: () => boundedBuffer(numbers(N), 16) },
      { name: "streaming-iterables buffer(16)", role: "peer", iterate: () => buffer(16, numbers(N)) },
      { name: "hand-written pass-through", role: "floor", iterate: () => passThrough(numbers(N)) },
      { name: "bare for await", role: "base", iterate: () => numbers(N) },
    ],
  },
  {
    id: "mixed/concurrencyLimit",
    title: "concurrencyLimit(8), in a 9-combinator process",
    items: N,
    cases: [
      { name: "sluice concurrencyLimit(8)", role: "sluice", iterate: () => concurrencyLimit(numbers(N), 8, fn) },
      {
        name: "p-map pMapIterable({concurrency: 8})",
        role: "peer",
        iterate: () => pMapIterable(numbers(N), fn, { concurrency: 8 }),
      },
      { name: "bare for await", role: "base", iterate: () => numbers(N) },
    ],
  },
  {
    id: "mixed/sampleEvery",
    title: "sampleEvery(10 ms), in a 9-combinator process",
    items: N,
    settleMs: 15,
    cases: [
      { name: "sluice sampleEvery(10)", role: "sluice", expect: null, iterate: () => sampleEvery(numbers(N), 10) },
      { name: "bare for await", role: "base", iterate: () => numbers(N) },
    ],
  },
]);
