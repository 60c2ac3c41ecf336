/**
 * A combinator that reads one source, one item at a time: an {@linkcode Outlet}
 * plus the pull loop. It keeps at most one read in flight, reads while the
 * combinator says it has `room()`, and hands each item to `received()`.
 *
 * A pump whose `room()` says yes without a waiting consumer (the drop
 * strategies read as fast as the source yields) passes `breathes`: it pauses
 * for a macrotask every few milliseconds so an in-memory source cannot starve
 * timers and I/O.
 */
import { Breather } from "./breather.ts";
import { ENDED, FINISHING, Outlet, type OutletState, passAnswer, RUNNING } from "./outlet.ts";
import { isThenable, Upstream } from "./upstream.ts";
import type { Source } from "../types.ts";

/** What `readSync()` gives when the read brought no item to use now. */
const NO_ITEM: unique symbol = Symbol("no item");

export interface PumpOptions<In> {
  /** The public function, as its messages name it (`"boundedBuffer"`). */
  api: string;
  signal?: AbortSignal | undefined;
  onDrop?: ((item: In) => void) | undefined;
  /** Pause for a macrotask every few milliseconds of reading (for a pump that reads without demand). */
  breathes?: boolean;
  /** Reads only while a consumer `next()` waits (`room()` is false otherwise), so a passed item needs no pull after it. */
  readsOnDemand?: boolean;
}

/**
 * How many pumps' handlers may run inside one source read's reaction (see `awaitRead()`): a
 * longer chain of linked reads goes back to one reaction per stage, so the stack stays shallow.
 */
const MAX_LINKED = 32;

/** What a handler of `PumpState` is until the pump sets its own. */
const unset = (): never => {
  throw new Error("sluice: internal: a pump handler ran before the pump was built");
};

/** The pump's state, in one object of one shape whatever the combinator (see `OutletState`). */
class PumpState<In> {
  readonly upstream: Upstream<In>;
  readonly breather: Breather | undefined;
  /** See `PumpOptions.readsOnDemand`. */
  readonly readsOnDemand: boolean;
  /** The outlet's own state, read here directly: its status is checked on every pull. */
  readonly outlet: OutletState<unknown>;
  /** The source read in flight, if any: at most one at a time. */
  read: Promise<IteratorResult<In>> | undefined = undefined;
  /** What the pump's handlers make of `read`: for a claimed read, the consumer's answer. */
  settled: Promise<IteratorResult<In> | undefined> | undefined = undefined;
  /** The read in flight was handed to the consumer (see `claimRead()`). */
  claimed = false;
  /** A sync source's iterator, read in a plain loop; false for an async source; undefined before the first pull. */
  sync: Iterator<In | PromiseLike<In>> | false | undefined = undefined;
  /** The source when it is another sluice stage: its held items are taken without a promise (see `Outlet.poll`). */
  fused: Outlet<In> | undefined = undefined;
  /** The fused source's own pump state when it is a pump: its claimed reads can be linked (see `awaitRead()`). */
  fusedPump: PumpState<In> | undefined = undefined;
  /**
   * The pump reading this one that linked to the claimed read in flight: this pump's answer to
   * that read goes straight to its handlers (`onPassed` if `successorPassed`, else `onResult`).
   */
  successor: PumpState<unknown> | undefined = undefined;
  successorPassed = false;
  /** How many pumps' handlers run before this one's in the reaction to the read in flight (0: its own reaction). */
  depth = 0;
  /** The sync loop is running: a pull from inside it (through `received()`) must not start another. */
  looping = false;
  /** No more reads: the source ended or threw, `readNoMore()` was called, or the iteration ended. */
  sourceDone = false;
  /**
   * The pump's own handlers, reached from here on the hot path: as members of the pump each
   * would be looked up on a different class per combinator (see `Outlet`'s `state`).
   */
  pull: () => void = unset;
  onResult: (result: IteratorResult<In>) => IteratorResult<In> | undefined = unset;
  onPassed: (result: IteratorResult<In>) => IteratorResult<In> = unset;
  onError: (error: unknown) => IteratorResult<In> | undefined = unset;

  constructor(
    upstream: Upstream<In>,
    breather: Breather | undefined,
    readsOnDemand: boolean,
    outlet: OutletState<unknown>,
  ) {
    this.upstream = upstream;
    this.breather = breather;
    this.readsOnDemand = readsOnDemand;
    this.outlet = outlet;
  }
}

export abstract class Pump<In, Out = In> extends Outlet<Out> {
  /** One object of one shape (see `PumpState`); a plain private member for speed (see `Outlet`'s `state`). */
  private readonly pumpState: PumpState<In>;

  constructor(source: Source<In>, options: PumpOptions<In>) {
    super(options.signal, options.onDrop as ((item: Out) => void) | undefined);
    this.pumpState = new PumpState(
      new Upstream(source, options.api),
      options.breathes ? new Breather() : undefined,
      options.readsOnDemand === true,
      this.outletState() as OutletState<unknown>,
    );
    // Closures over the state, calling static code: nothing on the per-item path is looked up on `this`.
    const p = this.pumpState;
    p.pull = () => Pump.readIfRoom(this, p);
    p.onResult = (result) => Pump.onResult(this, p, result);
    p.onPassed = (result) => Pump.onPassed(this, p, result);
    p.onError = (error) => Pump.onError(this, p, error);
  }

  /** True while another read may start now. A question only: it may be asked any number of times per read. */
  protected abstract room(): boolean;
  /** A read starts now (after `room()` said yes): take what it costs. Called exactly once per read. */
  protected readStarts(): void {}
  /** An item arrived from the source. */
  protected abstract received(item: In): void;
  /**
   * The source is done (ended or threw): hand over, or hold for `take()`, what was
   * waiting for a timer (an open batch, a pending item), so it comes before the end.
   */
  protected flush(): void {}
  /** The source ended: `flush()`, then the iteration finishes once everything is handed over (see `finish()`). */
  protected sourceEnded(): void {
    this.flush();
    this.finish();
  }
  /** The source threw: `flush()`, then the consumer gets everything still handed over, then `error` (see `finish()`). */
  protected sourceFailed(error: unknown): void {
    this.flush();
    this.finish({ error });
  }
  /** Clears the combinator's own timers and stops its own work; runs once, as part of `cleanup()`. */
  protected clearTimers(): void {}
  /** An item went straight to the consumer through a claimed read (see `claimRead()`): keep books, nothing else. */
  protected passedThrough(_item: In): void {}

  /** True while a read of an async source is in flight. */
  protected get reading(): boolean {
    return this.pumpState.read !== undefined;
  }

  /** True once the source ended or threw, or reading was stopped. */
  protected get sourceDone(): boolean {
    return this.pumpState.sourceDone;
  }

  /** Reads no more, for good (an error of the combinator's own is on its way); the source is closed on cleanup. */
  protected readNoMore(): void {
    this.pumpState.sourceDone = true;
  }

  protected start(): void {
    this.pumpState.breather?.begin();
  }

  protected demand(): void {
    this.pumpState.pull();
  }

  protected cleanup(): Promise<void> {
    this.pumpState.sourceDone = true;
    this.pumpState.breather?.cancel();
    this.clearTimers();
    return this.pumpState.upstream.close(this.pumpState.read !== undefined);
  }

  /**
   * The pass-through path: hands the consumer's `next()` the source read itself
   * (started now if none is in flight), answered by the pump's own handler for
   * that read, so an item costs one promise and one reaction as a bare `for await`
   * does, instead of a waiter and an `offer()`. Only for a pump whose items pass
   * unchanged (`Out` is `In`), with nothing held, nothing `busy()` and nobody else
   * waiting; the combinator sees the item in `passedThrough()`, not `received()`.
   * Later calls wait behind it as usual and settle after it, even when `return()`,
   * an end or an error comes first (see `passAnswer()` in `outlet.ts`). A read pending at
   * `return()` still settles with its item, as an async generator's `next()` does;
   * a combinator with a `signal` must not use this path, since an abort must
   * reject the pending call at once. A sync source's item is read at the call and
   * handed over at once. Returns undefined when there is no read to hand over
   * (the first call, a call already waiting, a read that ended the source).
   */
  protected claimRead(): Promise<IteratorResult<In>> | undefined {
    const p = this.pumpState;
    const outlet = p.outlet;
    // Only between reads, once reading began, with nobody waiting and nothing ended.
    if (
      p.claimed || p.sourceDone || p.looping || p.sync === undefined ||
      outlet.status !== RUNNING || outlet.waiters.size > 0
    ) {
      return undefined;
    }
    // A sync source answers now (unless a thenable item of it is being awaited: that read is claimed below).
    if (p.sync !== false && p.read === undefined) {
      const item = Pump.readSync(this, p, p.sync);
      if (item !== NO_ITEM) {
        this.passedThrough(item);
        return Promise.resolve({ value: item, done: false });
      }
      // The read ended the source (the consumer's call then gets the end as usual), unless it awaits a thenable item.
      if (p.read === undefined) return undefined;
    }
    p.claimed = true;
    if (p.read === undefined) {
      // A read started for the consumer gets handlers of its own: only pass-through pumps run them,
      // so they stay fast in a process where every other combinator runs `onResult`.
      this.readStarts();
      Pump.awaitRead(p, p.upstream.next(), true);
    }
    outlet.passing = p.settled;
    return p.settled as Promise<IteratorResult<In>>;
  }

  /** Starts a read if none is in flight and there is room: for a combinator whose room just grew. */
  protected pull(): void {
    this.pumpState.pull();
  }

  /** Starts a read if none is in flight and there is room. */
  private static readIfRoom<In, Out>(pump: Pump<In, Out>, p: PumpState<In>): void {
    if (p.read !== undefined || p.looping || p.sourceDone || p.outlet.status >= FINISHING || !pump.room()) return;
    if (p.sync === undefined) {
      try {
        p.sync = p.upstream.syncIterator() ?? false;
        if (p.sync === false) {
          p.fused = p.upstream.fusedOutlet();
          if (p.fused instanceof Pump) p.fusedPump = p.fused.pumpState;
        }
      } catch (error) {
        p.onError(error);
        return;
      }
    }
    if (p.sync !== false) return Pump.pullSync(pump, p, p.sync);
    const breather = p.breather;
    if (breather !== undefined) {
      if (breather.paused) return;
      if (breather.due()) return breather.pause(p.pull);
    }
    // One read starts now, whichever way it goes: a poll of a fused stage, or next().
    pump.readStarts();
    if (p.fused !== undefined && Pump.pullFused(pump, p, p.fused)) return;
    Pump.startRead(p);
  }

  /**
   * Takes what another sluice stage holds without a promise per item, while there is
   * room. Returns false when it holds nothing: the read `room()` allowed then goes
   * through its `next()` as for any async source.
   */
  private static pullFused<In, Out>(pump: Pump<In, Out>, p: PumpState<In>, upstream: Outlet<In>): boolean {
    const breather = p.breather;
    p.looping = true;
    try {
      for (;;) {
        const result = Outlet.poll(upstream);
        if (result === undefined) return false;
        pump.received(result.value);
        if (p.sourceDone || p.outlet.status >= FINISHING) return true;
        if (breather !== undefined && (breather.paused || breather.due())) {
          if (!breather.paused) breather.pause(p.pull);
          return true;
        }
        if (!pump.room()) return true;
        pump.readStarts();
      }
    } finally {
      p.looping = false;
    }
  }

  /**
   * Reads a sync source in a plain loop while there is room: no promise per item.
   * An item that is a thenable leaves the loop: it is awaited as an async read
   * (as `for await` does), and the loop resumes after it.
   */
  private static pullSync<In, Out>(
    pump: Pump<In, Out>,
    p: PumpState<In>,
    iterator: Iterator<In | PromiseLike<In>>,
  ): void {
    const breather = p.breather;
    p.looping = true;
    try {
      do {
        if (breather !== undefined) {
          if (breather.paused) return;
          if (breather.due()) return breather.pause(p.pull);
        }
        const item = Pump.readSync(pump, p, iterator);
        if (item === NO_ITEM) return;
        pump.received(item);
      } while (!p.sourceDone && p.outlet.status < FINISHING && pump.room());
    } finally {
      p.looping = false;
    }
  }

  /**
   * One read of a sync source (`readStarts()` included): its item, or `NO_ITEM` when the read
   * ended the source (its end, its throw or a broken result, each handled here) or when the item
   * is a thenable, which is then awaited as an async read (`read` is set).
   */
  private static readSync<In, Out>(
    pump: Pump<In, Out>,
    p: PumpState<In>,
    iterator: Iterator<In | PromiseLike<In>>,
  ): In | typeof NO_ITEM {
    let result: IteratorResult<In | PromiseLike<In>>;
    pump.readStarts();
    try {
      result = iterator.next();
    } catch (error) {
      p.sourceDone = true;
      p.upstream.finished();
      pump.sourceFailed(error);
      return NO_ITEM;
    }
    const broken = p.upstream.misread(result);
    if (broken !== undefined) {
      pump.broken(broken);
      return NO_ITEM;
    }
    if (result.done) {
      p.sourceDone = true;
      p.upstream.finished();
      pump.sourceEnded();
      return NO_ITEM;
    }
    const item = result.value;
    if (!isThenable(item)) return item as In;
    Pump.awaitRead(p, p.upstream.awaitItem(item as PromiseLike<In>), false);
    return NO_ITEM;
  }

  /** Starts a read of the source; the caller has called `readStarts()`. */
  private static startRead<In>(p: PumpState<In>): void {
    Pump.awaitRead(p, p.upstream.next(), false);
  }

  /**
   * Makes `read` the read in flight, answered by `onPassed` (`passed`: a read claimed as it
   * starts) or `onResult`, or by `onError`. When `read` is what a fused pump handed over as its
   * own claimed read, this pump links to it instead of adding a reaction: that pump passes its
   * answer straight to this one's handler, inside the one reaction to the source read, so a
   * chain of pass-through stages costs one promise reaction per item, not one per stage.
   */
  private static awaitRead<In>(p: PumpState<In>, read: Promise<IteratorResult<In>>, passed: boolean): void {
    p.read = read;
    const up = p.fusedPump;
    if (up !== undefined && up.claimed && up.settled === read && up.successor === undefined && up.depth < MAX_LINKED) {
      up.successor = p as PumpState<unknown>;
      up.successorPassed = passed;
      p.depth = up.depth + 1;
      // It settles with this pump's answer (what its handler returns), as its own reaction would.
      p.settled = read as Promise<IteratorResult<In> | undefined>;
      return;
    }
    p.depth = 0;
    // Never rejects for a read nobody claimed: `onError` returns; a claimed read's error is its consumer's answer.
    p.settled = read.then(passed ? p.onPassed : p.onResult, p.onError);
  }

  /**
   * The answer to a claimed read that settled with `result` (`undefined` for an error; see
   * `passAnswer()` in `outlet.ts`): returned (or thrown) for the consumer, or handed to the linked reader.
   */
  private static answerClaim<In>(p: PumpState<In>, result: IteratorResult<In> | undefined): IteratorResult<In> {
    const next = p.successor;
    const outlet = p.outlet as OutletState<In>;
    if (next === undefined) return passAnswer(outlet, result);
    p.successor = undefined;
    let answer: IteratorResult<unknown>;
    try {
      answer = passAnswer(outlet, result);
    } catch (error) {
      return next.onError(error) as IteratorResult<In>;
    }
    return (p.successorPassed ? next.onPassed(answer) : next.onResult(answer)) as IteratorResult<In>;
  }

  /** A read settled with `result`. For a claimed read, returns (or throws) the consumer's answer; it never returns a promise. */
  private static onResult<In, Out>(
    pump: Pump<In, Out>,
    p: PumpState<In>,
    result: IteratorResult<In>,
  ): IteratorResult<In> | undefined {
    p.read = undefined;
    const claimed = p.claimed;
    p.claimed = false;
    const broken = p.upstream.misread(result);
    if (broken !== undefined) {
      // Not finished by itself: the source is closed on cleanup, and the consumer gets `broken`.
      p.sourceDone = true;
      if (p.outlet.status < ENDED) pump.sourceFailed(broken);
      return claimed ? Pump.answerClaim(p, undefined) : undefined;
    }
    if (p.outlet.status < ENDED) {
      if (result.done) {
        p.sourceDone = true;
        p.upstream.finished();
        pump.sourceEnded();
      } else {
        if (claimed) pump.passedThrough(result.value);
        else pump.received(result.value);
        p.pull();
      }
    }
    return claimed ? Pump.answerClaim(p, result) : undefined;
  }

  /** A read claimed when it started settled with `result`: an item goes straight to the consumer, the rest as usual. */
  private static onPassed<In, Out>(
    pump: Pump<In, Out>,
    p: PumpState<In>,
    result: IteratorResult<In>,
  ): IteratorResult<In> {
    if (p.outlet.status >= ENDED || typeof result !== "object" || result === null || result.done) {
      return p.onResult(result) as IteratorResult<In>;
    }
    p.read = undefined;
    p.claimed = false;
    pump.passedThrough(result.value);
    // The consumer's own call was answered: a pump that reads only on demand has nothing more to read now.
    if (!p.readsOnDemand || p.outlet.waiters.size > 0) p.pull();
    return Pump.answerClaim(p, result);
  }

  /** The source broke the iterator protocol: fail with `error`; the source is closed on cleanup (it did not finish). */
  private broken(error: TypeError): void {
    this.pumpState.sourceDone = true;
    this.sourceFailed(error);
  }

  private static onError<In, Out>(
    pump: Pump<In, Out>,
    p: PumpState<In>,
    error: unknown,
  ): IteratorResult<In> | undefined {
    p.read = undefined;
    const claimed = p.claimed;
    p.claimed = false;
    p.sourceDone = true;
    p.upstream.finished();
    if (!pump.ended) pump.sourceFailed(error);
    // A claimed read's consumer gets the error through the terminal answer (unless it left).
    return claimed ? Pump.answerClaim(p, undefined) : undefined;
  }
}
