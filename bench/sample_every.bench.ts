/**
 * sampleEvery draining a source with no quiet gap: 200k items arrive back to
 * back and only the latest per interval is kept, so the stage's cost is how
 * fast it can take items in. The target compares with a bare `for await`
 * drain of the same source.
 *
 * No peer samples an async iterable by time (ix's `throttle` keeps the first
 * item of a window, not the latest), so the comparison is with the
 * hand-written version and the bare drain.
 */
import { sampleEvery } from "../mod.ts";
import { benchFile, ITEMS, numberArray, numbers } from "./_harness.ts";

const N = ITEMS;
const INTERVAL_MS = 10;

/**
 * Hand-written: an interval sets a flag, the loop keeps the latest item and
 * yields it when the flag is up. (Over an in-memory source the interval never
 * gets a turn, so this emits only the last item: the starvation sluice's
 * breathing avoids.)
 */
async function* sampleByHand<T>(source: AsyncIterable<T> | Iterable<T>, intervalMs: number): AsyncGenerator<T> {
  let tick = false;
  const interval = setInterval(() => (tick = true), intervalMs);
  let latest!: T;
  let hasLatest = false;
  try {
    for await (const item of source) {
      latest = item;
      hasLatest = true;
      if (tick) {
        tick = false;
        hasLatest = false;
        yield item;
      }
    }
    if (hasLatest) yield latest;
  } finally {
    clearInterval(interval);
  }
}

export default benchFile(import.meta, [
  {
    id: "sampleEvery/async",
    title: `sampleEvery(${INTERVAL_MS} ms), no quiet gap`,
    items: N,
    settleMs: INTERVAL_MS + 5,
    targets: [{ against: "base", min: 0.8 }],
    cases: [
      {
        name: `sluice sampleEvery(${INTERVAL_MS})`,
        role: "sluice",
        expect: null,
        iterate: () => sampleEvery(numbers(N), INTERVAL_MS),
      },
      {
        name: "hand-written interval flag",
        role: "floor",
        expect: null,
        iterate: () => sampleByHand(numbers(N), INTERVAL_MS),
      },
      { name: "bare for await", role: "base", iterate: () => numbers(N) },
    ],
  },
  {
    id: "sampleEvery/sync",
    title: `sampleEvery(${INTERVAL_MS} ms), no gap, array source`,
    items: N,
    settleMs: INTERVAL_MS + 5,
    cases: [
      {
        name: `sluice sampleEvery(${INTERVAL_MS})`,
        role: "sluice",
        expect: null,
        iterate: () => sampleEvery(numberArray(N), INTERVAL_MS),
      },
      {
        name: "hand-written interval flag",
        role: "floor",
        expect: null,
        iterate: () => sampleByHand(numberArray(N), INTERVAL_MS),
      },
      { name: "bare for await", role: "base", iterate: () => numberArray(N) },
    ],
  },
]);
