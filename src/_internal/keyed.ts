/**
 * The keyed mode of the per-key timing combinators (`debounce` and `throttle`
 * with `key`): one small record per key that matters now, one heap of
 * deadlines with one timer for all of them (`Deadlines`), and a queue of
 * released items in the order their timers released them.
 *
 * A record lives while its key matters (an item pending, an interval not yet
 * over, a released item not yet taken) and is dropped afterwards. More than
 * `maxKeys` records at once fails the iteration with `OverflowError`.
 *
 * A subclass supplies `arrived(record, item, now)` (an item of the record's
 * key came) and `due(record, now)` (the record's deadline passed), and calls
 * `release()`, `schedule()` and `retire()`.
 */
import { Deadlines, type Timed } from "./deadlines.ts";
import { Pump } from "./pump.ts";
import { Queue } from "./queue.ts";
import { OverflowError } from "../errors.ts";
import type { Source } from "../types.ts";

/** One key's state. Its fields serve both debounce and throttle, so every record has one shape. */
export class KeyState<T> implements Timed {
  readonly key: unknown;
  /** The item waiting for its time: debounce's pending item, throttle's trailing item. */
  item: T | undefined = undefined;
  hasItem = false;
  /** Debounce: when the pending item became pending. */
  since = 0;
  /** Debounce: the last arrival. Throttle: the end of the open interval (none yet: -Infinity). */
  last = -Infinity;
  /** A released item the consumer has not taken yet (the record is in the ready queue). */
  ready: T | undefined = undefined;
  hasReady = false;
  dueAt = 0;
  heapIndex = -1;
  heapOrder = 0;

  constructor(key: unknown) {
    this.key = key;
  }
}

/** `maxKeys` unless given (keyed debounce and throttle, groupBy): well above the keys a real stream keeps alive at once. */
export const DEFAULT_MAX_KEYS = 1024;

export interface KeyedOptions<T> {
  key: (item: T) => unknown;
  maxKeys: number;
  signal?: AbortSignal | undefined;
  onDrop?: ((item: T) => void) | undefined;
}

export abstract class Keyed<T> extends Pump<T> {
  readonly #api: string;
  readonly #keyOf: (item: T) => unknown;
  readonly #maxKeys: number;
  readonly #records = new Map<unknown, KeyState<T>>();
  /** Records with a released item, in the order they were released. */
  readonly #ready = new Queue<KeyState<T>>();
  readonly #deadlines: Deadlines<KeyState<T>>;
  /** Items pending (waiting for their time) across all keys. */
  #pending = 0;

  constructor(api: string, source: Source<T>, options: KeyedOptions<T>) {
    super(source, { api, signal: options.signal, onDrop: options.onDrop, breathes: true });
    this.#api = api;
    this.#keyOf = options.key;
    this.#maxKeys = options.maxKeys;
    this.#deadlines = new Deadlines((record, now) => this.due(record, now));
  }

  /** An item of `record`'s key arrived at `now`. */
  protected abstract arrived(record: KeyState<T>, item: T, now: number): void;
  /** The time an item arrives, for `arrived()`: the clock, unless a combinator stamps more cheaply. */
  protected arrivalTime(): number {
    return performance.now();
  }
  /** `record`'s deadline passed. */
  protected abstract due(record: KeyState<T>, now: number): void;

  /** Items held: pending ones and released ones not yet taken. */
  get held(): number {
    return this.#pending + this.#ready.size;
  }

  /** Items waiting for their time, across all keys. */
  protected get waitingItems(): number {
    return this.#pending;
  }

  /** Keys alive now: each with an item pending, an interval not over, or a released item not taken. */
  get keys(): number {
    return this.#records.size;
  }

  protected room(): boolean {
    return true;
  }

  protected take(): IteratorResult<T> | undefined {
    if (this.#ready.size === 0) return undefined;
    const record = this.#ready.shift();
    const value = record.ready as T;
    record.ready = undefined;
    record.hasReady = false;
    this.retire(record);
    return { value, done: false };
  }

  protected received(item: T): void {
    let key: unknown;
    try {
      key = this.#keyOf(item);
    } catch (error) {
      this.readNoMore();
      return this.fail(error);
    }
    let record = this.#records.get(key);
    if (record === undefined) {
      if (this.#records.size >= this.#maxKeys) {
        this.readNoMore();
        return this.fail(
          new OverflowError(
            this.#maxKeys,
            `${this.#api}: more than 'maxKeys' (${this.#maxKeys}) keys alive at once; raise 'maxKeys' or shorten the wait`,
          ),
        );
      }
      record = new KeyState<T>(key);
      this.#records.set(key, record);
    }
    this.arrived(record, item, this.arrivalTime());
  }

  protected override clearTimers(): void {
    this.#deadlines.clear();
  }

  /** The consumer left: nothing held will be taken. */
  protected override discard(): void {
    this.#ready.clear();
    this.#records.clear();
    this.#pending = 0;
  }

  /** Holds `item` as `record`'s waiting item, dropping the one it replaces. */
  protected hold(record: KeyState<T>, item: T): void {
    if (record.hasItem) this.drop(record.item as T);
    else this.#pending++;
    record.item = item;
    record.hasItem = true;
  }

  /** Takes `record`'s waiting item out (the caller checks `hasItem`). */
  protected unhold(record: KeyState<T>): T {
    const item = record.item as T;
    record.item = undefined;
    record.hasItem = false;
    this.#pending--;
    return item;
  }

  /**
   * Hands `item` to the consumer: to a waiting `next()`, or else into the ready queue. A released
   * item of the same key not taken yet is replaced (dropped) and the newer one keeps its place.
   */
  protected release(record: KeyState<T>, item: T): void {
    if (this.offer(item)) return;
    if (record.hasReady) {
      this.drop(record.ready as T);
      record.ready = item;
      return;
    }
    record.ready = item;
    record.hasReady = true;
    this.#ready.push(record);
  }

  /** Makes `record` due at `at` (one timer for all records). */
  protected schedule(record: KeyState<T>, at: number): void {
    this.#deadlines.set(record, at);
  }

  /** Drops `record` once its key no longer matters: nothing waiting, nothing released, no deadline. */
  protected retire(record: KeyState<T>): void {
    if (record.hasItem || record.hasReady || record.heapIndex >= 0) return;
    if (this.#records.get(record.key) === record) this.#records.delete(record.key);
  }

  /** Every record with a deadline, earliest first, removed from the heap (for the end of the source). */
  protected drainDeadlines(): KeyState<T>[] {
    const records: KeyState<T>[] = [];
    this.#deadlines.drain(records);
    return records;
  }
}
