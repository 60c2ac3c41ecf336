/**
 * throttle draining a source with no quiet gap: 200k items back to back, at
 * most one passes per 10 ms (here: the first and, at the end, the last).
 *
 * Peer: ix `throttle(ms)` (leading edge only, so compared with sluice's
 * `{ trailing: false }`). streaming-iterables' `throttle` delays items to a
 * rate instead of dropping them: that is `rateLimit`, not this.
 */
import { from } from "ix/asynciterable";
import { throttle as ixThrottle } from "ix/asynciterable/operators";
import { throttle } from "../mod.ts";
import { benchFile, ITEMS, numbers } from "./_harness.ts";

const N = ITEMS;
const INTERVAL_MS = 10;

/** Hand-written leading-edge throttle: pass an item if the last one passed long enough ago. */
async function* throttleByHand<T>(source: AsyncIterable<T>, intervalMs: number): AsyncGenerator<T> {
  let last = -Infinity;
  for await (const item of source) {
    const now = performance.now();
    if (now - last >= intervalMs) {
      last = now;
      yield item;
    }
  }
}

export default benchFile(import.meta, [
  {
    id: "throttle/leading",
    title: `throttle(${INTERVAL_MS} ms, leading only), no quiet gap`,
    items: N,
    settleMs: INTERVAL_MS + 5,
    cases: [
      {
        name: `sluice throttle(${INTERVAL_MS}, { trailing: false })`,
        role: "sluice",
        expect: null,
        iterate: () => throttle(numbers(N), INTERVAL_MS, { trailing: false }),
      },
      {
        name: `ix throttle(${INTERVAL_MS})`,
        role: "peer",
        expect: null,
        items: N / 4,
        iterate: () => from(numbers(N / 4)).pipe(ixThrottle(INTERVAL_MS)),
      },
      {
        name: "hand-written clock check",
        role: "floor",
        expect: null,
        iterate: () => throttleByHand(numbers(N), INTERVAL_MS),
      },
      { name: "bare for await", role: "base", iterate: () => numbers(N) },
    ],
  },
]);
