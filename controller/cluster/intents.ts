// The group's intents in Redis: the controller that speaks for the group writes each intent record
// that a step changed (one hash field per intent id, compared by identity: records are immutable, so
// an unchanged intent costs nothing), and a controller that takes over reads them back and adopts
// them with their numbers and path versions, so it keeps the rules already on the switches and
// moves or deletes them by their cookies as the intents' owner would have.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { IntentRecord } from '../intents/types.ts';

/** What the mirror needs of the intent service. */
export interface IntentSink {
  adopt(records: readonly IntentRecord[]): number;
}

type Stored = Omit<IntentRecord, 'touched'> & { readonly touched: readonly string[] };

export function encodeRecord(r: IntentRecord): string {
  const stored: Stored = { ...r, touched: [...r.touched] };
  return JSON.stringify(stored);
}

export function decodeRecord(text: string): IntentRecord | undefined {
  try {
    const v = JSON.parse(text) as Partial<Stored>;
    if (typeof v.id !== 'string' || typeof v.num !== 'number' || typeof v.version !== 'number' || v.spec === undefined || !Array.isArray(v.touched)) return undefined;
    // JSON drops the members that are undefined (no path, no reason): they come back as such.
    const stored = v as Stored;
    return { ...stored, path: stored.path ?? undefined, reason: stored.reason ?? undefined, touched: new Set(stored.touched) };
  } catch {
    return undefined;
  }
}

export class IntentMirror {
  readonly counters = { written: 0, removed: 0, restored: 0, errors: 0 };
  private last: ReadonlyMap<string, IntentRecord> = new Map();

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    /** Only the group's voice writes (a slave's intents are not the group's). */
    private readonly speaking: () => boolean,
    private readonly log?: Logger,
  ) {}

  /** After an intent step: the records it changed go to Redis. */
  write(records: ReadonlyMap<string, IntentRecord>): void {
    const previous = this.last;
    this.last = records;
    if (!this.speaking()) return;
    const put: string[] = [];
    for (const [id, r] of records) if (previous.get(id) !== r) put.push(id, encodeRecord(r));
    const gone = [...previous.keys()].filter((id) => !records.has(id));
    if (put.length > 0) this.done(this.redis.hset(this.key, ...put), () => (this.counters.written += put.length / 2));
    if (gone.length > 0) this.done(this.redis.hdel(this.key, ...gone), () => (this.counters.removed += gone.length));
  }

  /** Reads the group's intents and hands them to the service; returns how many it took. */
  async restore(sink: IntentSink): Promise<number> {
    const all = await this.redis.hgetall(this.key);
    const records = Object.values(all).flatMap((t) => decodeRecord(t) ?? []);
    const n = sink.adopt(records);
    this.counters.restored += n;
    return n;
  }

  private done(p: Promise<unknown>, ok: () => void): void {
    p.then(ok, (err: Error) => {
      this.counters.errors++;
      this.log?.warn({ err: err.message }, 'cluster: intent write to Redis failed');
    });
  }
}
