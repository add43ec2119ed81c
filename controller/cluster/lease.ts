// Leases in Redis: one key per thing that must have one owner (a switch, the group's voice on the
// bus), taken with SET NX PX and renewed while held. Each take draws a fencing number from a Redis
// counter (INCR), so a later holder always carries a larger number than every earlier one: the
// number becomes the OpenFlow generation_id of the holder's ROLE_REQUEST, and the epoch of its hints.
//
// Claims for every name go out in one pipeline per round, so the cost per round is one round trip
// whatever the number of switches.
import type { Redis } from 'ioredis';
import { openRedis } from '../../bus/redis.ts';

/**
 * What a claim found: whether the lease is ours now, the name's fencing counter (our epoch when it
 * is ours; the current holder's otherwise, or the last one's), and who holds it (undefined: nobody).
 */
export interface ClaimResult {
  readonly held: boolean;
  readonly epoch: number;
  readonly owner: string | undefined;
}

/**
 * How to claim a name: 'take' a free lease; 'peek' only (renew it if ours); 'with' take it if free
 * and we hold the lease named by `with` in the same step (the group's leader takes free switches at
 * once, the others wait a round so that one controller tends to master them all).
 */
export interface Claim {
  readonly name: string;
  readonly mode: 'take' | 'peek' | 'with';
  readonly with?: string;
}

/** The slice of a lease store the role keeper needs (tests may stand in for Redis). */
export interface LeaseStore {
  /** One step per claim, in order, as one round trip. */
  claim(claims: readonly Claim[], owner: string, ttlMs: number): Promise<ClaimResult[]>;
  /** Lets go of leases that are still ours (an orderly stop hands over at once rather than at expiry). */
  release(names: readonly string[], owner: string): Promise<void>;
  close(): Promise<void>;
}

// KEYS: lease, epoch counter, the lease that mode 'with' asks about. ARGV: owner, ttl ms, mode.
// Returns {held 1/0, counter, owner or ''}.
const CLAIM = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, tonumber(redis.call('GET', KEYS[2]) or '0'), cur}
end
if cur == false and (ARGV[3] == 'take' or (ARGV[3] == 'with' and redis.call('GET', KEYS[3]) == ARGV[1])) then
  redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
  return {1, redis.call('INCR', KEYS[2]), ARGV[1]}
end
return {0, tonumber(redis.call('GET', KEYS[2]) or '0'), cur or ''}
`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

interface LeaseCommands {
  meshflowClaim(lease: string, epoch: string, other: string, owner: string, ttlMs: number, mode: string): Promise<[number, number, string]>;
  meshflowRelease(lease: string, owner: string): Promise<number>;
}

export interface RedisLeaseOptions {
  /** Key prefix (default "meshflow:cluster"): groups sharing one Redis keep apart by prefix. */
  readonly prefix?: string;
  /** A command unanswered this long fails (default 500 ms): a blocked Redis must not stall renewal checks. */
  readonly commandTimeoutMs?: number;
}

export class RedisLeaseStore implements LeaseStore {
  readonly redis: Redis;
  private readonly prefix: string;

  constructor(url: string, opts: RedisLeaseOptions = {}) {
    this.prefix = opts.prefix ?? 'meshflow:cluster';
    // No offline queue: while disconnected a claim fails at once instead of waiting to be sent late,
    // when a lease it would renew may have gone to someone else.
    this.redis = openRedis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: opts.commandTimeoutMs ?? 500,
      lazyConnect: true,
      retryStrategy: () => 200,
    });
    this.redis.on('error', () => undefined);
    this.redis.defineCommand('meshflowClaim', { numberOfKeys: 3, lua: CLAIM });
    this.redis.defineCommand('meshflowRelease', { numberOfKeys: 1, lua: RELEASE });
  }

  /** Connects once (later drops reconnect on their own). */
  async connect(): Promise<void> {
    await this.redis.connect();
  }

  leaseKey(name: string): string {
    return `${this.prefix}:lease:${name}`;
  }

  epochKey(name: string): string {
    return `${this.prefix}:epoch:${name}`;
  }

  async claim(claims: readonly Claim[], owner: string, ttlMs: number): Promise<ClaimResult[]> {
    if (claims.length === 0) return [];
    const p = this.redis.pipeline() as unknown as LeaseCommands & { exec(): Promise<[Error | null, unknown][] | null> };
    for (const c of claims) void p.meshflowClaim(this.leaseKey(c.name), this.epochKey(c.name), this.leaseKey(c.with ?? c.name), owner, Math.round(ttlMs), c.mode);
    const replies = await p.exec();
    if (replies === null) throw new Error('redis pipeline was discarded');
    return replies.map(([err, value]) => {
      if (err) throw err;
      const [held, epoch, who] = value as [number, number, string];
      return { held: held === 1, epoch, owner: who === '' ? undefined : who };
    });
  }

  async release(names: readonly string[], owner: string): Promise<void> {
    if (names.length === 0) return;
    const p = this.redis.pipeline() as unknown as LeaseCommands & { exec(): Promise<unknown> };
    for (const n of names) void p.meshflowRelease(this.leaseKey(n), owner);
    await p.exec();
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
