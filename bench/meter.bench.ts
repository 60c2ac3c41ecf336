/**
 * meter: what watching a pipeline costs. A meter is a pass-through stage, so
 * the honest comparison is a hand-written pass-through `async function*` over
 * the same fast in-memory source (200k items): the meter must keep at least
 * 0.91× its throughput, that is cost under 10% more time per item. The window
 * timer never fires during a pass (a pass is one long microtask chain), so what
 * is measured is the per-item bookkeeping and the clock reads.
 *
 * `npx tsx bench/meter.bench.ts --own` (or `bun` / `deno run -A`) prints the
 * table with the `sluice/hand-written` ratio and whether the target holds;
 * without `--own`, mitata's detailed statistics. `npm run bench` includes it.
 *
 * No peer: no other library meters a pull pipeline.
 */
import { meter } from "../mod.ts";
import { benchFile, ITEMS, numberArray, numbers, passThrough } from "./_harness.ts";

const N = ITEMS;
const ignore = (): void => {};

export default benchFile(import.meta, [
  {
    id: "meter/async",
    title: "meter(), async generator source",
    items: N,
    targets: [{ against: "floor", min: 0.91 }],
    cases: [
      { name: "sluice meter", role: "sluice", iterate: () => meter(numbers(N), { report: ignore }) },
      { name: "hand-written pass-through", role: "floor", iterate: () => passThrough(numbers(N)) },
      { name: "bare for await", role: "base", iterate: () => numbers(N) },
    ],
  },
  {
    id: "meter/sync",
    title: "meter(), array source",
    items: N,
    targets: [{ against: "floor", min: 0.91 }],
    cases: [
      { name: "sluice meter", role: "sluice", iterate: () => meter(numberArray(N), { report: ignore }) },
      { name: "hand-written pass-through", role: "floor", iterate: () => passThrough(numberArray(N)) },
      { name: "bare for await", role: "base", iterate: () => numberArray(N) },
    ],
  },
]);
