/**
 * channel: a producer pushes 200k items and a consumer reads them with
 * `for await`, both running at once. sluice's channel is bounded (16 held,
 * `await send()` waits for room); the issue 4 target is at least it-pushable's
 * throughput, which never makes its producer wait and so queues without bound.
 *
 * Peer: it-pushable (`push()` in a loop, then `end()`). Hand-written: the
 * smallest bounded channel a user would write (a ring of 16, a deferred for
 * the waiting reader and one for the waiting writer), read by an
 * `async function*`.
 */
import { pushable } from "it-pushable";
import { channel } from "../mod.ts";
import { benchFile, ITEMS } from "./_harness.ts";

const N = ITEMS;
const CAPACITY = 16;

/** Hand-written bounded channel: `send` resolves once there is room; `read()` yields until closed. */
class HandChannel<T> {
  #items: T[] = [];
  #closed = false;
  #reader: (() => void) | undefined;
  #writer: (() => void) | undefined;
  constructor(readonly capacity: number) {}

  async send(item: T): Promise<void> {
    while (this.#items.length >= this.capacity) await new Promise<void>((resolve) => (this.#writer = resolve));
    this.#items.push(item);
    const reader = this.#reader;
    this.#reader = undefined;
    reader?.();
  }

  close(): void {
    this.#closed = true;
    this.#reader?.();
  }

  async *read(): AsyncGenerator<T> {
    for (;;) {
      if (this.#items.length > 0) {
        const item = this.#items.shift()!;
        const writer = this.#writer;
        this.#writer = undefined;
        writer?.();
        yield item;
      } else if (this.#closed) return;
      else await new Promise<void>((resolve) => (this.#reader = resolve));
    }
  }
}

export default benchFile(import.meta, [
  {
    id: "channel/send-receive",
    title: "channel(16), await send() / for await",
    items: N,
    targets: [{ against: "peer", min: 1 }],
    cases: [
      {
        name: "sluice channel(16), await send()",
        role: "sluice",
        run: async () => {
          const ch = channel<number>({ capacity: CAPACITY });
          const producer = (async () => {
            for (let i = 0; i < N; i++) await ch.send(i);
            ch.close();
          })();
          let count = 0;
          for await (const _ of ch) count++;
          await producer;
          return count;
        },
      },
      {
        name: "it-pushable push() (unbounded)",
        role: "peer",
        run: async () => {
          const queue = pushable<number>({ objectMode: true });
          const producer = (async () => {
            for (let i = 0; i < N; i++) queue.push(i);
            queue.end();
          })();
          let count = 0;
          for await (const _ of queue) count++;
          await producer;
          return count;
        },
      },
      {
        name: "hand-written bounded channel",
        role: "floor",
        run: async () => {
          const ch = new HandChannel<number>(CAPACITY);
          const producer = (async () => {
            for (let i = 0; i < N; i++) await ch.send(i);
            ch.close();
          })();
          let count = 0;
          for await (const _ of ch.read()) count++;
          await producer;
          return count;
        },
      },
    ],
  },
  {
    id: "channel/try-send",
    title: "channel(16), trySend() first, await send() when full",
    items: N,
    note: "The producer a push source would use: no promise per item while there is room.",
    cases: [
      {
        name: "sluice channel(16), trySend() || await send()",
        role: "sluice",
        run: async () => {
          const ch = channel<number>({ capacity: CAPACITY });
          const producer = (async () => {
            for (let i = 0; i < N; i++) if (!ch.trySend(i)) await ch.send(i);
            ch.close();
          })();
          let count = 0;
          for await (const _ of ch) count++;
          await producer;
          return count;
        },
      },
      {
        name: "it-pushable push() (unbounded)",
        role: "peer",
        run: async () => {
          const queue = pushable<number>({ objectMode: true });
          const producer = (async () => {
            for (let i = 0; i < N; i++) queue.push(i);
            queue.end();
          })();
          let count = 0;
          for await (const _ of queue) count++;
          await producer;
          return count;
        },
      },
    ],
  },
]);
