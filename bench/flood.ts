/**
 * Flood and soak: what sluice retains under a flood, at 1M and 10M items.
 *
 * 1. `fromEvents` on a Node `EventEmitter` (and once on an `EventTarget`):
 *    events are emitted synchronously in bursts of 1000, and a slow consumer
 *    takes 16 of them per burst, then waits a macrotask. For each overflow mode
 *    that applies: `"drop-oldest"`, `"drop-newest"`, and `"error"` (the
 *    `OverflowError` is caught, counted, and a new `fromEvents` listens on).
 *    Reports events emitted, delivered and dropped (for `"error"`: emitted and
 *    not delivered), and checks emitted = delivered + dropped.
 * 2. A six-stage `pipe` (boundedBuffer → sampleNth → batch → flatten →
 *    boundedBuffer → batch) from an in-memory async generator, drained to the
 *    end; checks the count and the last item.
 *
 * Retained heap: `heapUsed` after a forced gc, minus the heap after a forced gc
 * before the case, taken when the count reaches each size.
 *
 * Run: `npx tsx --expose-gc bench/flood.ts` (or `npm run bench:flood`). Sizes:
 * `SLUICE_FLOOD_SIZES=1000000,10000000` (the default; the largest is the run's
 * length). Not a `*.bench.ts`, so `npm run bench` does not run it.
 */
import { EventEmitter } from "node:events";
import process from "node:process";
import { batch, boundedBuffer, fromEvents, OverflowError, pipe, sampleNth } from "../mod.ts";
import { collectGarbage, runtimeVersion } from "./_harness.ts";

const BURST = 1000;
const TAKE = 16;
const CAPACITY = 16;

const sizes = (process.env.SLUICE_FLOOD_SIZES ?? "1000000,10000000").split(",").map(Number);
if (sizes.some((n) => !Number.isSafeInteger(n) || n <= 0)) {
  throw new RangeError(`SLUICE_FLOOD_SIZES must be positive integers, received ${process.env.SLUICE_FLOOD_SIZES}`);
}
sizes.sort((a, b) => a - b);
const total = sizes[sizes.length - 1];

function heap(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MB`;
const macrotask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function check(ok: boolean, what: string): void {
  if (!ok) {
    process.exitCode = 1;
    console.log(`  FAILED: ${what}`);
  }
}

type Mode = "drop-oldest" | "drop-newest" | "error";

interface Target {
  emit(i: number): void;
  close(): void;
  target: EventEmitter | EventTarget;
}

function emitterTarget(): Target {
  const target = new EventEmitter();
  return { target, emit: (i) => target.emit("data", i), close: () => target.emit("close") };
}

function eventTarget(): Target {
  const target = new EventTarget();
  return {
    target,
    emit: (i) => target.dispatchEvent(new CustomEvent("data", { detail: i })),
    close: () => target.dispatchEvent(new Event("close")),
  };
}

async function floodEvents(name: string, make: () => Target, mode: Mode): Promise<void> {
  const base = heap();
  const t = make();
  let dropped = 0;
  let errors = 0;
  let delivered = 0;
  const open = () =>
    fromEvents<unknown>(t.target, "data", {
      capacity: CAPACITY,
      overflow: mode,
      endOn: "close",
      onDrop: () => dropped++,
    })[Symbol.asyncIterator]();
  let it = open();
  const retained: string[] = [];
  let next = 0;
  let emitted = 0;
  // Takes up to `n` events (all, for Infinity); on OverflowError counts it and listens anew.
  const take = async (n: number) => {
    for (let k = 0; k < n; k++) {
      try {
        const r = await it.next();
        if (r.done) return;
        delivered++;
      } catch (error) {
        if (!(error instanceof OverflowError)) throw error;
        errors++;
        it = open();
        return;
      }
    }
  };
  while (emitted < total) {
    const end = Math.min(total, emitted + BURST);
    while (emitted < end) t.emit(emitted++);
    await take(TAKE);
    await macrotask();
    if (emitted >= sizes[next]) retained.push(`${mb(heap() - base)} at ${sizes[next++]}`);
  }
  t.close();
  await take(Infinity);
  const lost = mode === "error" ? emitted - delivered : dropped;
  console.log(
    `${name} ${mode}: emitted ${emitted}, delivered ${delivered}, dropped ${lost}` +
      (mode === "error" ? ` (${errors} OverflowErrors)` : "") + `; retained ${retained.join(", ")}`,
  );
  check(emitted === total, `emitted ${emitted} of ${total}`);
  if (mode === "error") {
    check(errors > 0 && delivered >= errors * CAPACITY, `each OverflowError came after the held events`);
  } else {
    check(emitted === delivered + dropped, `emitted = delivered + dropped`);
    check(dropped === 0 || delivered > 0, `some events delivered`);
  }
}

async function soakPipe(): Promise<void> {
  const base = heap();
  const retained: string[] = [];
  let next = 0;
  async function* source() {
    for (let i = 0; i < total; i++) {
      yield { i };
      if (i + 1 === sizes[next]) retained.push(`${mb(heap() - base)} at ${sizes[next++]}`);
    }
  }
  async function* flatten<T>(input: AsyncIterable<T[]>) {
    for await (const items of input) yield* items;
  }
  const out = pipe(
    source(),
    (s) => boundedBuffer(s, 64),
    (s) => sampleNth(s, 2),
    (s) => batch(s, { size: 32 }),
    (s) => flatten(s),
    (s) => boundedBuffer(s, 16),
    (s) => batch(s, { size: 10 }),
  );
  let count = 0;
  let last = -1;
  for await (const items of out) {
    for (const item of items) {
      check(item.i === last + 2 || (last === -1 && item.i === 0), `item ${item.i} after ${last}`);
      last = item.i;
      count++;
    }
  }
  console.log(`pipe (6 stages): ${total} items in, ${count} out; retained ${retained.join(", ")}`);
  check(count === Math.ceil(total / 2), `${count} out of ${total} with sampleNth 2`);
}

console.log(`flood: ${runtimeVersion()}${collectGarbage() ? "" : " (no forced gc: run with --expose-gc)"}`);
for (const mode of ["drop-oldest", "drop-newest", "error"] as const) {
  await floodEvents("EventEmitter", emitterTarget, mode);
}
await floodEvents("EventTarget", eventTarget, "drop-oldest");
await soakPipe();
