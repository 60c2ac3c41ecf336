/**
 * What the combinators that call a user's `fn` per item share
 * (`concurrencyLimit`, `adaptiveConcurrency`).
 */

/** The user's function: called with each item and its index in the source; may return a promise. */
export type Mapper<T, R> = (item: T, index: number) => R | PromiseLike<R>;

/** How a call stands. */
export const PENDING = 0;
export const FULFILLED = 1;
export const REJECTED = 2;
export type CallState = typeof PENDING | typeof FULFILLED | typeof REJECTED;

/** True for a promise or any other thenable, which is awaited; anything else is the result itself. */
export function isThenable<R>(value: R | PromiseLike<R>): value is PromiseLike<R> {
  return value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as PromiseLike<R>).then === "function";
}
