/**
 * `npm run demo`: one fast producer against one slow consumer, run through each
 * backpressure strategy in turn. For each, a line: items produced, delivered,
 * dropped, the most items held at once, and how long each side waited.
 *
 * The producer makes an item every millisecond (about 1000/s); the consumer
 * needs 10 ms per item (100/s). Without a strategy, the gap piles up in memory.
 */
import { boundedBuffer, concurrencyLimit, debounce, sampleEvery } from "../mod.ts";

const RUN_MS = Number(process.argv[2] ?? 1500);
const PRODUCE_EVERY_MS = 1;
const CONSUME_MS = 10;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Tally {
  produced: number;
  delivered: number;
  dropped: number;
  peakHeld: number;
  producerWaitMs: number;
  consumerWaitMs: number;
}

/** A producer that could go at 1000 items/s, and records how long it sat waiting to be asked. */
async function* producer(tally: Tally, until: number) {
  let item = 0;
  while (performance.now() < until) {
    await sleep(PRODUCE_EVERY_MS);
    tally.produced++;
    const ready = performance.now();
    yield item++;
    tally.producerWaitMs += performance.now() - ready;
  }
}

interface Counted {
  readonly held?: number;
  readonly dropped?: number;
}

/** Reads `items` with a consumer that needs CONSUME_MS per item, recording its waits. */
async function consume(items: AsyncIterator<unknown> & Counted, tally: Tally, handle = true) {
  while (true) {
    const asked = performance.now();
    const result = await items.next();
    tally.consumerWaitMs += performance.now() - asked;
    tally.peakHeld = Math.max(tally.peakHeld, items.held ?? 0);
    if (result.done) break;
    tally.delivered++;
    if (handle) await sleep(CONSUME_MS);
  }
  tally.dropped = items.dropped ?? 0;
}

/** No strategy: every item is pushed into an array the consumer works through. */
async function unbounded(tally: Tally, until: number) {
  const queue: number[] = [];
  let item = 0;
  const timer = setInterval(() => {
    if (performance.now() >= until) return clearInterval(timer);
    tally.produced++;
    queue.push(item++);
    tally.peakHeld = Math.max(tally.peakHeld, queue.length);
  }, PRODUCE_EVERY_MS);
  while (performance.now() < until) {
    if (queue.length === 0) {
      const asked = performance.now();
      await sleep(1);
      tally.consumerWaitMs += performance.now() - asked;
      continue;
    }
    queue.shift();
    tally.delivered++;
    await sleep(CONSUME_MS);
  }
  clearInterval(timer);
  tally.dropped = 0;
  tally.peakHeld = Math.max(tally.peakHeld, queue.length);
}

const strategies: [name: string, run: (tally: Tally, until: number) => Promise<void>][] = [
  ["no strategy: unbounded array", unbounded],
  ["slow the producer: plain pull", (tally, until) => consume(producer(tally, until), tally)],
  ["boundedBuffer 16, wait", (tally, until) => consume(boundedBuffer(producer(tally, until), 16), tally)],
  [
    "boundedBuffer 16, drop-oldest",
    (tally, until) => consume(boundedBuffer(producer(tally, until), 16, { overflow: "drop-oldest" }), tally),
  ],
  ["sampleEvery 50 ms", (tally, until) => consume(sampleEvery(producer(tally, until), 50), tally)],
  ["debounce 5 ms, maxWait 50 ms", (tally, until) => consume(debounce(producer(tally, until), 5, { maxWaitMs: 50 }), tally)],
  [
    "concurrencyLimit 8 (scale out)",
    (tally, until) =>
      consume(concurrencyLimit(producer(tally, until), 8, (item) => sleep(CONSUME_MS).then(() => item)), tally, false),
  ],
];

const columns = ["strategy", "produced", "delivered", "dropped", "peak held", "producer waited", "consumer waited"];
const widths = [32, 9, 10, 8, 10, 16, 16];
const row = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("");

console.log(`A producer at ~${1000 / PRODUCE_EVERY_MS}/s, a consumer at ${1000 / CONSUME_MS}/s, ${RUN_MS} ms per strategy.\n`);
console.log(row(columns));
for (const [name, run] of strategies) {
  const tally: Tally = { produced: 0, delivered: 0, dropped: 0, peakHeld: 0, producerWaitMs: 0, consumerWaitMs: 0 };
  await run(tally, performance.now() + RUN_MS);
  console.log(row([
    name,
    String(tally.produced),
    String(tally.delivered),
    String(tally.dropped),
    String(tally.peakHeld),
    `${Math.round(tally.producerWaitMs)} ms`,
    `${Math.round(tally.consumerWaitMs)} ms`,
  ]));
}
console.log(`
Read it: without a strategy the held items grow with time. Pulling slows the producer
(it waits), a bounded buffer holds at most its capacity, the drop strategies keep up by
losing items on purpose (dropped), and concurrencyLimit spreads the work over 8 calls.`);
