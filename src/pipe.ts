/**
 * `pipe`: compose stages left to right, typed end to end.
 * @module
 */
import { asAsyncIterable } from "./_internal/upstream.ts";
import { assertFunction, assertSource, describe, isIterableSource } from "./_internal/validate.ts";
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
 * Types: each stage's item type is inferred from the one before, for up to 20
 * stages; past 20 the call is a type error that says so (nest a `pipe()` to
 * group stages). The result has the type of what the last stage returns, so
 * `await using flow = pipe(...)` works when the last stage is a sluice
 * combinator (its iterator is `AsyncDisposable`) and closes the whole pipeline
 * at the end of the block.
 *
 * @param source The items that enter the pipeline.
 * @param stages Functions from one async iterable to the next (typed up to 20 stages).
 * @returns What the last stage returns (with no stage: an async source itself, a sync one read as async).
 * @throws {TypeError} If `source` is not iterable, a stage is not a function, or a stage returns something not iterable.
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
export function pipe<S extends AsyncIterable<unknown>>(source: S): S;
export function pipe<T0>(source: Iterable<T0>): AsyncIterable<T0>;
export function pipe<T0, R extends AsyncIterable<unknown>>(
  source: Source<T0>,
  s1: (input: AsyncIterable<T0>) => R,
): R;
export function pipe<T0, T1, R extends AsyncIterable<unknown>>(
  source: Source<T0>,
  s1: Stage<T0, T1>,
  s2: (input: AsyncIterable<T1>) => R,
): R;
export function pipe<T0, T1, T2, R extends AsyncIterable<unknown>>(
  source: Source<T0>,
  s1: Stage<T0, T1>,
  s2: Stage<T1, T2>,
  s3: (input: AsyncIterable<T2>) => R,
): R;
export function pipe<T0, T1, T2, T3, R extends AsyncIterable<unknown>>(
  source: Source<T0>,
  s1: Stage<T0, T1>,
  s2: Stage<T1, T2>,
  s3: Stage<T2, T3>,
  s4: (input: AsyncIterable<T3>) => R,
): R;
export function pipe<T0, T1, T2, T3, T4, R extends AsyncIterable<unknown>>(
  source: Source<T0>,
  s1: Stage<T0, T1>,
  s2: Stage<T1, T2>,
  s3: Stage<T2, T3>,
  s4: Stage<T3, T4>,
  s5: (input: AsyncIterable<T4>) => R,
): R;
export function pipe<T0, T1, T2, T3, T4, T5, R extends AsyncIterable<unknown>>(
  source: Source<T0>,
  s1: Stage<T0, T1>,
  s2: Stage<T1, T2>,
  s3: Stage<T2, T3>,
  s4: Stage<T3, T4>,
  s5: Stage<T4, T5>,
  s6: (input: AsyncIterable<T5>) => R,
): R;
export function pipe<T0, T1, T2, T3, T4, T5, T6, R extends AsyncIterable<unknown>>(
  source: Source<T0>,
  s1: Stage<T0, T1>,
  s2: Stage<T1, T2>,
  s3: Stage<T2, T3>,
  s4: Stage<T3, T4>,
  s5: Stage<T4, T5>,
  s6: Stage<T5, T6>,
  s7: (input: AsyncIterable<T6>) => R,
): R;
export function pipe<T0, T1, T2, T3, T4, T5, T6, T7, R extends AsyncIterable<unknown>>(
  source: Source<T0>,
  s1: Stage<T0, T1>,
  s2: Stage<T1, T2>,
  s3: Stage<T2, T3>,
  s4: Stage<T3, T4>,
  s5: Stage<T4, T5>,
  s6: Stage<T5, T6>,
  s7: Stage<T6, T7>,
  s8: (input: AsyncIterable<T7>) => R,
): R;
export function pipe<T0, T1, T2, T3, T4, T5, T6, T7, T8, R extends AsyncIterable<unknown>>(
  source: Source<T0>,
  s1: Stage<T0, T1>,
  s2: Stage<T1, T2>,
  s3: Stage<T2, T3>,
  s4: Stage<T3, T4>,
  s5: Stage<T4, T5>,
  s6: Stage<T5, T6>,
  s7: Stage<T6, T7>,
  s8: Stage<T7, T8>,
  s9: (input: AsyncIterable<T8>) => R,
): R;
export function pipe<T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, R extends AsyncIterable<unknown>>(
  source: Source<T0>,
  s1: Stage<T0, T1>,
  s2: Stage<T1, T2>,
  s3: Stage<T2, T3>,
  s4: Stage<T3, T4>,
  s5: Stage<T4, T5>,
  s6: Stage<T5, T6>,
  s7: Stage<T6, T7>,
  s8: Stage<T7, T8>,
  s9: Stage<T8, T9>,
  s10: (input: AsyncIterable<T9>) => R,
): R;
export function pipe<T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, R extends AsyncIterable<unknown>>(
  source: Source<T0>,
  s1: Stage<T0, T1>,
  s2: Stage<T1, T2>,
  s3: Stage<T2, T3>,
  s4: Stage<T3, T4>,
  s5: Stage<T4, T5>,
  s6: Stage<T5, T6>,
  s7: Stage<T6, T7>,
  s8: Stage<T7, T8>,
  s9: Stage<T8, T9>,
  s10: Stage<T9, T10>,
  s11: (input: AsyncIterable<T10>) => R,
): R;
export function pipe<T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, R extends AsyncIterable<unknown>>(
  source: Source<T0>,
  s1: Stage<T0, T1>,
  s2: Stage<T1, T2>,
  s3: Stage<T2, T3>,
  s4: Stage<T3, T4>,
  s5: Stage<T4, T5>,
  s6: Stage<T5, T6>,
  s7: Stage<T6, T7>,
  s8: Stage<T7, T8>,
  s9: Stage<T8, T9>,
  s10: Stage<T9, T10>,
  s11: Stage<T10, T11>,
  s12: (input: AsyncIterable<T11>) => R,
): R;
export function pipe<T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, R extends AsyncIterable<unknown>>(
  source: Source<T0>,
  s1: Stage<T0, T1>,
  s2: Stage<T1, T2>,
  s3: Stage<T2, T3>,
  s4: Stage<T3, T4>,
  s5: Stage<T4, T5>,
  s6: Stage<T5, T6>,
  s7: Stage<T6, T7>,
  s8: Stage<T7, T8>,
  s9: Stage<T8, T9>,
  s10: Stage<T9, T10>,
  s11: Stage<T10, T11>,
  s12: Stage<T11, T12>,
  s13: (input: AsyncIterable<T12>) => R,
): R;
export function pipe<T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, R extends AsyncIterable<unknown>>(
  source: Source<T0>,
  s1: Stage<T0, T1>,
  s2: Stage<T1, T2>,
  s3: Stage<T2, T3>,
  s4: Stage<T3, T4>,
  s5: Stage<T4, T5>,
  s6: Stage<T5, T6>,
  s7: Stage<T6, T7>,
  s8: Stage<T7, T8>,
  s9: Stage<T8, T9>,
  s10: Stage<T9, T10>,
  s11: Stage<T10, T11>,
  s12: Stage<T11, T12>,
  s13: Stage<T12, T13>,
  s14: (input: AsyncIterable<T13>) => R,
): R;
export function pipe<T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, R extends AsyncIterable<unknown>>(
  source: Source<T0>,
  s1: Stage<T0, T1>,
  s2: Stage<T1, T2>,
  s3: Stage<T2, T3>,
  s4: Stage<T3, T4>,
  s5: Stage<T4, T5>,
  s6: Stage<T5, T6>,
  s7: Stage<T6, T7>,
  s8: Stage<T7, T8>,
  s9: Stage<T8, T9>,
  s10: Stage<T9, T10>,
  s11: Stage<T10, T11>,
  s12: Stage<T11, T12>,
  s13: Stage<T12, T13>,
  s14: Stage<T13, T14>,
  s15: (input: AsyncIterable<T14>) => R,
): R;
export function pipe<
  T0,
  T1,
  T2,
  T3,
  T4,
  T5,
  T6,
  T7,
  T8,
  T9,
  T10,
  T11,
  T12,
  T13,
  T14,
  T15,
  R extends AsyncIterable<unknown>,
>(
  source: Source<T0>,
  s1: Stage<T0, T1>,
  s2: Stage<T1, T2>,
  s3: Stage<T2, T3>,
  s4: Stage<T3, T4>,
  s5: Stage<T4, T5>,
  s6: Stage<T5, T6>,
  s7: Stage<T6, T7>,
  s8: Stage<T7, T8>,
  s9: Stage<T8, T9>,
  s10: Stage<T9, T10>,
  s11: Stage<T10, T11>,
  s12: Stage<T11, T12>,
  s13: Stage<T12, T13>,
  s14: Stage<T13, T14>,
  s15: Stage<T14, T15>,
  s16: (input: AsyncIterable<T15>) => R,
): R;
export function pipe<
  T0,
  T1,
  T2,
  T3,
  T4,
  T5,
  T6,
  T7,
  T8,
  T9,
  T10,
  T11,
  T12,
  T13,
  T14,
  T15,
  T16,
  R extends AsyncIterable<unknown>,
>(
  source: Source<T0>,
  s1: Stage<T0, T1>,
  s2: Stage<T1, T2>,
  s3: Stage<T2, T3>,
  s4: Stage<T3, T4>,
  s5: Stage<T4, T5>,
  s6: Stage<T5, T6>,
  s7: Stage<T6, T7>,
  s8: Stage<T7, T8>,
  s9: Stage<T8, T9>,
  s10: Stage<T9, T10>,
  s11: Stage<T10, T11>,
  s12: Stage<T11, T12>,
  s13: Stage<T12, T13>,
  s14: Stage<T13, T14>,
  s15: Stage<T14, T15>,
  s16: Stage<T15, T16>,
  s17: (input: AsyncIterable<T16>) => R,
): R;
export function pipe<
  T0,
  T1,
  T2,
  T3,
  T4,
  T5,
  T6,
  T7,
  T8,
  T9,
  T10,
  T11,
  T12,
  T13,
  T14,
  T15,
  T16,
  T17,
  R extends AsyncIterable<unknown>,
>(
  source: Source<T0>,
  s1: Stage<T0, T1>,
  s2: Stage<T1, T2>,
  s3: Stage<T2, T3>,
  s4: Stage<T3, T4>,
  s5: Stage<T4, T5>,
  s6: Stage<T5, T6>,
  s7: Stage<T6, T7>,
  s8: Stage<T7, T8>,
  s9: Stage<T8, T9>,
  s10: Stage<T9, T10>,
  s11: Stage<T10, T11>,
  s12: Stage<T11, T12>,
  s13: Stage<T12, T13>,
  s14: Stage<T13, T14>,
  s15: Stage<T14, T15>,
  s16: Stage<T15, T16>,
  s17: Stage<T16, T17>,
  s18: (input: AsyncIterable<T17>) => R,
): R;
export function pipe<
  T0,
  T1,
  T2,
  T3,
  T4,
  T5,
  T6,
  T7,
  T8,
  T9,
  T10,
  T11,
  T12,
  T13,
  T14,
  T15,
  T16,
  T17,
  T18,
  R extends AsyncIterable<unknown>,
>(
  source: Source<T0>,
  s1: Stage<T0, T1>,
  s2: Stage<T1, T2>,
  s3: Stage<T2, T3>,
  s4: Stage<T3, T4>,
  s5: Stage<T4, T5>,
  s6: Stage<T5, T6>,
  s7: Stage<T6, T7>,
  s8: Stage<T7, T8>,
  s9: Stage<T8, T9>,
  s10: Stage<T9, T10>,
  s11: Stage<T10, T11>,
  s12: Stage<T11, T12>,
  s13: Stage<T12, T13>,
  s14: Stage<T13, T14>,
  s15: Stage<T14, T15>,
  s16: Stage<T15, T16>,
  s17: Stage<T16, T17>,
  s18: Stage<T17, T18>,
  s19: (input: AsyncIterable<T18>) => R,
): R;
export function pipe<
  T0,
  T1,
  T2,
  T3,
  T4,
  T5,
  T6,
  T7,
  T8,
  T9,
  T10,
  T11,
  T12,
  T13,
  T14,
  T15,
  T16,
  T17,
  T18,
  T19,
  R extends AsyncIterable<unknown>,
>(
  source: Source<T0>,
  s1: Stage<T0, T1>,
  s2: Stage<T1, T2>,
  s3: Stage<T2, T3>,
  s4: Stage<T3, T4>,
  s5: Stage<T4, T5>,
  s6: Stage<T5, T6>,
  s7: Stage<T6, T7>,
  s8: Stage<T7, T8>,
  s9: Stage<T8, T9>,
  s10: Stage<T9, T10>,
  s11: Stage<T10, T11>,
  s12: Stage<T11, T12>,
  s13: Stage<T12, T13>,
  s14: Stage<T13, T14>,
  s15: Stage<T14, T15>,
  s16: Stage<T15, T16>,
  s17: Stage<T16, T17>,
  s18: Stage<T17, T18>,
  s19: Stage<T18, T19>,
  s20: (input: AsyncIterable<T19>) => R,
): R;
export function pipe(
  source: Source<unknown>,
  s1: Stage<never, unknown>,
  s2: Stage<never, unknown>,
  s3: Stage<never, unknown>,
  s4: Stage<never, unknown>,
  s5: Stage<never, unknown>,
  s6: Stage<never, unknown>,
  s7: Stage<never, unknown>,
  s8: Stage<never, unknown>,
  s9: Stage<never, unknown>,
  s10: Stage<never, unknown>,
  s11: Stage<never, unknown>,
  s12: Stage<never, unknown>,
  s13: Stage<never, unknown>,
  s14: Stage<never, unknown>,
  s15: Stage<never, unknown>,
  s16: Stage<never, unknown>,
  s17: Stage<never, unknown>,
  s18: Stage<never, unknown>,
  s19: Stage<never, unknown>,
  s20: Stage<never, unknown>,
  s21: "pipe() is typed up to 20 stages: group some in a nested pipe(), as (items) => pipe(items, f, g)",
  ...more: unknown[]
): never;
export function pipe(source: Source<unknown>, ...stages: unknown[]): AsyncIterable<unknown> {
  assertSource(source, "pipe");
  stages.forEach((stage, index) => assertFunction(stage, "pipe", `stages[${index}]`));
  let flow = asAsyncIterable(source, "pipe");
  (stages as Stage<unknown, unknown>[]).forEach((stage, index) => {
    flow = stage(flow);
    // Caught here, naming the stage, rather than by the next stage or the loop with a message about its input.
    if (!isIterableSource(flow)) {
      throw new TypeError(`pipe: stages[${index}] returned ${describe(flow)}, not an async iterable`);
    }
  });
  return flow;
}
