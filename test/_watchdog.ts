/**
 * Runs a test service (redis-server, a RabbitMQ broker) under a small shell
 * watchdog, so that no exit path of the test process leaves it running.
 *
 * The watchdog is `sh -c SCRIPT` in a process group of its own. SCRIPT starts
 * the service in the background, then waits for its stdin to close and kills
 * the service. That stdin is a pipe from this process, its lifeline: it closes
 * on `stop()`, and when this process dies in any way, even SIGKILL (which runs
 * no handler here). A process that exits without `stop()` (an uncaught error)
 * also kills the group from its "exit" handler.
 */
import { type ChildProcess, spawn } from "node:child_process";

/** How much of the output is kept, for the message when the service does not start. */
const OUTPUT_KEPT = 8000;

export interface WatchOptions {
  env: Record<string, string | undefined>;
  /** Called with the output kept so far (stdout and stderr, the last 8000 characters) after each chunk, until `quiet()`. */
  onOutput?: (output: string) => void;
  /** How long `stop()` waits for the watchdog before it kills the whole group. */
  graceMs?: number;
}

export interface Watched {
  /** The watchdog shell; its pid is the process group's. */
  readonly child: ChildProcess;
  /** Resolves once the watchdog has exited (with the service, or after killing it). */
  readonly exited: Promise<void>;
  /** The output kept so far (see `onOutput`). */
  output(): string;
  /** Stops keeping output; it is still drained, so the service never blocks on a full pipe. */
  quiet(): void;
  /** Closes the lifeline and resolves once the watchdog and its group are gone. Safe to call twice. */
  stop(): Promise<void>;
}

/** Starts `script` under `sh` as a watchdog (see the module doc); `script` must end by waiting for stdin to close. */
export function startWatched(script: string, options: WatchOptions): Watched {
  const graceMs = options.graceMs ?? 10_000;
  const child: ChildProcess = spawn("sh", ["-c", script], {
    env: options.env,
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
  });
  // The watchdog must not keep this process alive, and must outlive nothing: its stdin is our lifeline.
  child.unref();
  (child.stdout as unknown as { unref?(): void }).unref?.();
  (child.stderr as unknown as { unref?(): void }).unref?.();
  (child.stdin as unknown as { unref?(): void }).unref?.();
  let output = "";
  const onData = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_KEPT);
    options.onOutput?.(output);
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  // A test process that exits without stop() still takes its service down.
  const onExit = (): void => killGroup(child);
  process.on("exit", onExit);
  let stopping: Promise<void> | undefined;
  return {
    child,
    exited,
    output: () => output,
    quiet(): void {
      child.stdout!.removeListener("data", onData);
      child.stderr!.removeListener("data", onData);
      child.stdout!.resume();
      child.stderr!.resume();
    },
    stop(): Promise<void> {
      stopping ??= (async () => {
        child.stdin!.end();
        const timer = setTimeout(() => killGroup(child), graceMs);
        await exited;
        clearTimeout(timer);
        killGroup(child); // anything left in the group (there should be nothing)
        process.off("exit", onExit);
      })();
      return stopping;
    },
  };
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}
