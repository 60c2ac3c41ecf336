/**
 * Starts a throwaway `redis-server` on a free loopback port with persistence
 * off, for the Redis adapter tests; fails loudly when it is not installed
 * (redis.test.ts skips first, through test/_services.ts, when it is not on PATH).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";

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

/** Starts `command` (redis-server on PATH unless given the executable's path). */
export async function startRedisServer(command = "redis-server"): Promise<RedisServer> {
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    throw new Error(`${MISSING} (${String(error)})`);
  }
  let output = "";
  const version = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`redis-server did not start within 5 s:\n${output}`)), 5000);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(error);
    };
    child.on("error", (error: NodeJS.ErrnoException) => {
      fail(error.code === "ENOENT" ? new Error(MISSING) : error);
    });
    child.on("exit", (code) => fail(new Error(`redis-server exited with code ${code}:\n${output}`)));
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        resolve(/v=(\d+\.\d+\.\d+)/.exec(output)?.[1] ?? "unknown");
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
  });
  child.stdout!.removeAllListeners("data");
  child.stderr!.removeAllListeners("data");
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    version,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
