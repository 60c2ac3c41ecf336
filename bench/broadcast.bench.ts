/**
 * broadcast: one fast in-memory source sent to 1, 4 and 16 readers, every
 * reader draining every item (`maxLag` 16, every reader `policy: "wait"`).
 * Each group reads `ITEMS / readers` source items, so every group delivers
 * `ITEMS` items in all; a case resolves to the items its readers took.
 *
 * Peer: it-pushable, one unbounded queue per reader fed by one loop reading the
 * source (no bound: a slow reader's queue grows without limit). Hand-written:
 * one loop reading the source into a bounded array per reader (16 items), with
 * a promise handing over to each waiting reader and one holding the loop while
 * any reader's array is full.
 */
import { pushable } from "it-pushable";
import { broadcast } from "../mod.ts";
import { benchFile, drain, type Group, ITEMS, numbers } from "./_harness.ts";

const BOUND = 16;

/** Drains every reader at once; resolves to the items they took in all. */
async function drainAll(readers: AsyncIterable<unknown>[]): Promise<number> {
  const counts = await Promise.all(readers.map((reader) => drain(reader)));
  return counts.reduce((sum, n) => sum + n, 0);
}

/** Hand-written: one loop, a bounded array per reader, promise handoff both ways. */
function fanOutByHand<T>(source: AsyncIterable<T>, readers: number): AsyncIterable<T>[] {
  const queues: T[][] = Array.from({ length: readers }, () => []);
  const wakeReader: ((() => void) | undefined)[] = new Array(readers).fill(undefined);
  let wakeLoop: (() => void) | undefined;
  let done = false;
  let failure: { error: unknown } | undefined;
  const wakeAll = () => {
    for (let i = 0; i < readers; i++) {
      const wake = wakeReader[i];
      wakeReader[i] = undefined;
      wake?.();
    }
  };
  void (async () => {
    try {
      for await (const item of source) {
        while (queues.some((queue) => queue.length >= BOUND)) {
          await new Promise<void>((resolve) => wakeLoop = resolve);
        }
        for (const queue of queues) queue.push(item);
        wakeAll();
      }
    } catch (error) {
      failure = { error };
    }
    done = true;
    wakeAll();
  })();
  return queues.map((queue, i) =>
    (async function* () {
      while (true) {
        if (queue.length > 0) {
          const item = queue.shift()!;
          const wake = wakeLoop;
          wakeLoop = undefined;
          wake?.();
          yield item;
        } else if (done) {
          if (failure) throw failure.error;
          return;
        } else {
          await new Promise<void>((resolve) => wakeReader[i] = resolve);
        }
      }
    })()
  );
}

/** it-pushable: one unbounded queue per reader, fed by one loop. */
function fanOutPushable<T>(source: AsyncIterable<T>, readers: number): AsyncIterable<T>[] {
  const queues = Array.from({ length: readers }, () => pushable<T>({ objectMode: true }));
  void (async () => {
    try {
      for await (const item of source) for (const queue of queues) queue.push(item);
      for (const queue of queues) queue.end();
    } catch (error) {
      for (const queue of queues) queue.end(error as Error);
    }
  })();
  return queues;
}

function group(readers: number): Group {
  const items = Math.floor(ITEMS / readers);
  return {
    id: `broadcast/${readers}-readers`,
    title: `broadcast to ${readers} reader${readers === 1 ? "" : "s"}, ${items} items each`,
    items,
    cases: [
      {
        name: "sluice broadcast",
        role: "sluice",
        expect: items * readers,
        run: () => {
          const hub = broadcast(numbers(items), { maxLag: BOUND });
          return drainAll(Array.from({ length: readers }, () => hub.subscribe()));
        },
      },
      {
        name: "it-pushable per reader (unbounded)",
        role: "peer",
        expect: items * readers,
        run: () => drainAll(fanOutPushable(numbers(items), readers)),
      },
      {
        name: "hand-written bounded fan-out",
        role: "floor",
        expect: items * readers,
        run: () => drainAll(fanOutByHand(numbers(items), readers)),
      },
    ],
  };
}

export default benchFile(import.meta, [group(1), group(4), group(16)]);
