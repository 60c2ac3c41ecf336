/** Argument checks shared by the Redis adapter, in the style of `src/_internal/validate.ts`. */
import { describe } from "../_internal/validate.ts";

export function assertName(value: unknown, call: string, param: string): void {
  if (typeof value !== "string" || value.length === 0) {
    throw new TypeError(`${call}: '${param}' must be a non-empty string, received ${describe(value)}`);
  }
}

export function assertClient(client: unknown, call: string, needsDuplicate: boolean): void {
  const candidate = client as { sendCommand?: unknown; duplicate?: unknown } | null;
  if (
    candidate === null || typeof candidate !== "object" || typeof candidate.sendCommand !== "function" ||
    (needsDuplicate && typeof candidate.duplicate !== "function")
  ) {
    const needs = needsDuplicate ? "sendCommand() and duplicate()" : "sendCommand()";
    throw new TypeError(
      `${call}: 'client' must be a connected node-redis client with ${needs}, received ${describe(client)}`,
    );
  }
}
