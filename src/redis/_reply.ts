/**
 * Reads Redis replies in every shape node-redis hands them over: raw RESP2
 * arrays (node-redis 4, or a raw `sendCommand`), RESP3 maps as `Map`s or plain
 * objects, and the objects node-redis 5+ builds for some stream commands.
 * Strings may arrive as Buffers when the client maps them so.
 */

/** A stream entry; `fields` is null for an entry that was deleted while pending. */
export interface StreamEntry {
  id: string;
  fields: Record<string, string> | null;
}

const decoder = new TextDecoder();

export function text(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return decoder.decode(value);
  return String(value);
}

/** Field-value pairs from a flat `[f, v, f, v]` array, a `Map` or an object; null for a deleted entry. */
export function parseFields(raw: unknown): Record<string, string> | null {
  if (raw === null || raw === undefined) return null;
  const fields: Record<string, string> = {};
  if (Array.isArray(raw)) {
    for (let i = 0; i + 1 < raw.length; i += 2) fields[text(raw[i])] = text(raw[i + 1]);
  } else if (raw instanceof Map) {
    for (const [key, value] of raw) fields[text(key)] = text(value);
  } else if (typeof raw === "object") {
    for (const key of Object.keys(raw)) fields[key] = text((raw as Record<string, unknown>)[key]);
  }
  return fields;
}

/** A list of entries: `[[id, fields], ...]` or `[{ id, message }, ...]`. */
export function parseEntries(list: unknown): StreamEntry[] {
  if (!Array.isArray(list)) return [];
  const entries: StreamEntry[] = [];
  for (const entry of list) {
    if (Array.isArray(entry)) {
      entries.push({ id: text(entry[0]), fields: parseFields(entry[1]) });
    } else if (entry !== null && typeof entry === "object" && "id" in entry) {
      const record = entry as { id: unknown; message?: unknown; fields?: unknown };
      entries.push({ id: text(record.id), fields: parseFields(record.message ?? record.fields) });
    }
  }
  return entries;
}

/** The entries of `stream` in an `XREAD`/`XREADGROUP` reply (null when the block timed out). */
export function parseStreamRead(reply: unknown, stream: string): StreamEntry[] {
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) {
    for (const item of reply) {
      if (Array.isArray(item)) {
        if (text(item[0]) === stream) return parseEntries(item[1]);
      } else if (item !== null && typeof item === "object" && "name" in item) {
        const record = item as { name: unknown; messages?: unknown };
        if (text(record.name) === stream) return parseEntries(record.messages);
      }
    }
    return [];
  }
  if (reply instanceof Map) {
    for (const [key, value] of reply) if (text(key) === stream) return parseEntries(value);
    return [];
  }
  if (typeof reply === "object") return parseEntries((reply as Record<string, unknown>)[stream]);
  return [];
}

/** An `XAUTOCLAIM` reply: the cursor for the next call and the claimed entries. */
export function parseAutoClaim(reply: unknown): { cursor: string; entries: StreamEntry[] } {
  if (Array.isArray(reply)) return { cursor: text(reply[0]), entries: parseEntries(reply[1]) };
  const record = (reply ?? {}) as { nextId?: unknown; messages?: unknown };
  return { cursor: text(record.nextId ?? "0-0"), entries: parseEntries(record.messages) };
}

/** A key-value record from a flat array, a `Map` or an object. */
export function parseRecord(raw: unknown): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  if (Array.isArray(raw)) {
    for (let i = 0; i + 1 < raw.length; i += 2) record[text(raw[i])] = raw[i + 1];
  } else if (raw instanceof Map) {
    for (const [key, value] of raw) record[text(key)] = value;
  } else if (raw !== null && typeof raw === "object") {
    Object.assign(record, raw);
  }
  return record;
}

/** An `XINFO GROUPS` or `XINFO CONSUMERS` reply: one record per group or consumer. */
export function parseInfoList(reply: unknown): Record<string, unknown>[] {
  return Array.isArray(reply) ? reply.map(parseRecord) : [];
}

/** True for Redis's "the group already exists" error. */
export function isBusyGroup(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("BUSYGROUP");
}

/** Creates `group` on `stream` (and the stream) if missing, reading from the start of the stream. */
export async function ensureGroup(
  client: { sendCommand(args: string[]): Promise<unknown> },
  stream: string,
  group: string,
  startId: string,
): Promise<void> {
  try {
    await client.sendCommand(["XGROUP", "CREATE", stream, group, startId, "MKSTREAM"]);
  } catch (error) {
    if (!isBusyGroup(error)) throw error;
  }
}
