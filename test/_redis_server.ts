/**
 * Starts a throwaway `redis-server` on a free loopback port with persistence
 * off, for the Redis adapter tests; fails loudly when it is not installed
 * (redis.test.ts skips first, through test/_services.ts, when it is not on PATH).
 */
import { createServer } from "node:net";
import { startWatched } from "./_watchdog.ts";

export interface RedisServer {
  port: number;
  url: string;
  version: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** What the Redis tests need, for test/_services.ts. */
export const REDIS_SERVICE = {
  name: "redis",
  command: "redis-server",
  install: "apt-get install -y redis-server",
};

const MISSING = "redis-server is not installed: the Redis adapter tests need it " +
  "(Debian/Ubuntu: apt-get update && apt-get install -y redis-server)";

// The watchdog: redis-server in the background, and beside it a reader of our stdin (kept as fd 3, since a
// background job's stdin is /dev/null) that kills it once stdin closes. The watchdog exits with the server, so a
// server that fails to start is seen at once, with its exit code.
const WATCHDOG = `
exec 3<&0
"$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no </dev/null 3<&- &
server=$!
{ cat <&3 >/dev/null; kill -KILL $server 2>/dev/null; } &
watcher=$!
exec 3<&- </dev/null
wait $server
status=$?
kill $watcher 2>/dev/null
exit $status
`;

/**
 * Starts `command` (redis-server on PATH unless given the executable's path) under a shell watchdog
 * (test/_watchdog.ts), so that it dies with this process however this process ends, even by SIGKILL.
 */
export async function startRedisServer(command = "redis-server"): Promise<RedisServer> {
  const port = await freePort();
  let ready: () => void = () => {};
  const watched = startWatched(WATCHDOG, {
    env: { ...process.env, REDIS_SERVER: command, REDIS_PORT: String(port) },
    onOutput: (output) => {
      if (output.includes("Ready to accept connections")) ready();
    },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`redis-server did not start within 5 s:\n${watched.output()}`)),
        5000,
      );
      ready = () => {
        clearTimeout(timer);
        resolve();
      };
      void watched.exited.then(() => {
        clearTimeout(timer);
        const code = watched.child.exitCode;
        // sh's "not found" (127) and "not executable" (126).
        if (code === 127 || code === 126) reject(new Error(`${MISSING} (${watched.output().trim()})`));
        else reject(new Error(`redis-server exited with code ${code}:\n${watched.output()}`));
      });
    });
  } catch (error) {
    await watched.stop();
    throw error;
  }
  const version = /version=(\d+\.\d+\.\d+)/.exec(watched.output())?.[1] ?? "unknown";
  watched.quiet();
  return { port, url: `redis://127.0.0.1:${port}`, version, stop: watched.stop };
}
