/**
 * limiter: 100k calls of a trivially async function through a limit of 8,
 * all queued at once and awaited with `Promise.all` (how p-limit is used).
 * The issue 4 target is at least p-limit's throughput.
 *
 * Peers: p-limit (`pLimit(8)`), p-queue (`new PQueue({ concurrency: 8 }).add`).
 * Hand-written: a counter and an array of waiting starts.
 */
import pLimit from "p-limit";
import PQueue from "p-queue";
import { limiter } from "../mod.ts";
import { benchFile, identityAsync, ITEMS } from "./_harness.ts";

const TASKS = ITEMS / 2;
const LIMIT = 8;
const fn = identityAsync<number>;

/** Hand-written limiter: start now if under the limit, else queue the start (an array read from a moving head). */
function handLimit(limit: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  let head = 0;
  const next = () => {
    active--;
    if (head < waiting.length) waiting[head++]!();
  };
  return <R>(task: () => Promise<R>): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      const start = () => {
        active++;
        task().then(resolve, reject).finally(next);
      };
      if (active < limit) start();
      else waiting.push(start);
    });
}

const all = async (calls: Promise<number>[]) => (await Promise.all(calls)).length;

export default benchFile(import.meta, [
  {
    id: "limiter/100k",
    title: "limiter(8), 100k calls queued at once",
    items: TASKS,
    targets: [{ against: "peer", min: 1 }],
    cases: [
      {
        name: "sluice limiter(8)",
        role: "sluice",
        run: () => {
          const limit = limiter(LIMIT);
          return all(Array.from({ length: TASKS }, (_, i) => limit(fn, i)));
        },
      },
      {
        name: "p-limit pLimit(8)",
        role: "peer",
        run: () => {
          const limit = pLimit(LIMIT);
          return all(Array.from({ length: TASKS }, (_, i) => limit(fn, i)));
        },
      },
      {
        name: "p-queue({concurrency: 8}).add",
        role: "peer",
        run: () => {
          const queue = new PQueue({ concurrency: LIMIT });
          return all(Array.from({ length: TASKS }, (_, i) => queue.add(() => fn(i)) as Promise<number>));
        },
      },
      {
        name: "hand-written counter + queue",
        role: "floor",
        run: () => {
          const limit = handLimit(LIMIT);
          return all(Array.from({ length: TASKS }, (_, i) => limit(() => fn(i))));
        },
      },
    ],
  },
]);
