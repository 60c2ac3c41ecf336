/**
 * The base of the combinators that keep only the newest item until its moment
 * comes and then release it (debounce, sampleEvery). The source is read as fast
 * as it yields (there is always room: a newer item replaces the older one,
 * which is dropped). Released, the item goes to a waiting `next()`, or waits
 * for the consumer, replaced (and dropped) if a newer one is released first.
 * So at most 2 items are held: the latest arrival and the released one on offer.
 */
import type { DropOptions, SignalOptions, Source } from "../types.ts";
import { Pump } from "./pump.ts";
import { Slot } from "./slot.ts";

export abstract class Sampler<T> extends Pump<T> {
  /** The newest arrival, waiting for its moment. The subclass fills it with `keepLatest` in `received()`. */
  protected readonly latest = new Slot<T>();
  /** The released item the consumer has not taken yet. */
  readonly #released = new Slot<T>();

  constructor(api: string, source: Source<T>, options: SignalOptions & DropOptions<T>) {
    super(source, { api, signal: options.signal, onDrop: options.onDrop, breathes: true });
  }

  get held(): number {
    return Number(this.latest.full) + Number(this.#released.full);
  }

  protected room(): boolean {
    return true;
  }

  protected take(): IteratorResult<T> | undefined {
    return this.#released.result();
  }

  /** When the source ends, the latest arrival is released at once. */
  protected override flush(): void {
    this.release();
  }

  /** The latest arrival (if any) is released: handed to a waiting consumer, or replacing an untaken one. */
  protected release(): void {
    if (this.latest.full) this.offerLatest(this.#released, this.latest.remove());
  }
}
