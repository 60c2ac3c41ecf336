/**
 * Suites that need a service the machine may not have (redis-server, rabbitmq-server, Chromium).
 *
 * `serviceSuite(name, service)` looks the service's command up once, when the suite is defined:
 * - found: an ordinary uvu suite; `path` is the executable to start.
 * - missing: every test of the suite is skipped (uvu counts it under "Skipped") and one line says
 *   so: `skipped: redis (redis-server not found; install: apt-get install -y redis-server)`.
 * - missing under `CI=true`: one test fails naming the service (CI never passes by skipping) and
 *   the suite's own tests are skipped.
 * The suite's hooks (`before`, `after`, `.each`) are not registered when the service is missing:
 * they usually start or stop it.
 */
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import process from "node:process";
import { type Callback, suite, type Test } from "uvu";

export interface Service {
  /** What the line names: "redis", "rabbitmq", "chromium". */
  name: string;
  /** The executable, looked up on PATH ("redis-server"), or an absolute path. */
  command: string;
  /** The command that installs it, e.g. "apt-get install -y redis-server". */
  install: string;
  /** Absolute paths tried after PATH, e.g. "/usr/sbin/rabbitmq-server" (sbin is not on every user's PATH). */
  candidates?: string[];
}

export interface LookupEnv {
  PATH?: string;
  CI?: string;
}

function isExecutable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable named `command` on `pathList` (PATH's syntax), then in `candidates`; undefined if none. */
export function findExecutable(command: string, pathList = "", candidates: string[] = []): string | undefined {
  if (isAbsolute(command)) return isExecutable(command) ? command : undefined;
  const suffixes = process.platform === "win32" ? ["", ".exe", ".cmd"] : [""];
  for (const dir of pathList.split(delimiter)) {
    if (dir === "") continue;
    for (const suffix of suffixes) {
      const file = join(dir, command + suffix);
      if (isExecutable(file)) return file;
    }
  }
  return candidates.find(isExecutable);
}

/** True when the environment says it is CI (`CI=true` or `CI=1`, as CI systems set it). */
export function isCI(env: LookupEnv = process.env): boolean {
  return env.CI === "true" || env.CI === "1";
}

export type ServiceStatus =
  | { state: "found"; path: string }
  | { state: "skip"; line: string }
  | { state: "fail"; line: string };

/** Where `service` is, or the one line that says why its tests do not run. */
export function serviceStatus(service: Service, env: LookupEnv = process.env): ServiceStatus {
  const path = findExecutable(service.command, env.PATH ?? "", service.candidates);
  if (path !== undefined) return { state: "found", path };
  const why = `${service.command} not found; install: ${service.install}`;
  if (isCI(env)) return { state: "fail", line: `${service.name}: ${why} (CI=true: a missing service fails)` };
  return { state: "skip", line: `skipped: ${service.name} (${why})` };
}

export interface ServiceSuite<T> {
  test: Test<T>;
  /** The service's executable when found. */
  path: string | undefined;
  status: ServiceStatus;
}

/** A uvu suite whose tests run only where `service` is installed (see the file's comment). */
export function serviceSuite<T = Record<string, unknown>>(
  title: string,
  service: Service,
  env: LookupEnv = process.env,
): ServiceSuite<T> {
  const real = suite<T>(title);
  const status = serviceStatus(service, env);
  if (status.state === "found") return { test: real, path: status.path, status };
  if (status.state === "fail") {
    real(status.line, () => {
      throw new Error(status.line);
    });
  } else {
    console.log(status.line);
  }
  const ignore = Object.assign((_hook: Callback<T>): void => {}, { each: (_hook: Callback<T>): void => {} });
  const test = Object.assign((name: string, _body: Callback<T>): void => real.skip(name), {
    only: (name: string, _body: Callback<T>): void => real.skip(name),
    skip: (name?: string, _body?: Callback<T>): void => real.skip(name),
    before: ignore,
    after: ignore,
    run: (): void => real.run(),
  });
  return { test, path: undefined, status };
}
