/**
 * Scheduling on the event loop, the same on Node, Deno, Bun and browsers.
 */

/** Schedules a callback for a later turn of the event loop, and cancels it. */
export interface Scheduler {
  schedule(callback: () => void): unknown;
  unschedule(handle: unknown): void;
}

/**
 * Macrotasks through a `MessageChannel`, for runtimes without `setImmediate` (browsers): a
 * nested `setTimeout(0)` is clamped to 4 ms there, which would turn every pause of a fast
 * loop into a 4 ms wait. One callback per pending `schedule()` is kept until it runs or is
 * cancelled. The channel is opened on demand and closed once nothing is pending, so an idle
 * scheduler holds no port open (an open port keeps a server runtime's process alive).
 */
export function channelScheduler(): Scheduler {
  const pending = new Map<number, () => void>();
  let channel: MessageChannel | undefined;
  let last = 0;
  const closeIfIdle = (): void => {
    if (pending.size > 0 || channel === undefined) return;
    channel.port1.close();
    channel = undefined;
  };
  const run = (event: MessageEvent<number>): void => {
    const callback = pending.get(event.data);
    if (callback !== undefined) { // else it was cancelled
      pending.delete(event.data);
      callback();
    }
    closeIfIdle(); // after the callback, so a loop that schedules its next turn keeps the channel
  };
  return {
    schedule(callback) {
      if (channel === undefined) {
        channel = new MessageChannel();
        channel.port1.onmessage = run;
      }
      const handle = ++last;
      pending.set(handle, callback);
      channel.port2.postMessage(handle);
      return handle;
    },
    unschedule(handle) {
      if (pending.delete(handle as number)) closeIfIdle();
    },
  };
}

const scheduler: Scheduler = typeof setImmediate === "function"
  ? {
    schedule: (callback) => setImmediate(callback),
    unschedule: (handle) => clearImmediate(handle as ReturnType<typeof setImmediate>),
  }
  : typeof MessageChannel === "function"
  ? channelScheduler()
  : {
    schedule: (callback) => setTimeout(callback, 0),
    unschedule: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };

/** Runs `callback` once the event loop gets a turn: `setImmediate` where there is one, else a `MessageChannel` message. */
export const schedule = (callback: () => void): unknown => scheduler.schedule(callback);

/** Cancels what `schedule` returned. */
export const unschedule = (handle: unknown): void => scheduler.unschedule(handle);

/** Lets the process exit while the timer is pending: Node and Bun timers have `unref()`, Deno has `Deno.unrefTimer`. */
export function unrefTimer(timer: unknown): void {
  try {
    if (typeof timer === "object" && timer !== null && typeof (timer as { unref?: unknown }).unref === "function") {
      (timer as { unref(): void }).unref();
      return;
    }
    const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno;
    if (typeof timer === "number" && typeof deno?.unrefTimer === "function") deno.unrefTimer(timer);
  } catch {
    // A timer that cannot be unref'd (a fake one in tests) is still cleared on every exit.
  }
}
