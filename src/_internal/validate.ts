/**
 * Argument checks run at call time, so a bad argument throws where it was
 * written, with a message naming the call, the parameter and the value.
 * `api` is the public function's name, as the message starts: `"throttle"`.
 */
import type { Overflow } from "../types.ts";

/** Renders a received value for an error message: `0`, `"64"`, `undefined`, `an object`. */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "bigint") return `${value}n`;
  if (value === null || value === undefined) return String(value);
  if (typeof value === "function") return "a function";
  if (typeof value === "symbol") return value.toString();
  if (Array.isArray(value)) return "an array";
  return "an object";
}

export function isIterableSource(value: unknown): boolean {
  return value != null &&
    (typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function" ||
      typeof (value as Iterable<unknown>)[Symbol.iterator] === "function");
}

/** The two commonest slips get a hint: a promise of a source, and a generator function not called. */
function describeSource(value: unknown): string {
  if (value != null && typeof (value as PromiseLike<unknown>).then === "function") {
    return "a Promise: did you mean to await it, or to pass an async iterable?";
  }
  if (typeof value === "function" && GENERATOR_FUNCTIONS.includes(Object.prototype.toString.call(value))) {
    return "a function: call the generator function to get its iterator";
  }
  return describe(value);
}

const GENERATOR_FUNCTIONS = ["[object GeneratorFunction]", "[object AsyncGeneratorFunction]"];

export function assertSource(source: unknown, api: string, param = "source"): void {
  if (!isIterableSource(source)) {
    throw new TypeError(`${api}: '${param}' must be an AsyncIterable or Iterable, received ${describeSource(source)}`);
  }
}

/**
 * A count: a safe integer (up to 2^53 - 1, exact as a number, and written in digits where it is
 * sent on, as a Redis argument is; `1e21` would go as "1e+21").
 */
function assertCount(value: unknown, least: 0 | 1, api: string, param: string): void {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= least) return;
  const kind = least === 1 ? "a positive integer" : "a non-negative integer";
  const most = Number.isInteger(value) && (value as number) >= least ? " of at most 2^53 - 1" : "";
  throw new RangeError(`${api}: '${param}' must be ${kind}${most}, received ${describe(value)}`);
}

export function assertPositiveInteger(value: unknown, api: string, param: string): void {
  assertCount(value, 1, api, param);
}

export function assertNonNegativeInteger(value: unknown, api: string, param: string): void {
  assertCount(value, 0, api, param);
}

/** A bound that is a count without `weight` (a positive integer) and a weight with it (a positive finite number). */
export function assertBound(value: unknown, weighted: boolean, api: string, param: string): void {
  if (weighted) assertPositiveTime(value, api, param);
  else assertPositiveInteger(value, api, param);
}

export function assertPositiveTime(value: unknown, api: string, param: string): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${api}: '${param}' must be a positive finite number, received ${describe(value)}`);
  }
}

/** Refuses a count above its stated maximum (a count that allocates, so a typo cannot take all memory). */
export function assertAtMost(value: number, max: number, api: string, param: string): void {
  if (value > max) {
    throw new RangeError(`${api}: '${param}' must be at most ${max}, received ${describe(value)}`);
  }
}

/** The longest delay a timer honours on every runtime: 2^31 - 1 ms (about 24.8 days). A longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A time that arms a timer: a positive finite number of ms, at most {@linkcode MAX_TIMER_MS}. */
export function assertTimerMs(value: unknown, api: string, param: string): void {
  assertPositiveTime(value, api, param);
  assertAtMostTimer(value as number, api, param);
}

/** Refuses a delay the runtime would clamp to 1 ms instead of honouring. */
export function assertAtMostTimer(value: number, api: string, param: string): void {
  if (value > MAX_TIMER_MS) {
    throw new RangeError(
      `${api}: '${param}' must be at most ${MAX_TIMER_MS} ms (2^31 - 1, the longest timer delay), received ${
        describe(value)
      }`,
    );
  }
}

export function assertFunction(value: unknown, api: string, param: string): void {
  if (typeof value !== "function") {
    throw new TypeError(`${api}: '${param}' must be a function, received ${describe(value)}`);
  }
}

export function assertOptionalFunction(value: unknown, api: string, param: string): void {
  if (value !== undefined) assertFunction(value, api, param);
}

export function assertOptions(options: unknown, api: string, param = "options"): void {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${api}: '${param}' must be an object, received ${describe(options)}`);
  }
}

/**
 * The one check of a combinator's options object: it is an object, and `signal`
 * and `onDrop`, where given, are an `AbortSignal` and a function.
 */
export function assertCommonOptions(options: unknown, api: string): void {
  assertOptions(options, api);
  const { signal, onDrop } = options as { signal?: unknown; onDrop?: unknown };
  assertSignal(signal, api);
  assertOptionalFunction(onDrop, api, "onDrop");
}

export function assertOptionalBoolean(value: unknown, api: string, param: string): void {
  if (value !== undefined && typeof value !== "boolean") {
    throw new TypeError(`${api}: '${param}' must be a boolean, received ${describe(value)}`);
  }
}

/** An `AbortSignal`, or anything shaped like one (a polyfill's): `aborted`, and listeners that can be added and removed. */
export function assertSignal(signal: unknown, api: string): void {
  if (signal === undefined) return;
  const candidate = signal as AbortSignal | null;
  if (
    candidate === null || typeof candidate !== "object" || typeof candidate.aborted !== "boolean" ||
    typeof candidate.addEventListener !== "function" || typeof candidate.removeEventListener !== "function"
  ) {
    throw new TypeError(`${api}: 'signal' must be an AbortSignal, received ${describe(signal)}`);
  }
}

const OVERFLOWS: readonly Overflow[] = ["wait", "drop-oldest", "drop-newest", "error"];

export function assertOverflow(value: unknown, api: string): void {
  if (value !== undefined && !OVERFLOWS.includes(value as Overflow)) {
    throw new RangeError(
      `${api}: 'overflow' must be one of "wait", "drop-oldest", "drop-newest", "error", received ${describe(value)}`,
    );
  }
}

/** `key` (a function) and `maxKeys` (a positive integer, only with `key`). */
export function assertKeyOptions(options: { key?: unknown; maxKeys?: unknown }, api: string): void {
  assertOptionalFunction(options.key, api, "key");
  if (options.maxKeys === undefined) return;
  assertPositiveInteger(options.maxKeys, api, "maxKeys");
  if (options.key === undefined) {
    throw new TypeError(
      `${api}: 'maxKeys' needs 'key' (it bounds the keys alive at once), received ${options.maxKeys}`,
    );
  }
}
