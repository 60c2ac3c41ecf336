/**
 * `pipeTo`: write an async iterable into a Node `Writable` or a Web
 * `WritableStream`, as fast as the destination takes it and no faster.
 * @module
 */
import { Breather } from "./_internal/breather.ts";
import { noop } from "./_internal/noop.ts";
import { Upstream } from "./_internal/upstream.ts";
import { assertCommonOptions, assertOptionalBoolean, assertSource, describe } from "./_internal/validate.ts";
import type { Source } from "./types.ts";

/**
 * The part of a Node `stream.Writable` that {@linkcode pipeTo} uses. Every Node
 * writable fits it (`fs.createWriteStream`, `process.stdout`, a socket, an HTTP
 * response, `new Writable({ objectMode: true, ... })`), on Node, Deno and Bun.
 */
export interface NodeWritable<T = unknown> {
  /** Queues a chunk; returns false once the stream holds its high-water mark, then emits `"drain"`. */
  write(chunk: T, callback?: (error?: Error | null) => void): boolean;
  /** Ends the stream; it emits `"finish"` once every chunk is written. */
  end(): unknown;
  /** Destroys the stream, with an error if one is given. */
  destroy(error?: Error): unknown;
  /** Adds an event listener (`"drain"`, `"error"`, `"finish"`, `"close"`). */
  // deno-lint-ignore no-explicit-any
  on(event: string, listener: (...args: any[]) => void): unknown;
  /** Removes an event listener. */
  // deno-lint-ignore no-explicit-any
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
  /** True once the stream was destroyed. */
  readonly destroyed?: boolean;
  /** True once `end()` was called. */
  readonly writableEnded?: boolean;
  /** True while a writer should wait for `"drain"` before writing more. */
  readonly writableNeedDrain?: boolean;
}

/** Options for {@linkcode pipeTo}. */
export interface PipeToOptions {
  /**
   * Stops the copy: the source is closed, the destination destroyed (Node) or
   * aborted (Web) with `signal.reason` (left open with `end: false`), and the
   * promise rejects with it.
   */
  signal?: AbortSignal;
  /**
   * Whether the destination is ended when the source ends. Default true. With
   * `false` the destination stays the caller's, as with Node's
   * `readable.pipe(destination, { end: false })` and WHATWG's `preventClose`:
   * a Node `Writable` is not ended, a `WritableStream` is not closed and its
   * writer's lock is released, so more can be written into it (another
   * `pipeTo`, a `console.log`). pipeTo does not destroy or abort it on an error
   * either: it closes the source and rejects, and the caller decides.
   * `process.stdout` and `process.stderr` are never ended or destroyed,
   * whatever this says, as Node's `readable.pipe()` never ends them.
   */
  end?: boolean;
}

/**
 * Writes every item of `source` into `destination`, reading the next item only
 * when the destination has room, and ends the destination when the source ends
 * (unless `end: false`, or the destination is `process.stdout` or `process.stderr`).
 *
 * Use it at the end of a pipeline to hand items to I/O that is slower than the
 * producer: a file, a socket, an HTTP response. On a Node `Writable` it waits
 * for `"drain"` whenever `write()` returns false; on a Web `WritableStream` it
 * awaits `writer.ready` before each read. Either way the producer is slowed to
 * the destination's pace. A Node `Readable` or a Web `ReadableStream` is an
 * async iterable, so it can be the source too.
 *
 * If the source throws, the destination fails, or `signal` aborts, the source
 * is closed (its `return()` is called), the destination is destroyed (Node) or
 * aborted (Web) with that error, and the promise rejects with the same error.
 * A destination that closes before the source ended is an error too. A Web
 * destination is locked while the copy runs and released after it.
 *
 * With `end: false`, and always for `process.stdout` and `process.stderr`, the
 * destination is left open: not ended or closed when the source ends, not
 * destroyed or aborted on an error, so it can be written to afterwards (a second
 * `pipeTo`, `console.log`). The promise then resolves once every item was written.
 *
 * Memory: one item in hand; the destination holds at most its high-water mark
 * (a Node writable may exceed it by the one item whose `write()` returned false).
 *
 * @param source The items to write.
 * @param destination A Node `Writable` (anything that fits {@linkcode NodeWritable}) or a Web `WritableStream`.
 * @param options `signal`, and `end: false` to leave the destination open.
 * @returns A promise that resolves once every item is written and the destination
 *   finished (Node `"finish"`, or the Web stream closed; with the destination
 *   left open, once the last write completed), and rejects with the first error
 *   of either side or the abort reason.
 * @throws {TypeError} If `source` is not iterable, `destination` is neither a
 *   Node writable nor a `WritableStream`, or an option has the wrong type. A
 *   destination that is locked, destroyed or already ended rejects the promise.
 *
 * @example Write into a Web WritableStream
 * ```ts
 * import { pipeTo } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const written: string[] = [];
 * const sink = new WritableStream<string>({
 *   async write(line) {
 *     await new Promise((resolve) => setTimeout(resolve, 1)); // a slow destination
 *     written.push(line);
 *   },
 * });
 * await pipeTo(["a", "b", "c"], sink);
 * assert.deepEqual(written, ["a", "b", "c"]);
 * ```
 *
 * @example Write into a Node Writable, waiting for "drain"
 * ```ts
 * import { pipeTo } from "@sluice/sluice";
 * import { Writable } from "node:stream";
 * import assert from "node:assert/strict";
 *
 * async function* numbers() {
 *   for (let i = 0; i < 100; i++) yield i;
 * }
 * let sum = 0;
 * const sink = new Writable({
 *   objectMode: true,
 *   highWaterMark: 4,
 *   write(n: number, _encoding, done) {
 *     sum += n;
 *     setTimeout(done, 0);
 *   },
 * });
 * await pipeTo(numbers(), sink);
 * assert.equal(sum, 4950);
 * ```
 *
 * @example Two sources into one destination, which stays open
 * ```ts
 * import { pipeTo } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const written: string[] = [];
 * const sink = new WritableStream<string>({ write: (line) => void written.push(line) });
 * await pipeTo(["header"], sink, { end: false }); // not closed, the lock released
 * await pipeTo(["a", "b"], sink); // this one closes it
 * assert.deepEqual(written, ["header", "a", "b"]);
 * ```
 */
export function pipeTo<T>(
  source: Source<T>,
  destination: NodeWritable<T> | WritableStream<T>,
  options: PipeToOptions = {},
): Promise<void> {
  const api = "pipeTo";
  assertSource(source, api);
  const web = isWritableStream(destination);
  if (!web && !isNodeWritable(destination)) {
    throw new TypeError(
      `${api}: 'destination' must be a Node Writable or a WritableStream, received ${describe(destination)}`,
    );
  }
  assertCommonOptions(options, api);
  assertOptionalBoolean(options.end, api, "end");
  const end = options.end !== false && !isStdio(destination);
  return new Promise<void>((resolve, reject) => {
    const settle: Settle = { resolve, reject };
    if (web) new WebPipe(source, destination as WritableStream<T>, options.signal, end, settle).start();
    else new NodePipe(source, destination as NodeWritable<T>, options.signal, end, settle).start();
  });
}

/** True for `process.stdout` and `process.stderr`, which are never ended (as Node's `readable.pipe()` does). */
function isStdio(destination: unknown): boolean {
  const process = (globalThis as { process?: { stdout?: unknown; stderr?: unknown } }).process;
  return process !== undefined && (destination === process.stdout || destination === process.stderr);
}

interface Settle {
  resolve(): void;
  reject(error: unknown): void;
}

function isWritableStream(value: unknown): boolean {
  return value !== null && typeof value === "object" &&
    typeof (value as WritableStream).getWriter === "function";
}

function isNodeWritable(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.write === "function" && typeof candidate.end === "function" &&
    typeof candidate.destroy === "function" && typeof candidate.on === "function" &&
    typeof candidate.removeListener === "function";
}

/**
 * What the copy into either kind of destination shares: the source read one item at a time (pausing
 * for the event loop now and then), the abort listener, and one settlement. A subclass writes an
 * item, ends the destination when the source ends, and fails the copy its own way.
 */
abstract class Copy<T, D> {
  protected readonly upstream: Upstream<T>;
  protected readonly destination: D;
  protected readonly signal: AbortSignal | undefined;
  /** End or close the destination when the source ends, and destroy or abort it on an error; false: leave it open. */
  protected readonly end: boolean;
  readonly #settle: Settle;
  protected settled = false;
  /** Over an in-memory source and a destination that never says wait, the copy pauses for timers and I/O. */
  readonly #breather = new Breather();

  constructor(source: Source<T>, destination: D, signal: AbortSignal | undefined, end: boolean, settle: Settle) {
    this.upstream = new Upstream(source, "pipeTo");
    this.destination = destination;
    this.signal = signal;
    this.end = end;
    this.#settle = settle;
  }

  /** Writes one item of the source. */
  protected abstract write(item: T): void;

  /** The source ended (it is finished already): end the destination, or resolve once every write completed. */
  protected abstract sourceEnded(): void;

  /** Stops the copy and rejects; `broken`: the error came from the destination itself. */
  protected abstract fail(error: unknown, broken: boolean): void;

  /** Listens for the abort and starts the breather: false if the signal was aborted already (the copy failed). */
  protected begin(): boolean {
    if (this.signal?.aborted) {
      this.fail(this.signal.reason, false);
      return false;
    }
    this.signal?.addEventListener("abort", this.#onAbort);
    this.#breather.begin();
    return true;
  }

  /** Reads the next item. */
  protected read = (): void => {
    if (this.settled) return;
    if (this.#breather.due()) return this.#breather.pause(this.read);
    this.upstream.next().then(this.#onItem, this.#onSourceError);
  };

  #onItem = (result: IteratorResult<T>): void => {
    if (this.settled) return;
    const broken = this.upstream.misread(result);
    if (broken !== undefined) return this.fail(broken, false);
    if (!result.done) return this.write(result.value);
    this.upstream.finished();
    this.sourceEnded();
  };

  #onSourceError = (error: unknown): void => {
    this.upstream.finished();
    this.fail(error, false);
  };

  #onAbort = (): void => {
    this.fail(this.signal!.reason, false);
  };

  /** Ends the copy, once: stops the breather and the abort listener. False if it had ended already. */
  protected conclude(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.#breather.cancel();
    this.signal?.removeEventListener("abort", this.#onAbort);
    return true;
  }

  protected resolve(): void {
    this.#settle.resolve();
  }

  protected reject(error: unknown): void {
    this.#settle.reject(error);
  }

  /** Rejects before the copy began, without touching the destination: it is not ours to destroy. */
  protected refuse(error: Error): void {
    this.settled = true;
    this.#settle.reject(error);
  }
}

/** The copy into a Node writable: one callback-driven loop, one listener of each kind. */
class NodePipe<T> extends Copy<T, NodeWritable<T>> {
  /** `write()` returned false: the next read waits for `"drain"`. */
  #waitingForDrain = false;
  /** Writes whose callback has not come yet: with the destination left open, the copy is done when none is. */
  #writing = 0;
  /** The source ended (the destination left open): resolve once `#writing` is 0. */
  #sourceEnded = false;

  start(): void {
    const destination = this.destination;
    if (destination.destroyed === true) {
      return this.refuse(new Error("pipeTo: the destination is already destroyed"));
    }
    if (destination.writableEnded === true) {
      return this.refuse(new Error("pipeTo: the destination has already ended"));
    }
    destination.on("error", this.#onError);
    destination.on("close", this.#onClose);
    destination.on("drain", this.#onDrain);
    destination.on("finish", this.#finished);
    if (!this.begin()) return;
    if (destination.writableNeedDrain === true) this.#waitingForDrain = true;
    else this.read();
  }

  protected write(item: T): void {
    let more: boolean;
    this.#writing++;
    try {
      more = this.destination.write(item, this.#onWritten);
    } catch (error) {
      // A synchronous throw (a chunk of the wrong type) leaves the destination as it was.
      this.#writing--;
      return this.fail(error, false);
    }
    if (this.settled) return;
    if (more) this.read();
    else this.#waitingForDrain = true;
  }

  protected sourceEnded(): void {
    if (this.end) this.destination.end();
    else if (this.#writing === 0) this.#finished();
    else this.#sourceEnded = true;
  }

  #onWritten = (error?: Error | null): void => {
    this.#writing--;
    if (error != null) this.fail(error, true);
    else if (this.#sourceEnded && this.#writing === 0) this.#finished();
  };

  #onDrain = (): void => {
    if (this.settled || !this.#waitingForDrain) return;
    this.#waitingForDrain = false;
    this.read();
  };

  /** The destination finished, or every item is written into one left open: nothing of ours is left on it. */
  #finished = (): void => {
    if (!this.conclude()) return;
    this.#detach();
    this.destination.removeListener("error", this.#onError);
    this.resolve();
  };

  #onClose = (): void => {
    this.fail(new Error("pipeTo: the destination closed before the source ended"), true);
  };

  #onError = (error: unknown): void => {
    this.fail(error, true);
  };

  protected fail(error: unknown, broken: boolean): void {
    if (!this.conclude()) return;
    this.#detach();
    this.upstream.close().then(undefined, noop);
    if (this.end) {
      // The "error" listener stays: it absorbs the error event `destroy(error)` emits, which would otherwise crash Node.
      this.destination.destroy(error as Error);
    } else if (!broken) {
      // Left open and healthy: the caller's to use or destroy, with nothing of ours on it.
      this.destination.removeListener("error", this.#onError);
    } // A broken destination may still emit "error" (after a failed write's callback): the listener absorbs it.
    this.reject(error);
  }

  #detach(): void {
    const destination = this.destination;
    destination.removeListener("close", this.#onClose);
    destination.removeListener("drain", this.#onDrain);
    destination.removeListener("finish", this.#finished);
  }
}

/** The copy into a Web `WritableStream`, through one writer held for the whole copy. */
class WebPipe<T> extends Copy<T, WritableStream<T>> {
  #writer: WritableStreamDefaultWriter<T> | undefined;
  /** The last write, for a destination left open: the copy is done when it is. */
  #lastWrite: Promise<void> | undefined;

  start(): void {
    if (this.destination.locked) {
      return this.refuse(new TypeError("pipeTo: the destination is locked to another writer"));
    }
    const writer = this.destination.getWriter();
    this.#writer = writer;
    writer.closed.then(undefined, this.#onError);
    if (!this.begin()) return;
    this.#wait();
  }

  /** Reads the next item once the destination wants more. */
  #wait(): void {
    this.#writer!.ready.then(this.read, this.#onError);
  }

  protected write(item: T): void {
    const write = this.#writer!.write(item);
    write.then(undefined, this.#onError);
    if (!this.end) this.#lastWrite = write;
    this.#wait();
  }

  protected sourceEnded(): void {
    if (this.end) this.#writer!.close().then(this.#onClosed, this.#onError);
    else if (this.#lastWrite === undefined) this.#onClosed();
    else this.#lastWrite.then(this.#onClosed, this.#onError);
  }

  /** The destination closed, or (left open) the last write completed. */
  #onClosed = (): void => {
    if (!this.conclude()) return;
    this.#writer!.releaseLock();
    this.resolve();
  };

  #onError = (error: unknown): void => {
    this.fail(error);
  };

  /** A Web destination is aborted with the error whatever broke (with `end`), and its lock released. */
  protected fail(error: unknown): void {
    if (!this.conclude()) return;
    this.upstream.close().then(undefined, noop);
    const writer = this.#writer!;
    if (this.end) writer.abort(error).then(undefined, noop);
    writer.releaseLock();
    this.reject(error);
  }
}
