/**
 * `pipe`: compose stages left to right, typed end to end.
 * @module
 */
import { asAsyncIterable } from "./_internal/upstream.ts";
import { assertFunction, assertSource } from "./_internal/validate.ts";
import type { Source } from "./types.ts";

/** One step of a pipeline: takes the items so far, returns the next async iterable. */
export type Stage<A, B> = (input: AsyncIterable<A>) => AsyncIterable<B>;

/**
 * Passes `source` through each stage in turn: `pipe(s, f, g)` is `g(f(s))`,
 * with every stage's item type inferred from the one before.
 *
 * Use it to read a pipeline in the order data flows. A stage is any function
 * of an async iterable, so sluice's combinators, your own async generators and
 * it-* or ix stages mix freely. A sync iterable source is read as an async one.
 * `pipe` itself pulls nothing: the pipeline runs as its result is iterated.
 *
 * @param source The items that enter the pipeline.
 * @param stages Functions from one async iterable to the next (typed up to 12 stages).
 * @returns What the last stage returns.
 * @throws {TypeError} If `source` is not iterable or a stage is not a function.
 *
 * @example Buffer, then debounce
 * ```ts
 * import { boundedBuffer, concurrencyLimit, pipe } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const lengths = pipe(
 *   ["a", "bb", "ccc"],
 *   (words) => boundedBuffer(words, 8),
 *   (words) => concurrencyLimit(words, 2, async (word) => word.length),
 * );
 * const seen: number[] = [];
 * for await (const length of lengths) seen.push(length);
 * assert.deepEqual(seen, [1, 2, 3]);
 * ```
 */
export function pipe<A>(source: Source<A>): AsyncIterable<A>;
export function pipe<A, B>(source: Source<A>, s1: Stage<A, B>): AsyncIterable<B>;
export function pipe<A, B, C>(source: Source<A>, s1: Stage<A, B>, s2: Stage<B, C>): AsyncIterable<C>;
export function pipe<A, B, C, D>(
  source: Source<A>,
  s1: Stage<A, B>,
  s2: Stage<B, C>,
  s3: Stage<C, D>,
): AsyncIterable<D>;
export function pipe<A, B, C, D, E>(
  source: Source<A>,
  s1: Stage<A, B>,
  s2: Stage<B, C>,
  s3: Stage<C, D>,
  s4: Stage<D, E>,
): AsyncIterable<E>;
export function pipe<A, B, C, D, E, F>(
  source: Source<A>,
  s1: Stage<A, B>,
  s2: Stage<B, C>,
  s3: Stage<C, D>,
  s4: Stage<D, E>,
  s5: Stage<E, F>,
): AsyncIterable<F>;
export function pipe<A, B, C, D, E, F, G>(
  source: Source<A>,
  s1: Stage<A, B>,
  s2: Stage<B, C>,
  s3: Stage<C, D>,
  s4: Stage<D, E>,
  s5: Stage<E, F>,
  s6: Stage<F, G>,
): AsyncIterable<G>;
export function pipe<A, B, C, D, E, F, G, H>(
  source: Source<A>,
  s1: Stage<A, B>,
  s2: Stage<B, C>,
  s3: Stage<C, D>,
  s4: Stage<D, E>,
  s5: Stage<E, F>,
  s6: Stage<F, G>,
  s7: Stage<G, H>,
): AsyncIterable<H>;
export function pipe<A, B, C, D, E, F, G, H, I>(
  source: Source<A>,
  s1: Stage<A, B>,
  s2: Stage<B, C>,
  s3: Stage<C, D>,
  s4: Stage<D, E>,
  s5: Stage<E, F>,
  s6: Stage<F, G>,
  s7: Stage<G, H>,
  s8: Stage<H, I>,
): AsyncIterable<I>;
export function pipe<A, B, C, D, E, F, G, H, I, J>(
  source: Source<A>,
  s1: Stage<A, B>,
  s2: Stage<B, C>,
  s3: Stage<C, D>,
  s4: Stage<D, E>,
  s5: Stage<E, F>,
  s6: Stage<F, G>,
  s7: Stage<G, H>,
  s8: Stage<H, I>,
  s9: Stage<I, J>,
): AsyncIterable<J>;
export function pipe<A, B, C, D, E, F, G, H, I, J, K>(
  source: Source<A>,
  s1: Stage<A, B>,
  s2: Stage<B, C>,
  s3: Stage<C, D>,
  s4: Stage<D, E>,
  s5: Stage<E, F>,
  s6: Stage<F, G>,
  s7: Stage<G, H>,
  s8: Stage<H, I>,
  s9: Stage<I, J>,
  s10: Stage<J, K>,
): AsyncIterable<K>;
export function pipe<A, B, C, D, E, F, G, H, I, J, K, L>(
  source: Source<A>,
  s1: Stage<A, B>,
  s2: Stage<B, C>,
  s3: Stage<C, D>,
  s4: Stage<D, E>,
  s5: Stage<E, F>,
  s6: Stage<F, G>,
  s7: Stage<G, H>,
  s8: Stage<H, I>,
  s9: Stage<I, J>,
  s10: Stage<J, K>,
  s11: Stage<K, L>,
): AsyncIterable<L>;
export function pipe<A, B, C, D, E, F, G, H, I, J, K, L, M>(
  source: Source<A>,
  s1: Stage<A, B>,
  s2: Stage<B, C>,
  s3: Stage<C, D>,
  s4: Stage<D, E>,
  s5: Stage<E, F>,
  s6: Stage<F, G>,
  s7: Stage<G, H>,
  s8: Stage<H, I>,
  s9: Stage<I, J>,
  s10: Stage<J, K>,
  s11: Stage<K, L>,
  s12: Stage<L, M>,
): AsyncIterable<M>;
export function pipe(source: Source<unknown>, ...stages: Stage<unknown, unknown>[]): AsyncIterable<unknown>;
export function pipe(source: Source<unknown>, ...stages: Stage<unknown, unknown>[]): AsyncIterable<unknown> {
  assertSource(source, "pipe");
  stages.forEach((stage, index) => assertFunction(stage, "pipe", `stages[${index}]`));
  let flow = asAsyncIterable(source);
  for (const stage of stages) flow = stage(flow);
  return flow;
}
