/**
 * `npm run example:per-user [events] [users] [writers]`: one stream of events
 * from many users, each user's flow handled on its own with bounded memory.
 *
 * 100,000 events of 1,000 users arrive in bursts. Per user, a debounce keeps
 * only the settled state of each burst (`debounce` with `key`), and the
 * settled states are written to a store that takes 5–20 ms per write, one
 * write at a time per user and users in parallel, at most 64 writes at once
 * (`concurrencyLimit` with `key`). It prints the writes per user, the writes
 * that overlapped another of their user's (0), the most writes at the store at
 * once, the peak number of keys alive in the debounce and in the writer, and
 * the peak heap.
 */
import { concurrencyLimit, debounce } from "../mod.ts";
import "./_quiet_pipe.ts";

const EVENTS = Number(process.argv[2] ?? 100_000);
const USERS = Number(process.argv[3] ?? 1_000);
const WRITERS = Number(process.argv[4] ?? 64);
const WAIT_MS = 20;
const MAX_WAIT_MS = 100;

interface Event {
  user: number;
  seq: number;
}

/** Events in bursts: 500 events, then a 1 ms pause, users in a shuffled order. */
async function* events(): AsyncGenerator<Event> {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let seq = 0; seq < EVENTS; seq++) {
    if (seq % 500 === 499) await new Promise((resolve) => setTimeout(resolve, 1));
    yield { user: Math.floor(random() * USERS), seq };
  }
}

/** A store whose writes take 5-20 ms; it notices if two writes of one user ever overlap, and counts writes at once. */
const store = {
  writing: new Set<number>(),
  writes: new Map<number, number>(),
  overlaps: 0,
  inFlight: 0,
  mostInFlight: 0,
  async write(event: Event): Promise<void> {
    if (this.writing.has(event.user)) this.overlaps++;
    this.writing.add(event.user);
    this.mostInFlight = Math.max(this.mostInFlight, ++this.inFlight);
    await new Promise((resolve) => setTimeout(resolve, 5 + (event.seq % 16)));
    this.inFlight--;
    this.writing.delete(event.user);
    this.writes.set(event.user, (this.writes.get(event.user) ?? 0) + 1);
  },
};

let peakHeap = 0;
let peakDebounceKeys = 0;
let peakWriterKeys = 0;
const sampleHeap = () => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed));
const heapTimer = setInterval(sampleHeap, 10);

const started = performance.now();
const settled = debounce(events(), WAIT_MS, { key: (event) => event.user, maxWaitMs: MAX_WAIT_MS, maxKeys: USERS });
// One write at a time per user, in the order of that user's events; users in parallel, at most WRITERS writes at
// once. An event whose user is still being written waits and counts against WRITERS, so the debounce is read no
// further ahead than that: memory stays within WRITERS events plus one record per user being written.
const written = concurrencyLimit(settled, WRITERS, (event) => store.write(event), {
  key: (event) => event.user,
  ordered: false,
});
for await (const _ of written) {
  peakWriterKeys = Math.max(peakWriterKeys, written.keys);
  peakDebounceKeys = Math.max(peakDebounceKeys, settled.keys);
}
clearInterval(heapTimer);
sampleHeap();

const counts = [...store.writes.values()];
const total = counts.reduce((sum, n) => sum + n, 0);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
console.log(`events:                ${EVENTS} from ${USERS} users`);
console.log(`writes:                ${total} (${settled.dropped} events replaced by a newer one of their user)`);
console.log(
  `writes per user:       min ${Math.min(...counts)}, mean ${(total / counts.length).toFixed(1)}, max ${
    Math.max(...counts)
  } (${counts.length} users written)`,
);
console.log(`overlapping writes:    ${store.overlaps}`);
console.log(`most writes at once:   ${store.mostInFlight} (limit ${WRITERS})`);
console.log(`peak keys alive:       debounce ${peakDebounceKeys}, writer ${peakWriterKeys}`);
console.log(`peak heap:             ${mib(peakHeap)}`);
console.log(`time:                  ${((performance.now() - started) / 1000).toFixed(1)} s`);
