/**
 * debounce draining a source with no quiet gap: 200k items arrive back to
 * back, so every item but the last is replaced (dropped) and the stage's cost
 * is how fast it can take items in. The target compares with a bare
 * `for await` drain of the same source.
 *
 * Keyed mode: the same source with `key` over 10 and 100,000 keys (no peer keys a debounce).
 *
 * Peer with the same operation: ix `debounce(ms)` (on 20k items: it is slow
 * enough that 200k would take seconds per pass; throughput is per item).
 */
import { from } from "ix/asynciterable";
import { debounce as ixDebounce } from "ix/asynciterable/operators";
import { debounce } from "../mod.ts";
import { benchFile, ITEMS, numbers } from "./_harness.ts";

const N = ITEMS;
const WAIT_MS = 10;

/**
 * Hand-written: race the next item against a timer armed for the pending one;
 * a timer that fires early is re-armed for the rest of the wait.
 */
async function* debounceByHand<T>(source: AsyncIterable<T>, waitMs: number): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const TICK = Symbol("tick");
  const sleep = (ms: number) => new Promise<typeof TICK>((resolve) => setTimeout(resolve, ms, TICK));
  let next = iterator.next();
  let pending!: T;
  let hasPending = false;
  let lastArrival = 0;
  let timer: Promise<typeof TICK> | undefined;
  for (;;) {
    if (!hasPending) {
      const result = await next;
      if (result.done) return;
      pending = result.value;
      hasPending = true;
      lastArrival = performance.now();
      next = iterator.next();
      continue;
    }
    timer ??= sleep(lastArrival + waitMs - performance.now());
    const winner = await Promise.race([next, timer]);
    if (winner === TICK) {
      timer = undefined;
      if (performance.now() - lastArrival >= waitMs) {
        hasPending = false;
        yield pending;
      }
      continue;
    }
    if (winner.done) {
      yield pending;
      return;
    }
    pending = winner.value;
    lastArrival = performance.now();
    next = iterator.next();
  }
}

export default benchFile(import.meta, [
  {
    id: "debounce/async",
    title: `debounce(${WAIT_MS} ms), no quiet gap`,
    items: N,
    settleMs: WAIT_MS + 5,
    targets: [{ against: "base", min: 0.5 }],
    cases: [
      {
        name: `sluice debounce(${WAIT_MS})`,
        role: "sluice",
        expect: null,
        iterate: () => debounce(numbers(N), WAIT_MS),
      },
      {
        name: `ix debounce(${WAIT_MS})`,
        role: "peer",
        expect: null,
        items: N / 10,
        iterate: () => from(numbers(N / 10)).pipe(ixDebounce(WAIT_MS)),
      },
      {
        name: "hand-written race with a timer",
        role: "floor",
        expect: null,
        iterate: () => debounceByHand(numbers(N), WAIT_MS),
      },
      { name: "bare for await", role: "base", iterate: () => numbers(N) },
    ],
  },
  {
    id: "debounce/keyed-10",
    title: `debounce(${WAIT_MS} ms, { key }), 10 keys, no quiet gap`,
    items: N,
    settleMs: WAIT_MS + 5,
    note: "One record per key alive and one timer for all keys; each key's items replace its pending one.",
    cases: [
      {
        name: `sluice debounce(${WAIT_MS}, { key }) (10 keys)`,
        role: "sluice",
        expect: null,
        iterate: () => debounce(numbers(N), WAIT_MS, { key: (i) => i % 10, maxKeys: 10 }),
      },
      { name: "bare for await", role: "base", iterate: () => numbers(N) },
    ],
  },
  {
    id: "debounce/keyed-100k",
    title: `debounce(${WAIT_MS} ms, { key }), 100k keys, no quiet gap`,
    items: N,
    settleMs: WAIT_MS + 5,
    note: "One record per key alive and one timer for all keys; each key's items replace its pending one.",
    cases: [
      {
        name: `sluice debounce(${WAIT_MS}, { key }) (100k keys)`,
        role: "sluice",
        expect: null,
        iterate: () => debounce(numbers(N), WAIT_MS, { key: (i) => i % 100000, maxKeys: 100000 }),
      },
      { name: "bare for await", role: "base", iterate: () => numbers(N) },
    ],
  },
]);
