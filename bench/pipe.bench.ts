/**
 * Pipeline depth: 1, 2, 4 and 8 read-ahead stages in a row, to show how the
 * per-item cost grows with the number of stages.
 *
 * Each stage is a bounded read-ahead of 16 (sluice `boundedBuffer` composed
 * with `pipe`; streaming-iterables `buffer(16)` composed with it-pipe's
 * `pipe`), against the same depth of hand-written pass-through generators.
 */
import { pipe as itPipe } from "it-pipe";
import { buffer } from "streaming-iterables";
import { boundedBuffer, pipe, type Stage } from "../mod.ts";
import { benchFile, type Group, ITEMS, numbers, passThrough } from "./_harness.ts";

const N = ITEMS;
export const DEPTHS = [1, 2, 4, 8] as const;

type Flow = AsyncIterable<number>;
const sluiceStage: Stage<number, number> = (source) => boundedBuffer(source, 16);
const peerStage = (source: Flow): Flow => buffer(16, source) as Flow;
const floorStage = (source: Flow): Flow => passThrough(source);

function stages<S>(stage: S, depth: number): S[] {
  return Array.from({ length: depth }, () => stage);
}

function nest(source: Flow, stage: (source: Flow) => Flow, depth: number): Flow {
  let flow = source;
  for (let i = 0; i < depth; i++) flow = stage(flow);
  return flow;
}

// Items shrink as stages grow, so every pass does about the same work (N stage-steps).
function depthGroup(depth: number, n: number): Group {
  return {
    id: `pipe/depth-${depth}`,
    title: `pipe, ${depth} × read-ahead(16)`,
    items: n,
    cases: [
      {
        name: `sluice pipe(${depth} × boundedBuffer(16))`,
        role: "sluice",
        iterate: () =>
          (pipe as (source: Flow, ...stages: Stage<number, number>[]) => Flow)(
            numbers(n),
            ...stages(sluiceStage, depth),
          ),
      },
      {
        name: `it-pipe(${depth} × streaming-iterables buffer(16))`,
        role: "peer",
        // it-pipe's typings want a sink last; the stages are plain functions of an async iterable.
        iterate: () =>
          (itPipe as unknown as (source: Flow, ...stages: ((s: Flow) => Flow)[]) => Flow)(
            numbers(n),
            ...stages(peerStage, depth),
          ),
      },
      {
        name: `${depth} × hand-written pass-through`,
        role: "floor",
        iterate: () => nest(numbers(n), floorStage, depth),
      },
      { name: "bare for await", role: "base", iterate: () => numbers(n) },
    ],
  };
}

export default benchFile(import.meta, DEPTHS.map((depth) => depthGroup(depth, N / depth)));
