/**
 * Memory: a fast producer into a slow consumer, through each bounded strategy,
 * beside an unbounded queue (it-pushable) doing the same job. Prints the peak
 * heap above the starting heap for 1M and 5M items: a bounded strategy's peak
 * stays flat as the item count grows, the unbounded queue's grows with it.
 *
 * - The producer is an async generator of small objects that never awaits
 *   anything else (as fast as the pipeline asks).
 * - The slow consumer waits one macrotask after every 16 items it takes
 *   (more often would only make the lossless cases take longer: what they
 *   hold is bounded by their capacity, whatever the consumer's pace).
 * - `boundedBuffer(…, "wait")` and `channel` with `await send()` slow the
 *   producer to the consumer's pace, so they run until the consumer has taken
 *   every item; the dropping strategies (`drop-oldest`, `drop-newest`, a
 *   channel fed with `trySend()`) and `sampleEvery` read the source as fast as
 *   it yields and drop; a `broadcast` with one reader read and one stalled
 *   `"drop-oldest"` reader runs at the read reader's pace while the stalled
 *   one holds at most `maxLag` items; `"error"` fails with `OverflowError` as soon as the
 *   buffer is full (by design); `batch` reads only for a waiting consumer (or,
 *   with `ms`, into an open batch), so it too paces the producer.
 * - The unbounded queue is fed by a loop reading the same source as fast as it
 *   yields; once the producer is done the consumer stops (draining the backlog
 *   one macrotask at a time would take minutes and cannot lower the peak).
 *
 * Two figures, both above the heap left after a forced gc before the case:
 * - live: `heapUsed` right after a forced gc, every 2^20 items produced and at
 *   the end (for the unbounded queue: once the producer is done, before the
 *   consumer stops): what the strategy retains. This one must stay flat.
 * - peak: the highest `heapUsed` sampled every 4096 items produced and 256
 *   consumed, garbage included, so it depends on when the engine collects.
 *
 * Run: `npx tsx --expose-gc bench/memory.bench.ts`, `bun bench/memory.bench.ts`,
 * `deno run -A --v8-flags=--expose-gc bench/memory.bench.ts`. Sizes can be set
 * with `SLUICE_MEMORY_SIZES=1000000,5000000`. `--json` ends the output with one
 * `@@sluice-memory <json>` line for `bench/run.ts`.
 */
import { pushable } from "it-pushable";
import { batch, boundedBuffer, broadcast, channel, OverflowError, sampleEvery } from "../mod.ts";
import { collectGarbage, isMain, runtimeName, runtimeVersion } from "./_harness.ts";

export interface Strategy {
  name: string;
  bounded: boolean;
  /** Builds the stage over the producer; `producerDone` tells the consumer when to stop early. */
  build: (source: AsyncIterable<Item>, state: { producerDone: boolean }) => AsyncIterable<unknown>;
  /** Stop consuming once the producer has finished (the unbounded queue). */
  stopWhenProducerDone?: boolean;
}

export interface MemoryResult {
  strategy: string;
  bounded: boolean;
  items: number;
  produced: number;
  consumed: number;
  /** Highest heapUsed after a forced gc (what is retained), minus the starting heap, in bytes. */
  liveBytes: number;
  /** Highest heapUsed sampled without a gc (garbage included), minus the starting heap, in bytes. */
  peakBytes: number;
  ms: number;
  /** How the case ended when not by the source ending. */
  ended?: string;
}

interface Item {
  id: number;
  at: number;
}

const CAPACITY = 16;

export const strategies: Strategy[] = [
  { name: "sluice boundedBuffer(16, wait)", bounded: true, build: (s) => boundedBuffer(s, CAPACITY) },
  {
    name: "sluice boundedBuffer(16, drop-oldest)",
    bounded: true,
    build: (s) => boundedBuffer(s, CAPACITY, { overflow: "drop-oldest" }),
  },
  {
    name: "sluice boundedBuffer(16, drop-newest)",
    bounded: true,
    build: (s) => boundedBuffer(s, CAPACITY, { overflow: "drop-newest" }),
  },
  {
    name: "sluice boundedBuffer(16, error)",
    bounded: true,
    build: (s) => boundedBuffer(s, CAPACITY, { overflow: "error" }),
  },
  { name: "sluice sampleEvery(10)", bounded: true, build: (s) => sampleEvery(s, 10) },
  {
    name: "sluice channel(16), await send()",
    bounded: true,
    build: (source) => {
      const ch = channel<Item>({ capacity: CAPACITY });
      void (async () => {
        for await (const item of source) await ch.send(item);
        ch.close();
      })();
      return ch;
    },
  },
  {
    name: "sluice channel(16, drop-oldest), trySend()",
    bounded: true,
    build: (source) => {
      const ch = channel<Item>({ capacity: CAPACITY, overflow: "drop-oldest" });
      void (async () => {
        for await (const item of source) ch.trySend(item);
        ch.close();
      })();
      return ch;
    },
  },
  { name: "sluice batch({ size: 100 })", bounded: true, build: (s) => batch(s, { size: 100 }) },
  { name: "sluice batch({ size: 100, ms: 10 })", bounded: true, build: (s) => batch(s, { size: 100, ms: 10 }) },
  {
    name: "sluice broadcast(16), +1 stalled drop-oldest",
    bounded: true,
    build: (source) => {
      const hub = broadcast(source, { maxLag: CAPACITY });
      const read = hub.subscribe();
      // Never read: it keeps at most maxLag items, losing its oldest as the feed runs on.
      hub.subscribe({ policy: "drop-oldest" });
      return read;
    },
  },
  {
    name: "it-pushable (unbounded queue)",
    bounded: false,
    stopWhenProducerDone: true,
    build: (source, state) => {
      const queue = pushable<Item>({ objectMode: true });
      void (async () => {
        for await (const item of source) queue.push(item);
        state.producerDone = true;
        queue.end();
      })();
      return queue;
    },
  },
];

const SIZES = (process.env.SLUICE_MEMORY_SIZES ?? "1000000,5000000").split(",").map(Number).filter((n) => n > 0);

const macrotask: () => Promise<void> = typeof setImmediate === "function"
  ? () => new Promise((resolve) => setImmediate(resolve))
  : () => new Promise((resolve) => setTimeout(resolve, 0));

export async function measureStrategy(strategy: Strategy, items: number): Promise<MemoryResult> {
  await macrotask();
  collectGarbage();
  const baseline = process.memoryUsage().heapUsed;
  let peak = baseline;
  let live = baseline;
  const sample = () => {
    const used = process.memoryUsage().heapUsed;
    if (used > peak) peak = used;
  };
  const sampleLive = () => {
    if (!collectGarbage()) return;
    const used = process.memoryUsage().heapUsed;
    if (used > live) live = used;
  };
  const state = { producerDone: false };
  let produced = 0;
  async function* producer(): AsyncGenerator<Item> {
    for (let id = 0; id < items; id++) {
      produced++;
      if ((id & 4095) === 0) sample();
      if ((id & 0xfffff) === 0xfffff) sampleLive();
      yield { id, at: id };
    }
    state.producerDone = true;
  }
  let consumed = 0;
  let ended: string | undefined;
  const started = performance.now();
  try {
    for await (const _ of strategy.build(producer(), state)) {
      consumed++;
      if ((consumed & 255) === 0) sample();
      if (strategy.stopWhenProducerDone && state.producerDone) {
        sampleLive();
        ended = "stopped once the producer was done";
        break;
      }
      if ((consumed & 15) === 0) await macrotask();
    }
  } catch (error) {
    ended = error instanceof OverflowError ? "OverflowError (by design)" : `threw ${String(error)}`;
  }
  sample();
  const ms = performance.now() - started;
  sampleLive();
  return {
    strategy: strategy.name,
    bounded: strategy.bounded,
    items,
    produced,
    consumed,
    liveBytes: live - baseline,
    peakBytes: peak - baseline,
    ms: Math.round(ms),
    ...(ended === undefined ? {} : { ended }),
  };
}

export function formatBytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  const gc = collectGarbage();
  console.log(`memory: ${runtimeVersion()}${gc ? "" : " (no forced gc: run node/deno with --expose-gc)"}`);
  const results: MemoryResult[] = [];
  for (const items of SIZES) {
    for (const strategy of strategies) {
      const result = await measureStrategy(strategy, items);
      results.push(result);
      console.log(
        `  ${String(items).padStart(8)}  ${strategy.name.padEnd(44)} live +${
          formatBytes(result.liveBytes).padStart(9)
        }` +
          `  peak +${formatBytes(result.peakBytes).padStart(9)}` +
          `  produced ${String(result.produced).padStart(8)}  consumed ${String(result.consumed).padStart(8)}` +
          `  ${String(result.ms).padStart(6)} ms${result.ended ? `  (${result.ended})` : ""}`,
      );
    }
  }
  if (json) {
    console.log(
      `@@sluice-memory ${JSON.stringify({ runtime: runtimeName(), version: runtimeVersion(), gc, results })}`,
    );
  }
}

if (isMain(import.meta)) await main();
