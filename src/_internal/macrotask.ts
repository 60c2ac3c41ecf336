/**
 * Scheduling on the event loop, the same on Node, Deno, Bun and browsers.
 */

/** Runs `callback` once the event loop gets a turn: `setImmediate` where there is one, else `setTimeout(0)`. */
export const schedule: (callback: () => void) => unknown = typeof setImmediate === "function"
  ? (callback) => setImmediate(callback)
  : (callback) => setTimeout(callback, 0);

/** Cancels what `schedule` returned. */
export const unschedule: (handle: unknown) => void = typeof clearImmediate === "function"
  ? (handle) => clearImmediate(handle as ReturnType<typeof setImmediate>)
  : (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>);

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
