/**
 * Shared by the examples that print as they go: when whatever reads their
 * output stops early (`npm run demo | head -3`), the next write fails with
 * EPIPE, and the example would die with a stack trace. Importing this module
 * makes that a quiet stop instead, as `cat file | head` does: what the example
 * registered with `beforeQuietExit()` runs (stop its child processes, remove
 * its temporary files), then the process exits with code 0.
 */
import process from "node:process";

const cleanups: (() => unknown)[] = [];
let exiting = false;

/** Runs `cleanup` (awaited; an error in it is ignored) before a quiet exit. */
export function beforeQuietExit(cleanup: () => unknown): void {
  cleanups.push(cleanup);
}

function onWriteError(error: NodeJS.ErrnoException): void {
  // Once the exit is under way, later writes fail too: nobody reads them.
  if (exiting) return;
  if (error.code !== "EPIPE") throw error;
  exiting = true;
  void (async () => {
    for (const cleanup of cleanups) {
      try {
        await cleanup();
      } catch {
        // The reader is gone: there is nobody to tell.
      }
    }
    process.exit(0);
  })();
}

process.stdout.on("error", onWriteError);
process.stderr.on("error", onWriteError);
