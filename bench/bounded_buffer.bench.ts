/**
 * boundedBuffer: a read-ahead of 16 items over a fast source, drained by a
 * fast consumer. What is measured is the per-item cost of the stage itself.
 *
 * Peers with the same operation (a bounded read-ahead that yields the same
 * items): streaming-iterables `buffer(16)`. ix's `buffer(n)` and it-batch
 * group items into arrays, which is `batch`, not this.
 */
import { buffer } from "streaming-iterables";
import { boundedBuffer } from "../mod.ts";
import { benchFile, ITEMS, numberArray, numbers, passThrough } from "./_harness.ts";

const N = ITEMS;

export default benchFile(import.meta, [
  {
    id: "boundedBuffer/async",
    title: "boundedBuffer(16), async source",
    items: N,
    targets: [{ against: "peer", min: 1.5 }, { against: "floor", min: 0.9 }],
    cases: [
      { name: "sluice boundedBuffer(16)", role: "sluice", iterate: () => boundedBuffer(numbers(N), 16) },
      { name: "streaming-iterables buffer(16)", role: "peer", iterate: () => buffer(16, numbers(N)) },
      { name: "hand-written pass-through", role: "floor", iterate: () => passThrough(numbers(N)) },
      { name: "bare for await", role: "base", iterate: () => numbers(N) },
    ],
  },
  {
    id: "boundedBuffer/sync",
    title: "boundedBuffer(16), array source",
    items: N,
    cases: [
      { name: "sluice boundedBuffer(16)", role: "sluice", iterate: () => boundedBuffer(numberArray(N), 16) },
      { name: "streaming-iterables buffer(16)", role: "peer", iterate: () => buffer(16, numberArray(N)) },
      { name: "hand-written pass-through", role: "floor", iterate: () => passThrough(numberArray(N)) },
      { name: "bare for await", role: "base", iterate: () => numberArray(N) },
    ],
  },
  {
    id: "boundedBuffer/drop-oldest",
    title: "boundedBuffer(16, drop-oldest), async source",
    items: N,
    note:
      "A draining mode: it reads as fast as the source yields, so with a fast consumer a few items may drop; no peer has a dropping buffer.",
    cases: [
      {
        name: "sluice boundedBuffer(16, drop-oldest)",
        role: "sluice",
        expect: null,
        iterate: () => boundedBuffer(numbers(N), 16, { overflow: "drop-oldest" }),
      },
      { name: "hand-written pass-through", role: "floor", iterate: () => passThrough(numbers(N)) },
      { name: "bare for await", role: "base", iterate: () => numbers(N) },
    ],
  },
]);
