/**
 * Retrying a failed call: how long to wait before each retry (exponential
 * backoff with optional full jitter), whether to retry at all (`retryOn`, the
 * number of attempts), and the retry budget that keeps retries from
 * multiplying the load on a downstream that is already failing.
 */
import type { RetryOptions } from "../concurrency_limit.ts";
import {
  assertAtMostTimer,
  assertFunction,
  assertOptions,
  assertPositiveInteger,
  describe,
  MAX_TIMER_MS,
} from "./validate.ts";

/** The budget counts first attempts and retries per second, over this many seconds. */
const WINDOW_SECONDS = 10;

/**
 * Retries in the last ten seconds may not exceed `ratio` × first attempts in
 * them plus `minPerSecond` × 10. Counted per whole second: the window is the
 * current second and the nine before it.
 */
class RetryBudget {
  readonly #ratio: number;
  readonly #reserve: number;
  readonly #firsts = new Array<number>(WINDOW_SECONDS).fill(0);
  readonly #retries = new Array<number>(WINDOW_SECONDS).fill(0);
  #firstsTotal = 0;
  #retriesTotal = 0;
  /** The second the newest bucket counts. */
  #second = -Infinity;

  constructor(ratio: number, minPerSecond: number) {
    this.#ratio = ratio;
    this.#reserve = minPerSecond * WINDOW_SECONDS;
  }

  /** A first attempt started. */
  started(): void {
    this.#firsts[this.#advance()]++;
    this.#firstsTotal++;
  }

  /** A retry is wanted: counts it and returns true if the budget allows it, else returns false. */
  spend(): boolean {
    const at = this.#advance();
    if (this.#retriesTotal + 1 > this.#ratio * this.#firstsTotal + this.#reserve) return false;
    this.#retries[at]++;
    this.#retriesTotal++;
    return true;
  }

  /** Moves the window to the current second, emptying the buckets that fell out of it; returns the current bucket. */
  #advance(): number {
    const second = Math.floor(performance.now() / 1000);
    const passed = second - this.#second;
    if (passed >= WINDOW_SECONDS) {
      this.#firsts.fill(0);
      this.#retries.fill(0);
      this.#firstsTotal = 0;
      this.#retriesTotal = 0;
    } else {
      for (let s = this.#second + 1; s <= second; s++) {
        const at = bucket(s);
        this.#firstsTotal -= this.#firsts[at];
        this.#retriesTotal -= this.#retries[at];
        this.#firsts[at] = 0;
        this.#retries[at] = 0;
      }
    }
    this.#second = second;
    return bucket(second);
  }
}

/** The bucket of a second (seconds may be negative on a clock that starts at 0 with a fake offset). */
function bucket(second: number): number {
  return ((second % WINDOW_SECONDS) + WINDOW_SECONDS) % WINDOW_SECONDS;
}

/** What to do after a failed attempt: a number of milliseconds to wait before retrying, or `undefined` for no retry. */
export type RetryDecision = number | undefined;

/** A validated `retry` option, with its budget. */
export class RetryPolicy {
  /** Every try counts, the first included. */
  readonly attempts: number;
  readonly #api: string;
  readonly #minDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #factor: number;
  readonly #fullJitter: boolean;
  readonly #retryOn: ((error: unknown, attempt: number) => boolean | number) | undefined;
  readonly #budget: RetryBudget | undefined;

  constructor(api: string, options: Partial<RetryOptions>, withBudget: boolean) {
    this.#api = api;
    this.attempts = options.attempts ?? Infinity;
    this.#minDelayMs = options.minDelayMs ?? 100;
    this.#maxDelayMs = options.maxDelayMs ?? 10_000;
    this.#factor = options.factor ?? 2;
    this.#fullJitter = options.jitter !== "none";
    this.#retryOn = options.retryOn;
    this.#budget = withBudget
      ? new RetryBudget(options.budget?.ratio ?? 0.2, options.budget?.minPerSecond ?? 10)
      : undefined;
  }

  /** A first attempt started (the budget allows retries in proportion to these). */
  started(): void {
    this.#budget?.started();
  }

  /**
   * Attempt `attempt` failed with `error`: the wait before the next one, or
   * `undefined` for no retry (no attempts left, `retryOn` declined, or the budget
   * is spent). `retryOn` is asked only while attempts are left; an error it
   * throws, or an answer that is not `true`, `false` or a number of
   * milliseconds, is thrown here. Without `retryOn`, every error is retried
   * except those `isStop(error)` says came from the consumer leaving or the
   * user's own signal.
   */
  decide(error: unknown, attempt: number, isStop: (error: unknown) => boolean): RetryDecision {
    if (attempt >= this.attempts) return undefined;
    if (this.#retryOn === undefined) return isStop(error) ? undefined : this.plan(true, attempt, "");
    const answer = this.#retryOn(error, attempt);
    return answer === false ? undefined : this.plan(answer, attempt, "retry.retryOn");
  }

  /**
   * A retry is wanted after attempt `attempt` (`true`: after the backoff; a number:
   * after that many ms, checked as an answer of `param`): the wait, or undefined when
   * no attempt is left or the budget is spent.
   */
  plan(answer: unknown, attempt: number, param: string): RetryDecision {
    if (attempt >= this.attempts) return undefined;
    const delay = answer === true ? this.backoff(attempt) : this.checkedWait(answer, param);
    return this.#budget === undefined || this.#budget.spend() ? delay : undefined;
  }

  /** The wait before retry `n` (1 for the first retry): `min(maxDelayMs, minDelayMs × factor^(n−1))`, with full jitter a uniform pick below it. */
  backoff(n: number): number {
    const ceiling = Math.min(this.#maxDelayMs, this.#minDelayMs * this.#factor ** (n - 1));
    return this.#fullJitter ? Math.random() * ceiling : ceiling;
  }

  /** A wait a `retryOn` returned: a non-negative number of milliseconds a timer honours, or a TypeError/RangeError naming it. */
  checkedWait(answer: unknown, param: string): number {
    if (typeof answer !== "number") {
      throw new TypeError(
        `${this.#api}: '${param}' must return true, false or a number of milliseconds, returned ${describe(answer)}`,
      );
    }
    if (!Number.isFinite(answer) || answer < 0 || answer > MAX_TIMER_MS) {
      throw new RangeError(
        `${this.#api}: '${param}' must return a non-negative finite number of milliseconds, at most ${MAX_TIMER_MS} ` +
          `(2^31 - 1, the longest timer delay), returned ${describe(answer)}`,
      );
    }
    return answer;
  }
}

function assertNonNegativeFinite(value: unknown, api: string, param: string): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${api}: '${param}' must be a non-negative finite number, received ${describe(value)}`);
  }
}

/** Validates a `retry` option at the api and returns its policy (undefined when not given). */
export function retryPolicy(retry: RetryOptions | undefined, api: string): RetryPolicy | undefined {
  if (retry === undefined) return undefined;
  assertOptions(retry, api, "retry");
  assertPositiveInteger(retry.attempts, api, "retry.attempts");
  if (retry.minDelayMs !== undefined) assertNonNegativeFinite(retry.minDelayMs, api, "retry.minDelayMs");
  if (retry.maxDelayMs !== undefined) {
    assertNonNegativeFinite(retry.maxDelayMs, api, "retry.maxDelayMs");
    assertAtMostTimer(retry.maxDelayMs, api, "retry.maxDelayMs");
  }
  if (retry.minDelayMs !== undefined) assertAtMostTimer(retry.minDelayMs, api, "retry.minDelayMs");
  const min = retry.minDelayMs ?? 100;
  const max = retry.maxDelayMs ?? 10_000;
  if (max < min) {
    throw new RangeError(
      `${api}: 'retry.maxDelayMs' must be at least 'retry.minDelayMs' (${min}), received ${describe(max)}`,
    );
  }
  const factor = retry.factor;
  if (factor !== undefined && (typeof factor !== "number" || !Number.isFinite(factor) || factor < 1)) {
    throw new RangeError(`${api}: 'retry.factor' must be a finite number of at least 1, received ${describe(factor)}`);
  }
  if (retry.jitter !== undefined && retry.jitter !== "full" && retry.jitter !== "none") {
    throw new RangeError(`${api}: 'retry.jitter' must be "full" or "none", received ${describe(retry.jitter)}`);
  }
  if (retry.retryOn !== undefined) assertFunction(retry.retryOn, api, "retry.retryOn");
  const budget = retry.budget;
  if (budget !== undefined) {
    assertOptions(budget, api, "retry.budget");
    if (budget.ratio !== undefined) assertNonNegativeFinite(budget.ratio, api, "retry.budget.ratio");
    if (budget.minPerSecond !== undefined) {
      assertNonNegativeFinite(budget.minPerSecond, api, "retry.budget.minPerSecond");
    }
  }
  return new RetryPolicy(api, retry, true);
}
