// Opening an event log from one string: a redis:// URL (optional ?key=stream) or a file path.
import { FileEventLog } from './file.ts';
import { RedisEventLog, DEFAULT_STREAM_KEY, type RedisEventLogOptions } from './redis.ts';
import type { EventLog, EventSource } from './types.ts';
import { readFileLog } from './file.ts';

export type { EventLog, EventSource, ReadQuery } from './types.ts';
export { FileEventLog, readFileLog } from './file.ts';
export { RedisEventLog, DEFAULT_STREAM_KEY } from './redis.ts';

export function isRedisTarget(target: string): boolean {
  return /^(rediss?|redis\+sentinel):\/\//.test(target);
}

/** Splits our `key` query parameter off a Redis URL (ioredis would read it as an option). */
export function splitRedisTarget(target: string): { url: string; key: string } {
  const u = new URL(target);
  const key = u.searchParams.get('key') ?? DEFAULT_STREAM_KEY;
  u.searchParams.delete('key');
  return { url: u.toString(), key };
}

export async function openEventLog(target: string, redis: Omit<RedisEventLogOptions, 'key'> = {}): Promise<EventLog> {
  if (isRedisTarget(target)) {
    const { url, key } = splitRedisTarget(target);
    return new RedisEventLog(url, { ...redis, key });
  }
  return FileEventLog.open(target);
}

/** Opens a log for reading only: a missing file is an error rather than a new empty log. */
export function openEventSource(target: string): EventSource {
  if (isRedisTarget(target)) {
    const { url, key } = splitRedisTarget(target);
    return new RedisEventLog(url, { key });
  }
  return { read: (query) => readFileLog(target, query), close: async () => {} };
}
