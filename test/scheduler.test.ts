/**
 * The macrotask scheduler browsers get (they have no `setImmediate`): a `MessageChannel`
 * message per pause. Tested here on the server runtimes, which all have `MessageChannel` too.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { channelScheduler } from "../src/_internal/macrotask.ts";

const test = suite("channelScheduler");

test("runs each callback once, in a later turn, in the order scheduled; a cancelled one never runs", async () => {
  const scheduler = channelScheduler();
  const ran: string[] = [];
  scheduler.schedule(() => ran.push("a"));
  const cancelled = scheduler.schedule(() => ran.push("cancelled"));
  scheduler.schedule(() => ran.push("b"));
  scheduler.unschedule(cancelled);
  await Promise.resolve();
  assert.equal(ran, [], "not within the current turn");
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(ran, ["a", "b"]);
});

test("works again after everything pending was cancelled and the channel closed", async () => {
  const scheduler = channelScheduler();
  const ran: string[] = [];
  scheduler.unschedule(scheduler.schedule(() => ran.push("cancelled")));
  scheduler.schedule(() => ran.push("after"));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(ran, ["after"]);
});

test("nested pauses are not clamped as a nested setTimeout(0) is", async () => {
  const scheduler = channelScheduler();
  const rounds = 200;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    let left = rounds;
    const again = (): void => {
      if (--left === 0) return resolve();
      scheduler.schedule(again);
    };
    scheduler.schedule(again);
  });
  const elapsed = performance.now() - started;
  // setTimeout(0) waits at least 1 ms per round on the server runtimes and 4 ms when nested in browsers.
  assert.ok(elapsed < rounds / 2, `${rounds} nested pauses took ${elapsed.toFixed(1)} ms`);
});

test.run();
