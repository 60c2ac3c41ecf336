/**
 * merge: 4 fast in-memory sources of 50k items each (200k in all) read by one
 * `for await` loop.
 *
 * Peers with the same operation: it-merge, streaming-iterables
 * `parallelMerge` (and its round-robin `merge`, which awaits one source at a
 * time), ix `merge`. Hand-written: race the pending `next()` of every source.
 *
 * mergePriority: the same 4 sources, beside `merge` (what choosing by priority costs).
 * No published peer merges async iterables by priority.
 */
import { merge as ixMerge } from "ix/asynciterable";
import itMerge from "it-merge";
import { merge as siMerge, parallelMerge } from "streaming-iterables";
import { merge, mergePriority } from "../mod.ts";
import { benchFile, ITEMS, numbers } from "./_harness.ts";

const SOURCES = 4;
const PER_SOURCE = ITEMS / SOURCES;
const sources = (perSource = PER_SOURCE) => Array.from({ length: SOURCES }, () => numbers(perSource));

/** Hand-written: keep one `next()` pending per source and race them. */
async function* mergeByHand<T>(...inputs: AsyncIterable<T>[]): AsyncGenerator<T> {
  const iterators = inputs.map((input) => input[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<[number, IteratorResult<T>]>>();
  const pull = (i: number) =>
    pending.set(i, iterators[i]!.next().then((result): [number, IteratorResult<T>] => [i, result]));
  iterators.forEach((_, i) => pull(i));
  while (pending.size > 0) {
    const [i, result] = await Promise.race(pending.values());
    if (result.done) {
      pending.delete(i);
      continue;
    }
    pull(i);
    yield result.value;
  }
}

export default benchFile(import.meta, [
  {
    id: "merge/4-sources",
    title: "merge of 4 async sources",
    items: ITEMS,
    cases: [
      { name: "sluice merge", role: "sluice", iterate: () => merge(...sources()) },
      { name: "it-merge", role: "peer", iterate: () => itMerge(...sources()) },
      { name: "streaming-iterables parallelMerge", role: "peer", iterate: () => parallelMerge(...sources()) },
      { name: "streaming-iterables merge (round robin)", role: "peer", iterate: () => siMerge(...sources()) },
      {
        name: "ix merge",
        role: "peer",
        items: ITEMS / 4,
        iterate: () => {
          const [a, b, c, d] = sources(PER_SOURCE / 4);
          return ixMerge(a!, b!, c!, d!);
        },
      },
      { name: "hand-written Promise.race", role: "floor", iterate: () => mergeByHand(...sources()) },
      { name: "bare for await (one source)", role: "base", iterate: () => numbers(ITEMS) },
    ],
  },
  {
    id: "mergePriority/4-sources",
    title: "mergePriority of 4 async sources",
    items: ITEMS,
    note: "mergePriority chooses among waiting items by source order; merge (round robin) is the peer here.",
    cases: [
      { name: "sluice mergePriority", role: "sluice", iterate: () => mergePriority(sources()) },
      { name: "sluice merge (no priority)", role: "peer", iterate: () => merge(...sources()) },
      { name: "bare for await (one source)", role: "base", iterate: () => numbers(ITEMS) },
    ],
  },
]);
