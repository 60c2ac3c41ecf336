/**
 * `npm run demo`: one fast producer against one slow consumer, run through each
 * backpressure strategy in turn. For each, a row: items produced, delivered,
 * dropped, the most items held at once, how long each side waited, and which
 * side held the flow back. Two `meter` stages measure it: one right after the
 * producer, one right before the consumer.
 *
 * The producer makes an item every millisecond (about 1000/s); the consumer
 * needs 10 ms per item (100/s). Without a strategy, the gap piles up in memory.
 */
import { boundedBuffer, concurrencyLimit, debounce, type FlowStats, meter, sampleEvery, throttle } from "../mod.ts";
import "./_quiet_pipe.ts";

const RUN_MS = Number(process.argv[2] ?? 1300);
const PRODUCE_EVERY_MS = 1;
const CONSUME_MS = 10;
const WINDOW_MS = 250;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Row {
  produced: number;
  delivered: number;
  dropped: number;
  peakHeld: number;
  producerWaitMs: number;
  consumerWaitMs: number;
  bottleneck: string;
}

const emptyRow = (): Row => ({
  produced: 0,
  delivered: 0,
  dropped: 0,
  peakHeld: 0,
  producerWaitMs: 0,
  consumerWaitMs: 0,
  bottleneck: "",
});

/** A producer that could go at 1000 items/s until `until`. */
async function* producer(until: number) {
  let item = 0;
  while (performance.now() < until) {
    await sleep(PRODUCE_EVERY_MS);
    yield item++;
  }
}

type Strategy = (items: AsyncIterable<number>) => AsyncIterable<unknown>;

/** Runs one strategy between a metered producer and a metered slow consumer. */
async function run(name: string, strategy: Strategy, consumerWorks = true): Promise<Row> {
  const row = emptyRow();
  const fromProducer = meter(producer(performance.now() + RUN_MS), {
    every: WINDOW_MS,
    report: (stats) => {
      row.produced = stats.totalItems;
      row.producerWaitMs += stats.producerWaitMs;
    },
  });
  const toConsumer = meter(strategy(fromProducer), {
    every: WINDOW_MS,
    report: (stats: FlowStats) => {
      row.delivered = stats.totalItems;
      row.dropped += stats.dropped ?? 0;
      row.peakHeld = Math.max(row.peakHeld, stats.held ?? 0);
      row.consumerWaitMs += stats.consumerWaitMs;
      if (!stats.final) row.bottleneck = stats.bottleneck;
      if (process.stdout.isTTY && !stats.final) process.stdout.write(`\r${format(name, row)}`);
    },
  });
  for await (const _ of toConsumer) {
    if (consumerWorks) await sleep(CONSUME_MS);
  }
  return row;
}

/** No strategy: every item is pushed into an array the consumer works through. */
async function unbounded(): Promise<Row> {
  const row = emptyRow();
  const until = performance.now() + RUN_MS;
  const queue: number[] = [];
  let item = 0;
  const timer = setInterval(() => {
    if (performance.now() >= until) return clearInterval(timer);
    row.produced++;
    queue.push(item++);
    row.peakHeld = Math.max(row.peakHeld, queue.length);
  }, PRODUCE_EVERY_MS);
  while (performance.now() < until) {
    if (queue.length === 0) {
      const asked = performance.now();
      await sleep(1);
      row.consumerWaitMs += performance.now() - asked;
      continue;
    }
    queue.shift();
    row.delivered++;
    await sleep(CONSUME_MS);
  }
  clearInterval(timer);
  row.bottleneck = "consumer";
  return row;
}

const strategies: [name: string, run: () => Promise<Row>][] = [
  ["no strategy: unbounded array", unbounded],
  ["plain pull (slows the producer)", () => run("plain pull", (items) => items)],
  ["boundedBuffer 16, wait", () => run("boundedBuffer 16", (items) => boundedBuffer(items, 16))],
  [
    "boundedBuffer 16, drop-oldest",
    () => run("drop-oldest", (items) => boundedBuffer(items, 16, { overflow: "drop-oldest" })),
  ],
  ["sampleEvery 50 ms", () => run("sampleEvery", (items) => sampleEvery(items, 50))],
  ["throttle 20 ms", () => run("throttle", (items) => throttle(items, 20))],
  ["debounce 5 ms, maxWait 50 ms", () => run("debounce", (items) => debounce(items, 5, { maxWaitMs: 50 }))],
  [
    "concurrencyLimit 8 (scale out)",
    () =>
      run(
        "concurrencyLimit",
        (items) => concurrencyLimit(items, 8, (item) => sleep(CONSUME_MS).then(() => item)),
        false,
      ),
  ],
];

const columns = [
  "strategy",
  "produced",
  "delivered",
  "dropped",
  "peak held",
  "producer wait",
  "consumer wait",
  "bottleneck",
];
const widths = [32, 9, 10, 8, 10, 14, 14, 11];
const line = (cells: string[]) =>
  cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("");
const format = (name: string, row: Row) =>
  line([
    name,
    String(row.produced),
    String(row.delivered),
    String(row.dropped),
    String(row.peakHeld),
    `${Math.round(row.producerWaitMs)} ms`,
    `${Math.round(row.consumerWaitMs)} ms`,
    row.bottleneck,
  ]);

console.log(
  `A producer at ~${1000 / PRODUCE_EVERY_MS}/s, a consumer at ${1000 / CONSUME_MS}/s, ${RUN_MS} ms per strategy.\n`,
);
console.log(line(columns));
for (const [name, runStrategy] of strategies) {
  const row = await runStrategy();
  console.log(`${process.stdout.isTTY ? "\r" : ""}${format(name, row)}`);
}
console.log(`
Read it: without a strategy the held items grow with time. Pulling slows the producer
(it waits), a bounded buffer holds at most its capacity, the drop strategies keep up by
losing items on purpose, and concurrencyLimit spreads the work over 8 calls.
"bottleneck" is meter's verdict at the consumer: "consumer" means the consumer sets the
pace and backpressure holds the producer back; "producer" means the consumer waits for items.`);
