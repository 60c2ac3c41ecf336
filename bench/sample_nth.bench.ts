/**
 * sampleNth(10): keep every 10th of 200k items. Reads only on demand, so the
 * cost is the pull loop plus skipping.
 *
 * Peers: ix `filter((x, i) => i % 10 === 0)`, streaming-iterables `filter`
 * with a counter. Hand-written: a counter in a `for await`.
 */
import { from } from "ix/asynciterable";
import { filter as ixFilter } from "ix/asynciterable/operators";
import { filter } from "streaming-iterables";
import { sampleNth } from "../mod.ts";
import { benchFile, ITEMS, numbers } from "./_harness.ts";

const N = ITEMS;
const NTH = 10;

async function* everyNthByHand<T>(source: AsyncIterable<T>, n: number): AsyncGenerator<T> {
  let i = 0;
  for await (const item of source) if (i++ % n === 0) yield item;
}

const everyNth = () => {
  let i = 0;
  return () => i++ % NTH === 0;
};

export default benchFile(import.meta, [
  {
    id: "sampleNth/10",
    title: `sampleNth(${NTH}), async source`,
    items: N,
    cases: [
      { name: `sluice sampleNth(${NTH})`, role: "sluice", expect: N / NTH, iterate: () => sampleNth(numbers(N), NTH) },
      {
        name: `ix filter(i % ${NTH} === 0)`,
        role: "peer",
        items: N / 4,
        expect: N / 4 / NTH,
        iterate: () => from(numbers(N / 4)).pipe(ixFilter((_, i) => i % NTH === 0)),
      },
      {
        name: "streaming-iterables filter(counter)",
        role: "peer",
        expect: N / NTH,
        iterate: () => filter(everyNth(), numbers(N)),
      },
      { name: "hand-written counter", role: "floor", expect: N / NTH, iterate: () => everyNthByHand(numbers(N), NTH) },
      { name: "bare for await", role: "base", iterate: () => numbers(N) },
    ],
  },
]);
