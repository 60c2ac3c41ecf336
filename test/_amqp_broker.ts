/**
 * Starts a throwaway RabbitMQ broker for the sluice/amqp tests and the example:
 * as the current user, on free loopback ports (AMQP, Erlang distribution and
 * its own epmd), with its own node name, data and log directories, no plugins,
 * and no system configuration. A broker that the package install may have
 * started on the default ports is never used or touched.
 *
 * The broker runs under a shell watchdog (test/_watchdog.ts): when this
 * process stops it or dies in any way, even SIGKILL, the watchdog kills the
 * broker and the epmd it started and removes the temporary directory. So no
 * exit path leaves a broker running.
 */
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWatched } from "./_watchdog.ts";

/** Debian's package puts the broker's own start script here (the /usr/sbin wrapper switches to the rabbitmq user). */
export const BROKER_SCRIPT = "/usr/lib/rabbitmq/bin/rabbitmq-server";
export const BROKER_INSTALL = "apt-get install -y rabbitmq-server";

export interface Broker {
  port: number;
  url: string;
  /** The Erlang VM's process id (from the broker's pid file), for a test that stops the broker mid-run. */
  pid: number;
  /** Stops the broker and its epmd, removes its directory; resolves once they are gone. Safe to call twice. */
  stop(): Promise<void>;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** True when the broker and epmd can be started here. */
export function brokerInstalled(): boolean {
  return executable(BROKER_SCRIPT) && findEpmd() !== undefined;
}

function findEpmd(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":").concat(["/usr/bin", "/usr/lib/erlang/bin"])) {
    if (dir !== "" && executable(join(dir, "epmd"))) return join(dir, "epmd");
  }
  return undefined;
}

/** `count` distinct free loopback ports (all held open until every one is chosen). */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      ports.push(
        await new Promise<number>((resolve, reject) => {
          server.on("error", reject);
          server.listen(0, "127.0.0.1", () => {
            const address = server.address();
            resolve(typeof address === "object" && address !== null ? address.port : 0);
          });
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/** True once `port` answers the AMQP 0-9-1 protocol header with a frame (connection.start). */
function speaksAmqp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const done = (answer: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), 1000);
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write(Buffer.from([65, 77, 81, 80, 0, 0, 9, 1])));
    socket.on("data", (chunk: Buffer) => done(chunk[0] === 1));
    socket.on("close", () => done(false));
  });
}

// The watchdog: epmd and the broker in the background, then wait for stdin to close. The broker's start script
// ends in a process (erlexec) that is not the Erlang VM: the VM's own pid is read from the pid file it writes. A
// broker that stops by itself leaves the file `exited` (its exit code), so a failed start shows at once.
const WATCHDOG = `
"$EPMD_BIN" -port "$ERL_EPMD_PORT" -address 127.0.0.1 &
epmd_pid=$!
i=0
while ! "$EPMD_BIN" -port "$ERL_EPMD_PORT" -names >/dev/null 2>&1; do
  i=$((i+1)); [ $i -gt 100 ] && break; sleep 0.05
done
{ "$BROKER_SCRIPT" & echo $! > "$BROKER_DIR/script.pid"; wait $!; echo $? > "$BROKER_DIR/exited"; } &
watcher_pid=$!
cat >/dev/null
kill -KILL $(cat "$RABBITMQ_PID_FILE" 2>/dev/null) $(cat "$BROKER_DIR/script.pid" 2>/dev/null) $watcher_pid $epmd_pid 2>/dev/null
wait
rm -rf "$BROKER_DIR"
`;

/**
 * Starts a broker and resolves once it accepts AMQP connections (several
 * seconds: start one per test file). Rejects with the broker's last output
 * if it exits or does not answer within `timeoutMs`.
 */
export async function startBroker(timeoutMs = 120_000): Promise<Broker> {
  const epmd = findEpmd();
  if (!executable(BROKER_SCRIPT) || epmd === undefined) {
    throw new Error(`rabbitmq-server is not installed (${BROKER_SCRIPT}); install: ${BROKER_INSTALL}`);
  }
  const [port, distPort, epmdPort] = await freePorts(3) as [number, number, number];
  const dir = mkdtempSync(join(tmpdir(), "sluice-rabbitmq-"));
  const empty = join(dir, "empty");
  writeFileSync(empty, "");
  writeFileSync(join(dir, "rabbitmq.conf"), "");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir, // the Erlang cookie goes here, not in the user's home
    LANG: "C.UTF-8",
    EPMD_BIN: epmd,
    BROKER_SCRIPT,
    BROKER_DIR: dir,
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: "127.0.0.1",
    RABBITMQ_CONF_ENV_FILE: empty,
    RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq.conf"),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, "advanced.config"),
    RABBITMQ_ENABLED_PLUGINS_FILE: empty,
    RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: join(dir, "log"),
    RABBITMQ_PID_FILE: join(dir, "broker.pid"),
    RABBITMQ_NODENAME: `sluice-test-${process.pid}-${port}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: "-kernel inet_dist_use_interface {127,0,0,1}",
    RABBITMQ_LOGS: "-",
    ERL_CRASH_DUMP: join(dir, "erl_crash.dump"), // a broker that dies at start dumps here, not in the working directory
  };
  const watched = startWatched(WATCHDOG, { env });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await watched.stop();
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const deadline = performance.now() + timeoutMs;
  let gone = false;
  void watched.exited.then(() => (gone = true));
  const brokerExit = join(dir, "exited");
  while (!(await speaksAmqp(port))) {
    const exited = gone || existsSync(brokerExit);
    if (exited || performance.now() > deadline) {
      const code = existsSync(brokerExit) ? ` with code ${readFileSync(brokerExit, "utf8").trim()}` : "";
      const output = watched.output();
      await stop();
      const why = exited
        ? `exited${code} before it accepted connections`
        : `did not accept AMQP connections within ${timeoutMs / 1000} s`;
      throw new Error(`rabbitmq-server ${why}:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  watched.quiet();
  let pid: number;
  try {
    pid = Number(readFileSync(env.RABBITMQ_PID_FILE!, "utf8").trim());
  } catch (error) {
    await stop();
    throw new Error(`rabbitmq-server wrote no pid file: ${String(error)}`);
  }
  return { port, url: `amqp://guest:guest@127.0.0.1:${port}`, pid, stop };
}
