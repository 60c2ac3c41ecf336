/**
 * Bounds by weight: a combinator given `weight` measures each item once, as it
 * arrives, and counts the result against its bound instead of counting items.
 */
import { describe } from "./validate.ts";

/** How much one item weighs; a bound by count weighs every item 1. */
export type Weigh<T> = (item: T) => number;

/**
 * Calls `weigh(item)` and checks the answer: a finite number >= 0. Anything
 * else (a throw included) is returned as the error that fails the iteration: a
 * `RangeError` naming the call and the item's index (0 for the first item).
 */
export function measure<T>(
  weigh: Weigh<T>,
  item: T,
  index: number,
  api: string,
): number | { error: unknown } {
  let weight: unknown;
  try {
    weight = weigh(item);
  } catch (error) {
    return { error };
  }
  if (typeof weight === "number" && weight >= 0 && weight !== Infinity) return weight;
  return {
    error: new RangeError(
      `${api}: 'weight' must return a finite number >= 0, received ${describe(weight)} for item ${index}`,
    ),
  };
}
