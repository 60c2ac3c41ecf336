/**
 * `pipeTo`: write an async iterable into a Node `Writable` or a Web
 * `WritableStream`, as fast as the destination takes it and no faster.
 * @module
 */
import { noop } from "./_internal/noop.ts";
import { Upstream } from "./_internal/upstream.ts";
import { assertOptions, assertSignal, assertSource, describe } from "./_internal/validate.ts";
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
   * aborted (Web) with `signal.reason`, and the promise rejects with it.
   */
  signal?: AbortSignal;
}

/**
 * Writes every item of `source` into `destination`, reading the next item only
 * when the destination has room, and ends the destination when the source ends.
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
 * Memory: one item in hand; the destination holds at most its high-water mark
 * (a Node writable may exceed it by the one item whose `write()` returned false).
 *
 * @param source The items to write.
 * @param destination A Node `Writable` (anything that fits {@linkcode NodeWritable}) or a Web `WritableStream`.
 * @param options `signal`.
 * @returns A promise that resolves once every item is written and the destination
 *   finished (Node `"finish"`, or the Web stream closed), and rejects with the
 *   first error of either side or the abort reason.
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
 */
export function pipeTo<T>(
  source: Source<T>,
  destination: NodeWritable<T> | WritableStream<T>,
  options: PipeToOptions = {},
): Promise<void> {
  const call = "pipeTo";
  assertSource(source, call);
  const web = isWritableStream(destination);
  if (!web && !isNodeWritable(destination)) {
    throw new TypeError(
      `${call}: 'destination' must be a Node Writable or a WritableStream, received ${describe(destination)}`,
    );
  }
  assertOptions(options, call);
  assertSignal(options.signal, call);
  return new Promise<void>((resolve, reject) => {
    const settle: Settle = { resolve, reject };
    if (web) new WebPipe(source, destination as WritableStream<T>, options.signal, settle).start();
    else new NodePipe(source, destination as NodeWritable<T>, options.signal, settle).start();
  });
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

/** The copy into a Node writable: one callback-driven loop, one listener of each kind. */
class NodePipe<T> {
  readonly #upstream: Upstream<T>;
  readonly #destination: NodeWritable<T>;
  readonly #signal: AbortSignal | undefined;
  readonly #settle: Settle;
  #settled = false;
  /** `write()` returned false: the next read waits for `"drain"`. */
  #waitingForDrain = false;

  constructor(source: Source<T>, destination: NodeWritable<T>, signal: AbortSignal | undefined, settle: Settle) {
    this.#upstream = new Upstream(source);
    this.#destination = destination;
    this.#signal = signal;
    this.#settle = settle;
  }

  start(): void {
    const destination = this.#destination;
    if (destination.destroyed === true) {
      return this.#refuse(new Error("pipeTo: the destination is already destroyed"));
    }
    if (destination.writableEnded === true) {
      return this.#refuse(new Error("pipeTo: the destination has already ended"));
    }
    destination.on("error", this.#onError);
    destination.on("close", this.#onClose);
    destination.on("drain", this.#onDrain);
    destination.on("finish", this.#onFinish);
    if (this.#signal?.aborted) return this.#fail(this.#signal.reason);
    this.#signal?.addEventListener("abort", this.#onAbort);
    if (destination.writableNeedDrain === true) this.#waitingForDrain = true;
    else this.#read();
  }

  #read(): void {
    this.#upstream.next().then(this.#onItem, this.#onSourceError);
  }

  #onItem = (result: IteratorResult<T>): void => {
    if (this.#settled) return;
    if (result.done) {
      this.#upstream.finished();
      this.#destination.end();
      return;
    }
    let more: boolean;
    try {
      more = this.#destination.write(result.value, this.#onWritten);
    } catch (error) {
      return this.#fail(error);
    }
    if (this.#settled) return;
    if (more) this.#read();
    else this.#waitingForDrain = true;
  };

  #onSourceError = (error: unknown): void => {
    this.#upstream.finished();
    this.#fail(error);
  };

  #onWritten = (error?: Error | null): void => {
    if (error != null) this.#fail(error);
  };

  #onDrain = (): void => {
    if (this.#settled || !this.#waitingForDrain) return;
    this.#waitingForDrain = false;
    this.#read();
  };

  #onFinish = (): void => {
    if (this.#settled) return;
    this.#settled = true;
    this.#detach();
    this.#destination.removeListener("error", this.#onError);
    this.#settle.resolve();
  };

  #onClose = (): void => {
    this.#fail(new Error("pipeTo: the destination closed before the source ended"));
  };

  #onError = (error: unknown): void => {
    this.#fail(error);
  };

  #onAbort = (): void => {
    this.#fail(this.#signal!.reason);
  };

  /** Rejects without touching the destination: it is not ours to destroy. */
  #refuse(error: Error): void {
    this.#settled = true;
    this.#settle.reject(error);
  }

  #fail(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#detach();
    this.#upstream.close().then(undefined, noop);
    // The "error" listener stays: it absorbs the error event `destroy(error)` emits, which would otherwise crash Node.
    this.#destination.destroy(error as Error);
    this.#settle.reject(error);
  }

  #detach(): void {
    const destination = this.#destination;
    destination.removeListener("close", this.#onClose);
    destination.removeListener("drain", this.#onDrain);
    destination.removeListener("finish", this.#onFinish);
    this.#signal?.removeEventListener("abort", this.#onAbort);
  }
}

/** The copy into a Web `WritableStream`, through one writer held for the whole copy. */
class WebPipe<T> {
  readonly #upstream: Upstream<T>;
  readonly #destination: WritableStream<T>;
  readonly #signal: AbortSignal | undefined;
  readonly #settle: Settle;
  #writer: WritableStreamDefaultWriter<T> | undefined;
  #settled = false;

  constructor(source: Source<T>, destination: WritableStream<T>, signal: AbortSignal | undefined, settle: Settle) {
    this.#upstream = new Upstream(source);
    this.#destination = destination;
    this.#signal = signal;
    this.#settle = settle;
  }

  start(): void {
    if (this.#destination.locked) {
      this.#settled = true;
      return this.#settle.reject(new TypeError("pipeTo: the destination is locked to another writer"));
    }
    const writer = this.#destination.getWriter();
    this.#writer = writer;
    writer.closed.then(undefined, this.#fail);
    if (this.#signal?.aborted) return this.#fail(this.#signal.reason);
    this.#signal?.addEventListener("abort", this.#onAbort);
    this.#wait();
  }

  /** Reads the next item once the destination wants more. */
  #wait(): void {
    this.#writer!.ready.then(this.#read, this.#fail);
  }

  #read = (): void => {
    if (this.#settled) return;
    this.#upstream.next().then(this.#onItem, this.#onSourceError);
  };

  #onItem = (result: IteratorResult<T>): void => {
    if (this.#settled) return;
    const writer = this.#writer!;
    if (result.done) {
      this.#upstream.finished();
      writer.close().then(this.#onClosed, this.#fail);
      return;
    }
    writer.write(result.value).then(undefined, this.#fail);
    this.#wait();
  };

  #onSourceError = (error: unknown): void => {
    this.#upstream.finished();
    this.#fail(error);
  };

  #onClosed = (): void => {
    if (this.#settled) return;
    this.#settled = true;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#writer!.releaseLock();
    this.#settle.resolve();
  };

  #onAbort = (): void => {
    this.#fail(this.#signal!.reason);
  };

  #fail = (error: unknown): void => {
    if (this.#settled) return;
    this.#settled = true;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#upstream.close().then(undefined, noop);
    const writer = this.#writer!;
    writer.abort(error).then(undefined, noop);
    writer.releaseLock();
    this.#settle.reject(error);
  };
}
