/**
 * `groupBy`: split one source into one iterator per key, each with a bounded buffer.
 * @module
 */
import { Deadlines, type Timed } from "./_internal/deadlines.ts";
import { DEFAULT_MAX_KEYS } from "./_internal/keyed.ts";
import { type Failure, Outlet } from "./_internal/outlet.ts";
import { Pump } from "./_internal/pump.ts";
import { Queue } from "./_internal/queue.ts";
import { Slot } from "./_internal/slot.ts";
import {
  assertCommonOptions,
  assertFunction,
  assertPositiveInteger,
  assertSource,
  assertTimerMs,
} from "./_internal/validate.ts";
import { OverflowError } from "./errors.ts";
import type { BufferedIterator, DropOptions, SignalOptions, SluiceIterator, Source } from "./types.ts";

/** Options for {@linkcode groupBy}. */
export interface GroupByOptions<T> extends SignalOptions, DropOptions<T> {
  /** Items each group holds for its reader (default 16); a full group holds the source back. */
  capacity?: number;
  /** Keys open at once (default 1024), counting groups whose reader left; one more fails everything. */
  maxKeys?: number;
  /** A group that has received nothing for this long, and holds nothing, ends; a later item of its key opens a new group. */
  idleMs?: number;
}

/** One key's items, in source order: an async iterator with the key it groups. */
export interface Group<K, T> extends SluiceIterator<T> {
  /** The key every item of this group has. */
  readonly key: K;
  /** Items read from the source for this group and not yet taken. */
  readonly held: number;
  [Symbol.asyncIterator](): Group<K, T>;
}

/** The iterator {@linkcode groupBy} returns: one {@linkcode Group} per key, the first time the key is seen. */
export interface GroupByIterator<K, T> extends BufferedIterator<Group<K, T>> {
  [Symbol.asyncIterator](): GroupByIterator<K, T>;
  /** Items read from the source and not yet taken by a group's reader, across all groups. */
  readonly held: number;
  /** Items dropped because their group's reader had left (each one also went to `onDrop`). */
  readonly dropped: number;
  /** Keys open now: groups not ended, and groups whose reader left whose key is still remembered. */
  readonly keys: number;
}

/**
 * Splits one source into one iterator per key: the outer iterator yields a
 * {@linkcode Group} (an async iterator with a read-only `key`) the first time
 * a key is seen, and each group yields its key's items in source order.
 *
 * Use it when one stream carries many independent flows: events per user,
 * writes per document, messages per chat room. Start one loop per group
 * (without awaiting it inside the outer loop), so each key is handled in
 * order and different keys in parallel.
 *
 * The rules:
 * - The source is read only while a reader waits (the outer iterator for a
 *   new group, or a group for its next item). Items of other keys read on the
 *   way go to their groups.
 * - Each group holds at most `capacity` items (default 16). An item whose
 *   group is full is held (one item) and the source is not read until that
 *   group's reader takes one: **a group nobody reads holds every other group
 *   back.** Read every group, or `break` out of (or `return()`) the groups you
 *   do not want.
 * - A group whose reader left (`break`, `return()`): the items it held and
 *   later items of its key are dropped and counted in the outer iterator's
 *   `dropped` (and go to `onDrop`). Its key stays open, so it counts against
 *   `maxKeys`, until `idleMs` (if set) passes with no item of that key; then a
 *   later item opens a new group.
 * - `idleMs`: a group that has received nothing for that long and holds
 *   nothing ends (its reader gets done); a later item of its key opens a new
 *   group. Without `idleMs` a group lasts until the source ends.
 * - More than `maxKeys` keys open at once (default 1024) fails the outer
 *   iterator and every group with {@linkcode OverflowError}, whose message
 *   names `maxKeys`, after what each holds. With unbounded keys, set `idleMs`.
 * - The outer iterator holds at most one group not yet taken; while it does,
 *   an item of another new key is held and the source waits.
 * - The outer `return()` (or `break`) closes the source; every open group
 *   ends after what it holds. A group the outer held and nobody took is
 *   dropped with its items.
 * - When the source ends, every group ends after what it holds. A source error
 *   (or a `keyOf` error) reaches every open group and the outer iterator, each
 *   after what it holds. An abort rejects every open group and the outer
 *   iterator with `signal.reason`, each after what it holds.
 *
 * Keys are compared as `Map` keys are (`SameValueZero`: objects by identity).
 *
 * Memory: at most `capacity × open groups + 1` items, and one small record per
 * open key (at most `maxKeys`); one timer for all the groups' `idleMs`.
 *
 * @param source The items of every key.
 * @param keyOf The key of an item.
 * @param options `capacity`, `maxKeys`, `idleMs`; `signal` ends everything (the outer iterator and every
 *   open group reject with `signal.reason` after what each holds, the source is closed); `onDrop` gets every
 *   item dropped because its group's reader left.
 * @returns An async iterator of groups, one per key, in the order each key was first seen.
 * @throws {TypeError} If `source` is not iterable, `keyOf` is not a function, or an option has the wrong type.
 * @throws {RangeError} If `capacity` or `maxKeys` is not a positive integer, or `idleMs` not a positive finite number.
 *
 * @example One loop per user, each user's events in order
 * ```ts
 * import { groupBy } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const events = [
 *   { user: "ada", n: 1 },
 *   { user: "bob", n: 1 },
 *   { user: "ada", n: 2 },
 *   { user: "bob", n: 2 },
 *   { user: "ada", n: 3 },
 * ];
 * const seen: Record<string, number[]> = {};
 * const loops: Promise<void>[] = [];
 * for await (const group of groupBy(events, (event) => event.user)) {
 *   const numbers: number[] = (seen[group.key] = []);
 *   loops.push((async () => {
 *     for await (const event of group) numbers.push(event.n);
 *   })());
 * }
 * await Promise.all(loops);
 * assert.deepEqual(seen, { ada: [1, 2, 3], bob: [1, 2] });
 * ```
 */
export function groupBy<T, K>(
  source: Source<T>,
  keyOf: (item: T) => K,
  options: GroupByOptions<T> = {},
): GroupByIterator<K, T> {
  const api = "groupBy";
  assertSource(source, api);
  assertFunction(keyOf, api, "keyOf");
  assertCommonOptions(options, api);
  if (options.capacity !== undefined) assertPositiveInteger(options.capacity, api, "capacity");
  if (options.maxKeys !== undefined) assertPositiveInteger(options.maxKeys, api, "maxKeys");
  if (options.idleMs !== undefined) assertTimerMs(options.idleMs, api, "idleMs");
  return new GroupBy(source, keyOf, options);
}

/** How the groups end when the outer iterator ends. */
interface Ending {
  failure: Failure | undefined;
  /** Fail now (`fail()`), rather than finish once everything is handed over. */
  now: boolean;
}

class GroupBy<K, T> extends Pump<T, Group<K, T>> implements GroupByIterator<K, T> {
  readonly #keyOf: (item: T) => K;
  readonly #capacity: number;
  readonly #maxKeys: number;
  readonly #idleMs: number;
  readonly #signal: AbortSignal | undefined;
  /** Every open key: its group, open or left. */
  readonly #groups = new Map<K, KeyGroup<K, T>>();
  /** The group made for a new key that the outer consumer has not taken yet (at most one). */
  #untaken: KeyGroup<K, T> | undefined = undefined;
  /** The one item read and not yet in a group: its group is full, or its key is new while a group is untaken. */
  readonly #held = new Slot<T>();
  /** The full group `#held` waits for; undefined when it waits for the outer consumer (a new key). */
  #heldFor: KeyGroup<K, T> | undefined = undefined;
  #heldKey: K | undefined = undefined;
  /** Groups with a `next()` waiting for an item. */
  #wanting = 0;
  /** Items in the groups' buffers. */
  #buffered = 0;
  /** Idle deadlines of the open keys, with `idleMs`. */
  readonly #idle: Deadlines<KeyGroup<K, T>> | undefined;
  #ending: Ending | undefined = undefined;

  constructor(source: Source<T>, keyOf: (item: T) => K, options: GroupByOptions<T>) {
    super(source, { api: "groupBy", signal: options.signal, onDrop: options.onDrop, breathes: true });
    this.#keyOf = keyOf;
    this.#capacity = options.capacity ?? 16;
    this.#maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    this.#idleMs = options.idleMs ?? Infinity;
    this.#signal = options.signal;
    this.#idle = options.idleMs === undefined ? undefined : new Deadlines(this.#idleDue);
  }

  get held(): number {
    return this.#buffered + Number(this.#held.full);
  }

  get keys(): number {
    return this.#groups.size;
  }

  // Outer consumer side

  protected take(): IteratorResult<Group<K, T>> | undefined {
    const group = this.#untaken;
    if (group === undefined) return undefined;
    this.#untaken = undefined;
    // An item of a new key waited for this: it opens its group now.
    if (this.#held.full && this.#heldFor === undefined) {
      const key = this.#heldKey as K;
      this.#heldKey = undefined;
      this.#route(key, this.#held.remove());
    }
    return { value: group, done: false };
  }

  protected room(): boolean {
    return !this.#held.full && (this.#wanting > 0 || this.waiting);
  }

  protected received(item: T): void {
    let key: K;
    try {
      key = this.#keyOf(item);
    } catch (error) {
      return this.#failAll(error);
    }
    this.#route(key, item);
  }

  protected override sourceEnded(): void {
    this.#ending = { failure: undefined, now: false };
    this.finish();
  }

  protected override sourceFailed(error: unknown): void {
    this.#ending = { failure: { error }, now: false };
    this.finish({ error });
  }

  /** The outer consumer left: a group it never took goes, with its items; so does an item of a new key. */
  protected override discard(): void {
    const untaken = this.#untaken;
    this.#untaken = undefined;
    if (this.#held.full && this.#heldFor === undefined) {
      this.#heldKey = undefined;
      this.#drop(this.#held.remove());
    }
    if (untaken !== undefined) void untaken.return();
  }

  protected override clearTimers(): void {
    this.#idle?.clear();
  }

  protected override cleanup(): Promise<void> {
    const closing = super.cleanup();
    let ending = this.#ending;
    if (ending === undefined) {
      const signal = this.#signal;
      ending = signal?.aborted ? { failure: { error: signal.reason }, now: true } : { failure: undefined, now: false };
    }
    const groups = [...this.#groups.values()];
    this.#groups.clear();
    for (const group of groups) if (!group.left) group.end(ending);
    return closing;
  }

  // Group side (called by KeyGroup)

  /** `group` has a `next()` waiting: read for it. */
  want(group: KeyGroup<K, T>): void {
    if (!group.wanting) {
      group.wanting = true;
      this.#wanting++;
    }
    this.pull();
  }

  /** `group` has no `next()` waiting any more. */
  unwant(group: KeyGroup<K, T>): void {
    if (!group.wanting) return;
    group.wanting = false;
    this.#wanting--;
  }

  /** `group`'s reader took an item: an item held for it moves in, and reading resumes. */
  took(group: KeyGroup<K, T>): void {
    this.#buffered--;
    if (this.#heldFor === group) {
      this.#heldFor = undefined;
      group.put(this.#held.remove(), this.#idle === undefined ? 0 : performance.now());
      this.pull();
    } else if (group.expireWhenEmpty && group.held === 0) {
      this.#expire(group);
    }
  }

  /** `group` put an item in its buffer. */
  buffered(): void {
    this.#buffered++;
  }

  /** `group`'s reader left: drop what it held; its key stays open to drop later items. */
  left(group: KeyGroup<K, T>, items: Queue<T>): void {
    this.unwant(group);
    this.#buffered -= items.size;
    while (items.size > 0) this.#drop(items.shift());
    if (this.#heldFor === group) {
      this.#heldFor = undefined;
      this.#drop(this.#held.remove());
      this.pull();
    }
    if (this.#groups.get(group.key) === group) group.left = true;
  }

  /** True while an item is held for `group` (it must not end before taking it). */
  holdsFor(group: KeyGroup<K, T>): boolean {
    return this.#heldFor === group;
  }

  // Routing

  #route(key: K, item: T): void {
    const now = this.#idle === undefined ? 0 : performance.now();
    const group = this.#groups.get(key);
    if (group === undefined) return this.#open(key, item, now);
    if (group.left) {
      group.lastReceived = now;
      return this.#drop(item);
    }
    if (group.full) {
      this.#held.put(item);
      this.#heldFor = group;
      return;
    }
    group.put(item, now);
  }

  #open(key: K, item: T, now: number): void {
    if (this.#untaken !== undefined) {
      // The outer holds a group already: this one waits, and so does the source.
      this.#held.put(item);
      this.#heldKey = key;
      return;
    }
    if (this.#groups.size >= this.#maxKeys) {
      const message = `groupBy: more than 'maxKeys' (${this.#maxKeys}) keys open at once; ` +
        "read or break out of the groups you do not need, set 'idleMs' so quiet keys close, or raise 'maxKeys'";
      return this.#failAll(new OverflowError(this.#maxKeys, message));
    }
    const group = new KeyGroup<K, T>(this, key, this.#capacity);
    this.#groups.set(key, group);
    group.put(item, now);
    if (this.#idle !== undefined) this.#idle.set(group, now + this.#idleMs);
    if (!this.offer(group)) this.#untaken = group;
  }

  /** A `keyOf` error or too many keys: the outer iterator and every group fail, after what each holds. */
  #failAll(error: unknown): void {
    this.readNoMore();
    if (this.#held.full) {
      this.#heldFor = undefined;
      this.#heldKey = undefined;
      this.#drop(this.#held.remove());
    }
    this.#ending = { failure: { error }, now: true };
    this.fail(error);
  }

  /** Drops an item of a group whose reader left (or that had nowhere to go): counted in `dropped`, given to `onDrop`. */
  #drop(item: T): void {
    this.drop(item as unknown as Group<K, T>);
  }

  #idleDue = (group: KeyGroup<K, T>, now: number): void => {
    if (this.#groups.get(group.key) !== group) return;
    const due = group.lastReceived + this.#idleMs;
    if (due > now) return this.#idle!.set(group, due);
    if (group.left || group.held === 0) return this.#expire(group);
    // Quiet, but its reader has not taken everything: it ends once it has.
    group.expireWhenEmpty = true;
  };

  /** A quiet key closes: its group (if its reader is still there) ends, and a later item opens a new one. */
  #expire(group: KeyGroup<K, T>): void {
    this.#groups.delete(group.key);
    this.#idle?.delete(group);
    if (!group.left) group.end({ failure: undefined, now: false });
  }
}

/** One key's iterator: a bounded buffer the router fills and the group's reader empties. */
class KeyGroup<K, T> extends Outlet<T> implements Group<K, T>, Timed {
  readonly #key: K;
  readonly #router: GroupBy<K, T>;
  readonly #items: Queue<T>;
  readonly #capacity: number;
  /** The reader left; the router drops later items of this key. */
  left = false;
  /** A `next()` waits for an item (counted by the router). */
  wanting = false;
  /** `idleMs` passed with nothing received while items were still held: end once they are taken. */
  expireWhenEmpty = false;
  lastReceived = 0;
  dueAt = 0;
  heapIndex = -1;
  heapOrder = 0;

  constructor(router: GroupBy<K, T>, key: K, capacity: number) {
    super(undefined);
    this.#key = key;
    this.#router = router;
    this.#capacity = capacity;
    this.#items = new Queue(Math.min(capacity, 16));
  }

  /** Read-only: a getter with no setter. */
  get key(): K {
    return this.#key;
  }

  get held(): number {
    return this.#items.size;
  }

  get full(): boolean {
    return this.#items.size >= this.#capacity;
  }

  /** An item of this key arrived (the router checked there is room). */
  put(item: T, now: number): void {
    this.lastReceived = now;
    this.expireWhenEmpty = false;
    if (this.offer(item)) {
      if (!this.waiting) this.#router.unwant(this);
      return;
    }
    this.#items.push(item);
    this.#router.buffered();
  }

  /** The router is done with this group: it ends (or fails) after what it holds, or now. */
  end(ending: Ending): void {
    if (ending.now && ending.failure !== undefined) this.fail(ending.failure.error);
    else this.finish(ending.failure);
  }

  protected start(): void {}

  protected take(): IteratorResult<T> | undefined {
    if (this.#items.size === 0) return undefined;
    const value = this.#items.shift();
    this.#router.took(this);
    return { value, done: false };
  }

  protected demand(): void {
    if (this.waiting && !this.ended) this.#router.want(this);
  }

  protected override busy(): boolean {
    return this.#router.holdsFor(this);
  }

  protected override discard(): void {
    this.#router.left(this, this.#items);
  }

  protected cleanup(): void {
    this.#router.unwant(this);
  }
}
