/**
 * `npm run example:distributed`: backpressure across processes, on Redis Streams.
 *
 * Starts its own redis-server on a free loopback port (persistence off, stopped
 * however the demo ends), then one producer process and three consumer processes
 * of one consumer group:
 *
 * - producer: writes 1500 jobs with `toRedisStream`, held back whenever the
 *   group has more than 50 jobs not yet delivered (`maxLag`);
 * - steady: handles a job in 10 ms;
 * - slow: handles a job in 60 ms, and so asks for (and gets) fewer;
 * - doomed: handles a job in 10 ms and is killed with SIGKILL halfway through,
 *   in the middle of a batch: the jobs it held stay pending in Redis, and the
 *   survivors take them over once idle for 1 s (`claimIdleMs`).
 *
 * Every second it prints a line: jobs produced, jobs handled per consumer,
 * pending (delivered, not yet acknowledged), reclaimed (taken over from the
 * dead consumer) and lag (written, not yet delivered). At the end it checks
 * that every job was handled (`in = out`) and counts the jobs handled twice:
 * at-least-once delivery means a job the doomed consumer had finished but not
 * yet acknowledged is handled again, never that a job is lost.
 *
 * Needs `redis-server` on the PATH (Debian: apt-get install -y redis-server).
 * Options: `--jobs 1500`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { createClient } from "redis";
import { beforeQuietExit } from "../_quiet_pipe.ts";

const TOTAL = Number(process.argv.includes("--jobs") ? process.argv[process.argv.indexOf("--jobs") + 1] : 1500);
const MAX_LAG = 50;
const CLAIM_IDLE_MS = 1000;
const STREAM = "jobs";
const GROUP = "workers";
const CONSUMERS = [
  { name: "steady", handleMs: 10 },
  { name: "slow", handleMs: 60 },
  { name: "doomed", handleMs: 10 },
];

const here = fileURLToPath(new URL(".", import.meta.url));
const root = fileURLToPath(new URL("../..", import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

/** Every process started here: a quiet exit (the output's reader went away, `| head`) stops them all. */
const children: ChildProcess[] = [];
beforeQuietExit(() => {
  for (const child of children) child.kill("SIGKILL");
});

/**
 * redis-server on a lifeline: the shell stops it when its stdin closes, which happens however this
 * process ends (even SIGKILL, which runs no handler here), so no exit path leaves a server behind.
 * The consumers and the producer end with it: they lose their connection.
 */
const LIFELINE = `
command -v redis-server >/dev/null 2>&1 || exit 127
exec 3<&0
redis-server "$@" 3<&- &
server=$!
(cat <&3 >/dev/null; kill $server 2>/dev/null) &
exec 3<&-
wait $server
`;

async function startRedis(port: number): Promise<ChildProcess> {
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  const child = spawn("sh", ["-c", LIFELINE, "sh", ...args], { stdio: ["pipe", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  await new Promise<void>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => {
      reject(
        new Error(
          code === 127
            ? "redis-server not found: apt-get install -y redis-server"
            : `redis-server exited (${code}):\n${output}`,
        ),
      );
    });
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk;
      if (output.includes("Ready to accept connections")) resolve();
    });
  });
  child.removeAllListeners("exit");
  child.stdout!.removeAllListeners("data");
  child.stdout!.resume();
  child.stderr!.resume();
  return child;
}

/** Runs a TypeScript file of this folder with the runtime running this one (Node through tsx, Deno or Bun). */
function run(file: string, args: string[]): ChildProcess {
  const script = `${here}${file}`;
  const globals = globalThis as Record<string, unknown>;
  const [command, runtimeArgs] = globals.Deno !== undefined
    ? [process.execPath, ["run", "-A", "--quiet", script]]
    : globals.Bun !== undefined
    ? [process.execPath, [script]]
    : [process.execPath, ["--import", "tsx", script]];
  const child = spawn(command, [...runtimeArgs, ...args], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  children.push(child);
  return child;
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once("exit", () => resolve()));

const port = await freePort();
const redis = await startRedis(port);
const url = `redis://127.0.0.1:${port}`;
const client = createClient({ url });
client.on("error", () => {});
await client.connect();
const send = (...args: string[]) => client.sendCommand(args);

async function snapshot() {
  // node-redis 5+ speaks RESP3 by default and hands maps over as objects; RESP2 gives flat arrays.
  const stats = (await send("HGETALL", `${STREAM}:stats`)) as unknown as Record<string, string> | string[];
  const record: Record<string, string> = Array.isArray(stats)
    ? Object.fromEntries(stats.flatMap((_, i) => (i % 2 === 0 ? [[stats[i], stats[i + 1]]] : [])))
    : stats;
  const groups = (await send("XINFO", "GROUPS", STREAM).catch(() => [])) as unknown as Record<string, unknown>[];
  const group = groups.find((info) => info.name === GROUP) ?? {};
  const reclaimed = CONSUMERS.reduce((sum, { name }) => sum + Number(record[`reclaimed:${name}`] ?? 0), 0);
  return {
    produced: Number(record.produced ?? 0),
    delivered: CONSUMERS.map(({ name }) => Number(record[`delivered:${name}`] ?? 0)),
    pending: Number(group.pending ?? 0),
    lag: Number(group.lag ?? 0),
    reclaimed,
    heldMs: Number(record.heldMs ?? 0),
  };
}

const pad = (value: string | number, width: number) => String(value).padStart(width);
console.log(
  `redis-server on port ${port}: 1 producer (maxLag ${MAX_LAG}), consumers ` +
    CONSUMERS.map(({ name, handleMs }) => `${name} (${handleMs} ms/job)`).join(", ") +
    `, claimIdleMs ${CLAIM_IDLE_MS}\n`,
);
console.log(
  `${pad("time", 5)} ${pad("produced", 9)} ${CONSUMERS.map(({ name }) => pad(name, 7)).join(" ")} ` +
    `${pad("pending", 8)} ${pad("reclaimed", 10)} ${pad("lag", 5)}`,
);
const line = (second: number, s: Awaited<ReturnType<typeof snapshot>>) =>
  `${pad(`${second}s`, 5)} ${pad(s.produced, 9)} ` +
  `${s.delivered.map((n) => pad(n, 7)).join(" ")} ${pad(s.pending, 8)} ${pad(s.reclaimed, 10)} ${pad(s.lag, 5)}`;

await send("XGROUP", "CREATE", STREAM, GROUP, "0", "MKSTREAM");
const consumers = new Map(CONSUMERS.map(({ name, handleMs }) => [
  name,
  run("consumer.ts", [url, STREAM, GROUP, name, String(handleMs), String(CLAIM_IDLE_MS)]),
]));
const producer = run("producer.ts", [url, STREAM, GROUP, String(TOTAL), String(MAX_LAG)]);

// Start the clock once every process is up (starting a TypeScript runtime can take a while on a busy machine).
while (Number(await send("GET", `${STREAM}:ready`)) < CONSUMERS.length + 1) await sleep(20);
await send("RPUSH", `${STREAM}:go`, "1");
const started = performance.now();

const doomedPending = async () => {
  const consumers = (await send("XINFO", "CONSUMERS", STREAM, GROUP)) as unknown as Record<string, unknown>[];
  return Number(consumers.find((c) => c.name === "doomed")?.pending ?? 0);
};
let killed = false;
let done = false;
for (let second = 1; !done; second++) {
  await sleep(started + second * 1000 - performance.now());
  const s = await snapshot();
  console.log(line(second, s));
  const handled = Number(await send("HLEN", `${STREAM}:handled`));
  if (!killed && handled >= TOTAL / 2) {
    // Halfway: kill the doomed consumer in the middle of a batch (while it holds a few jobs).
    while (await doomedPending() < 3) await sleep(2);
    killed = true;
    consumers.get("doomed")!.kill("SIGKILL");
    await exited(consumers.get("doomed")!);
    console.log(`      doomed killed with SIGKILL halfway, ${await doomedPending()} job(s) left pending in Redis`);
  }
  done = handled === TOTAL && s.pending === 0 && s.produced === TOTAL;
}

await exited(producer);
for (const [name, child] of consumers) if (name !== "doomed") child.kill("SIGTERM");
await Promise.all([...consumers.values()].map(exited));

const counts = ((await send("HVALS", `${STREAM}:handled`)) as unknown as string[]).map(Number);
const handlings = counts.reduce((sum, n) => sum + n, 0);
const final = await snapshot();
console.log(
  `\nin = out: ${TOTAL} jobs written, ${counts.length} handled; ${handlings - TOTAL} handled twice ` +
    `(at-least-once: a job doomed was handling when it died runs again)`,
);
console.log(
  `producer held back ${(final.heldMs / 1000).toFixed(1)} s by maxLag; ` +
    CONSUMERS.map(({ name }, i) => `${name} ${final.delivered[i]}`).join(", ") + `, reclaimed ${final.reclaimed}`,
);
await client.close();
// Closing its lifeline stops redis-server.
redis.stdin!.end();
await exited(redis);
if (counts.length !== TOTAL) {
  console.error(`LOST: ${TOTAL - counts.length} job(s)`);
  process.exitCode = 1;
}
