/**
 * batch: group 200k items into arrays of 100 (2000 batches), with `size`
 * alone and with a time limit too (`ms: 10`, which never fires here: the
 * source fills each batch at once).
 *
 * Peers with the same operation: it-batch, streaming-iterables `batch` /
 * `batchWithTimeout`, ix `buffer(100)` / `bufferCountOrTime(100, 10)`.
 * Hand-written: an array filled in a `for await`, yielded when full. (ix on
 * 20k items: it needs seconds for 200k; the rate is per item.)
 */
import { from } from "ix/asynciterable";
import { buffer as ixBuffer, bufferCountOrTime } from "ix/asynciterable/operators";
import itBatch from "it-batch";
import { batch as siBatch, batchWithTimeout } from "streaming-iterables";
import { batch } from "../mod.ts";
import { benchFile, ITEMS, numbers } from "./_harness.ts";

const N = ITEMS;
const SIZE = 100;
const MS = 10;

async function* batchByHand<T>(source: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let open: T[] = [];
  for await (const item of source) {
    open.push(item);
    if (open.length === size) {
      yield open;
      open = [];
    }
  }
  if (open.length > 0) yield open;
}

export default benchFile(import.meta, [
  {
    id: "batch/size",
    title: `batch({ size: ${SIZE} }), async source`,
    items: N,
    cases: [
      {
        name: `sluice batch({ size: ${SIZE} })`,
        role: "sluice",
        expect: N / SIZE,
        iterate: () => batch(numbers(N), { size: SIZE }),
      },
      { name: `it-batch(${SIZE})`, role: "peer", expect: N / SIZE, iterate: () => itBatch(numbers(N), SIZE) },
      {
        name: `streaming-iterables batch(${SIZE})`,
        role: "peer",
        expect: N / SIZE,
        iterate: () => siBatch(SIZE, numbers(N)),
      },
      {
        name: `ix buffer(${SIZE})`,
        role: "peer",
        items: N / 10,
        expect: N / 10 / SIZE,
        iterate: () => from(numbers(N / 10)).pipe(ixBuffer(SIZE)),
      },
      { name: "hand-written array", role: "floor", expect: N / SIZE, iterate: () => batchByHand(numbers(N), SIZE) },
      { name: "bare for await", role: "base", iterate: () => numbers(N) },
    ],
  },
  {
    id: "batch/size-ms",
    title: `batch({ size: ${SIZE}, ms: ${MS} }), async source`,
    items: N,
    settleMs: MS + 5,
    cases: [
      {
        name: `sluice batch({ size: ${SIZE}, ms: ${MS} })`,
        role: "sluice",
        expect: N / SIZE,
        iterate: () => batch(numbers(N), { size: SIZE, ms: MS }),
      },
      {
        name: `streaming-iterables batchWithTimeout(${SIZE}, ${MS})`,
        role: "peer",
        expect: N / SIZE,
        iterate: () => batchWithTimeout(SIZE, MS, numbers(N)),
      },
      {
        name: `ix bufferCountOrTime(${SIZE}, ${MS})`,
        role: "peer",
        items: N / 10,
        expect: null,
        iterate: () => from(numbers(N / 10)).pipe(bufferCountOrTime(SIZE, MS)),
      },
      { name: "bare for await", role: "base", iterate: () => numbers(N) },
    ],
  },
]);
