/**
 * How many entries of a stream a consumer group has not been handed yet.
 */
import { parseEntries, parseInfoList, text } from "./_reply.ts";
import type { RedisCommandClient } from "./types.ts";

/**
 * The group's lag: entries added after the last one delivered to the group.
 * Redis 7+ reports it in `XINFO GROUPS` (`lag`); before 7, or when Redis cannot
 * tell (an entry was deleted after the group's position), the entries after
 * `last-delivered-id` are counted with `XRANGE`, up to `cap` (a result of
 * `cap` means at least `cap`: enough to know whether the producer must wait).
 */
export async function groupLag(
  client: RedisCommandClient,
  stream: string,
  group: string,
  cap: number,
): Promise<number> {
  const groups = parseInfoList(await client.sendCommand(["XINFO", "GROUPS", stream]));
  const info = groups.find((candidate) => text(candidate.name) === group);
  if (info === undefined) {
    throw new Error(`toRedisStream: consumer group "${group}" does not exist on stream "${stream}"`);
  }
  const lag = info.lag;
  if (typeof lag === "number") return lag;
  if (typeof lag === "string" && lag !== "") return Number(lag);
  // Inclusive range (Redis 5 has no exclusive "(" ranges): drop the delivered entry itself.
  const last = text(info["last-delivered-id"]);
  const entries = parseEntries(await client.sendCommand(["XRANGE", stream, last, "+", "COUNT", String(cap + 1)]));
  const after = entries.length > 0 && entries[0]!.id === last ? entries.length - 1 : entries.length;
  return Math.min(after, cap);
}
