// Event log on a Redis Stream (XADD with MAXLEN ~ N). Redis being away must neither lose
// events nor block the caller, so append() only enqueues: a single flusher drains the
// queue in order whenever Redis is connected. The queue is bounded; overflow drops the
// oldest entry and counts it.
import { once } from 'node:events';
import type { Redis, RedisOptions } from 'ioredis';
import { openRedis } from '../redis.ts';
import type { Hint } from '../hints.ts';
import { parseHint } from '../parse.ts';
import { inRange, type EventLog, type ReadQuery } from './types.ts';

export const DEFAULT_STREAM_KEY = 'meshflow:events';

export interface RedisEventLogOptions {
  readonly key?: string;
  /** Approximate stream length kept by Redis (MAXLEN ~). */
  readonly maxLen?: number;
  /** Most entries held in memory while Redis is unreachable. */
  readonly maxBuffered?: number;
  /** Entries per pipelined write. */
  readonly batchSize?: number;
  readonly redis?: RedisOptions;
}

export class RedisEventLog implements EventLog {
  readonly key: string;
  readonly redis: Redis;
  /** Entries thrown away because the buffer was full. */
  droppedCount = 0;
  writtenCount = 0;
  lastError: Error | undefined;
  private readonly queue: string[] = [];
  private readonly maxLen: number;
  private readonly maxBuffered: number;
  private readonly batchSize: number;
  /** Entries sent whose replies were lost: they may or may not be in the stream. */
  private uncertain = 0;
  private flushing: Promise<void> | undefined;
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(url: string, options: RedisEventLogOptions = {}) {
    this.key = options.key ?? DEFAULT_STREAM_KEY;
    this.maxLen = options.maxLen ?? 100_000;
    this.maxBuffered = options.maxBuffered ?? 100_000;
    this.batchSize = options.batchSize ?? 100;
    this.redis = openRedis(url, {
      // Fail fast when disconnected: our queue, not ioredis', holds entries, so order is ours.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), 2000),
      lazyConnect: false,
      ...options.redis,
    });
    this.redis.on('error', (err: Error) => {
      this.lastError = err;
    });
    this.redis.on('ready', () => this.kick());
  }

  /** Entries waiting for Redis. */
  get buffered(): number {
    return this.queue.length;
  }

  append(event: Hint): Promise<void> {
    if (this.closed) return Promise.reject(new Error('event log closed'));
    if (this.queue.length >= this.maxBuffered) {
      // Never the entry being written (index 0 may be in flight): drop the oldest waiting one.
      this.queue.splice(this.flushing === undefined ? 0 : Math.min(this.batchSize, this.queue.length - 1), 1);
      this.droppedCount++;
    }
    this.queue.push(JSON.stringify(event));
    this.kick();
    return Promise.resolve();
  }

  /** Resolves once everything appended so far is in Redis (waits through outages). */
  flush(): Promise<void> {
    if (this.queue.length === 0 && this.flushing === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.kick();
    });
  }

  async read(query: ReadQuery = {}): Promise<Hint[]> {
    // Unlike append, a read is worth waiting for, but not forever.
    if (this.redis.status !== 'ready') {
      await Promise.race([
        once(this.redis, 'ready'),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`redis not ready: ${this.lastError?.message ?? this.redis.status}`)), 10_000).unref()),
      ]);
    }
    const out: Hint[] = [];
    const seen = new Set<string>();
    const limit = query.limit ?? Infinity;
    let start = '-';
    // Page through with XRANGE; entries are filtered on hint ts, since stream ids are
    // Redis' arrival times (later than ts for entries written after an outage).
    for (;;) {
      const page = await this.redis.xrange(this.key, start, '+', 'COUNT', 500);
      for (const [id, fields] of page) {
        start = `(${id}`;
        const json = fieldValue(fields, 'hint');
        if (json === undefined) continue;
        const parsed = parseHint(json);
        if (!parsed.ok || !inRange(parsed.hint, query)) continue;
        // A write retried after a lost reply can appear twice; (source, seq) names a hint.
        const k = `${parsed.hint.source}\u0000${parsed.hint.seq}`;
        if (seen.has(k)) continue;
        seen.add(k);
        out.push(parsed.hint);
        if (out.length >= limit) return out;
      }
      if (page.length < 500) return out;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.redis.status === 'ready') await this.flush();
    this.redis.disconnect();
  }

  private kick(): void {
    if (this.flushing !== undefined || this.redis.status !== 'ready') return;
    const before = this.writtenCount;
    this.flushing = this.drain().finally(() => {
      this.flushing = undefined;
      if (this.queue.length === 0) {
        const w = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of w) resolve();
      } else if (this.writtenCount > before) {
        this.kick();
      } else if (!this.closed) {
        // Connected but refused (e.g. the key holds another type): retry later, not in a tight loop.
        setTimeout(() => this.kick(), 500).unref();
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && this.redis.status === 'ready') {
      if (this.uncertain > 0 && !(await this.settleUncertain())) return;
      const batch = this.queue.slice(0, this.batchSize);
      const pipe = this.redis.pipeline();
      for (const json of batch) pipe.xadd(this.key, 'MAXLEN', '~', this.maxLen, '*', 'hint', json);
      let results: Array<[Error | null, unknown]> | null;
      try {
        results = await pipe.exec();
      } catch (err) {
        this.lastError = err as Error;
        this.uncertain = batch.length;
        return;
      }
      let ok = 0;
      while (ok < batch.length && results?.[ok]?.[0] === null) ok++;
      this.queue.splice(0, ok);
      this.writtenCount += ok;
      if (ok < batch.length) {
        // Redis runs a pipeline in order, so the written ones are a prefix; the rest is unknown.
        this.lastError = results?.[ok]?.[0] ?? new Error('pipeline failed');
        this.uncertain = batch.length - ok;
        return;
      }
    }
  }

  /**
   * After a lost reply, drop from the queue the entries that did reach Redis (found among the
   * stream's newest), so a retry writes each event once. False if Redis is gone again.
   */
  private async settleUncertain(): Promise<boolean> {
    let recent: Array<[string, string[]]>;
    try {
      recent = await this.redis.xrevrange(this.key, '+', '-', 'COUNT', this.uncertain + 1000);
    } catch (err) {
      this.lastError = err as Error;
      return false;
    }
    const present = new Set(recent.map(([, f]) => fieldValue(f, 'hint')));
    let n = 0;
    while (n < this.uncertain && present.has(this.queue[n])) n++;
    this.queue.splice(0, n);
    this.writtenCount += n;
    this.uncertain = 0;
    return true;
  }
}

function fieldValue(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
